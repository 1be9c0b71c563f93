"""Errors whose messages a student can read, in either language."""

from __future__ import annotations


class InputError(ValueError):
    """A value a student gave that cannot be used; carries a translation key and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        from .i18n import translate  # late import: i18n reads JSON files, errors are imported everywhere

        super().__init__(translate(key, "en", **params))

    def message(self, lang: str) -> str:
        """The message in the given language."""
        from .i18n import translate

        return translate(self.key, lang, **self.params)
