"""Cache keys for NumPy arrays from every byte, for the st.cache_* functions that take arrays.

Streamlit's default hash samples an array of 500,000 values or more at 100,000 fixed positions, so two different
512-px RGB photos that agree there would share a cached figure. Pass `hash_funcs=BY_CONTENT` to such a cache.
"""

from __future__ import annotations

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

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._entries:
                self._items.popitem(last=False)
