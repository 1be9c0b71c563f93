"""Errors whose messages a student can read, in either language."""

from __future__ import annotations

import numbers


class InputError(ValueError):
    """A value a student gave that cannot be used; carries a translation key and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        """The message in the given language, its numbers written as that language writes them (es 4.096 · 1,5)."""
        from .i18n import format_number, translate  # late import: i18n reads JSON files, errors are imported everywhere

        shown = {
            name: format_number(value, lang, significant=6) if isinstance(value, numbers.Real) and not isinstance(value, bool)
            else value
            for name, value in self.params.items()
        }
        return translate(self.key, lang, **shown)
