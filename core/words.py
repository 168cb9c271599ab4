"""Counts in words for messages: '1 account', '2 accounts', '3 days off'."""

from __future__ import annotations

# Nouns whose plural is not the singular + "s"; a phrase is pluralised on its head noun.
_PLURALS = {"day off": "days off", "expense audit entry": "expense audit entries", "territory": "territories",
            "person": "people", "entry": "entries", "county": "counties"}


def counted(n: int, thing: str, plural: str | None = None) -> str:
    """'1 new conflict', '2 new conflicts', '1,500 accounts' (thousands separated, as every count a user reads)."""
    if n == 1:
        return f"1 {thing}"
    return f"{n:,} {plural or _PLURALS.get(thing, thing + 's')}"
