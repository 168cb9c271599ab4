"""Rejected rows of a lead or deal import: what was wrong (row, field, value, reason) and a CSV to fix them in."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence


@dataclass
class Reject:
    row: int
    field: str
    value: str
    reason: str

    def text(self) -> str:
        return f"row {self.row}: {self.field} {self.value!r}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "value": self.value, "reason": self.reason}


def write_rejects(out: Path, headers: Sequence[str], rejects: Sequence[Reject],
                  cells_by_row: dict[int, Sequence[str | None]]) -> Path:
    """The rejects with the original cells beside them, written to a temporary file and renamed (never half a file)."""
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "field", "value", "reason", *headers])
        for r in rejects:
            w.writerow([r.row, r.field, r.value, r.reason, *(cells_by_row.get(r.row) or [])])
    tmp.replace(out)
    return out


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.stem + "-rejects.csv")
