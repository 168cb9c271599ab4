"""The small frozen value a core service returns to say what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping


@dataclass(frozen=True)
class Changes:
    """Which tables and rows a write touched; views refresh only what they show."""

    rows: Mapping[str, frozenset[int]] = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""

    @classmethod
    def of(cls, table: str, ids: Iterable[int], note: str = "") -> "Changes":
        return cls(MappingProxyType({table: frozenset(ids)}), note)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self.rows)

    def touched(self, table: str) -> bool:
        return table in self.rows

    def ids(self, table: str) -> frozenset[int]:
        return self.rows.get(table, frozenset())

    def merge(self, other: "Changes") -> "Changes":
        merged: dict[str, frozenset[int]] = dict(self.rows)
        for table, ids in other.rows.items():
            merged[table] = merged.get(table, frozenset()) | ids
        note = "; ".join(n for n in (self.note, other.note) if n)
        return Changes(MappingProxyType(merged), note)

    def __bool__(self) -> bool:
        return bool(self.rows)


NO_CHANGES = Changes()
