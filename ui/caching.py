"""Caches keyed by what NumPy arrays hold, every byte of them.

Streamlit's default hash samples an array of 500,000 values or more at 100,000 fixed positions, so two different
512-px RGB photos that agree there would share a cached figure: pass `hash_funcs=BY_CONTENT` to such an st.cache_*.
`by_content` is the same idea for the few functions a playground rerun calls a dozen times, where st.cache_*'s own
argument hashing (a signature lookup and a generic hasher per argument, 0.8 ms a call) was a tenth of the rerun.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
import weakref
from collections import OrderedDict

import numpy as np

# Digests of read-only arrays that own their data (the samples, the working images): their bytes cannot change, and a
# rerun asks for the same ones again. id() is checked against a weak reference, since ids are reused after collection.
_READ_ONLY: dict[int, tuple[weakref.ref, bytes]] = {}
_READ_ONLY_LIMIT = 256


def array_digest(array: np.ndarray) -> bytes:
    """A 16-byte BLAKE2b digest of the array's shape, dtype and every value (about 1 ms for a 512-px RGB image)."""
    frozen = not array.flags.writeable and array.flags.owndata
    if frozen:
        known = _READ_ONLY.get(id(array))
        if known is not None and known[0]() is array:
            return known[1]
    digest = hashlib.blake2b(repr((array.shape, array.dtype.str)).encode(), digest_size=16)
    if array.dtype.hasobject:  # the buffer would hold pointers, not values
        digest.update(pickle.dumps(array.tolist()))
    else:
        digest.update(np.ascontiguousarray(array).data)
    value = digest.digest()
    if frozen:
        if len(_READ_ONLY) >= _READ_ONLY_LIMIT:
            _READ_ONLY.clear()
        _READ_ONLY[id(array)] = (weakref.ref(array), value)
    return value


BY_CONTENT = {np.ndarray: array_digest}


class BoundedCache:
    """A thread-safe mapping that forgets its least recently used entries beyond `entries`."""

    def __init__(self, entries: int) -> None:
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._entries = entries

    def get(self, key: object) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


def content_key(value: object) -> object:
    """A dictionary key for an argument: arrays by array_digest, containers by their items, scalars with their type."""
    if isinstance(value, np.ndarray):
        return ("array", array_digest(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(content_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, content_key(v)) for k, v in value.items()))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)  # the type too: 1, 1.0 and True are equal keys in a dict


def read_only(array: np.ndarray) -> np.ndarray:
    """The array, made read-only: a by_content result is shared by every session, and nobody may change it."""
    array.flags.writeable = False
    return array


# Per function: its results, and the keys being computed now (each with the event that says they are done).
_BY_NAME: dict[tuple, tuple[BoundedCache, dict[object, threading.Event]]] = {}
_COMPUTING_LOCK = threading.Lock()


def by_content(entries: int):
    """Decorator: results kept by the content of the arguments, the `entries` latest, shared by every session.

    A result asked for while another session computes it is waited for, not computed twice. Callers must not modify a
    result (make results read-only where they can be written); `.clear()` forgets them all.
    """
    def decorate(function):
        # A page script defines its functions anew on every rerun: the cache belongs to the function's file, name and code.
        code = function.__code__
        name = (code.co_filename, function.__qualname__, hashlib.blake2b(code.co_code + repr(code.co_consts).encode()).digest())
        results, computing = _BY_NAME.setdefault(name, (BoundedCache(entries), {}))

        @functools.wraps(function)
        def cached(*args, **kwargs):
            key = (content_key(args), content_key(dict(sorted(kwargs.items()))))
            result = results.get(key)
            if result is not None:
                return result
            # A class on one link asks for the same new result in the same instant: one session computes it and the
            # others wait for it, instead of thirty threads computing it side by side under one interpreter lock.
            with _COMPUTING_LOCK:
                done = computing.get(key)
                first = done is None
                if first:
                    done = computing[key] = threading.Event()
            if not first:
                done.wait()
                result = results.get(key)
                if result is not None:
                    return result
                return function(*args, **kwargs)  # the first one failed (or was stopped by a rerun): try again here
            try:
                result = function(*args, **kwargs)
                results.put(key, result)
                return result
            finally:
                with _COMPUTING_LOCK:
                    del computing[key]
                done.set()
        cached.clear = results.clear
        return cached
    return decorate
