"""Exporting accounts to CSV or XLSX, with spreadsheet formula injection neutralised."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

from core import opening_hours
from core.accounts import frequency_label
from core.files import CannotWrite, write_atomically
from core.progress import Progress, check_cancelled
from core.storage.database import Store

# Header, SQL expression. The headers are the "fieldatlas" source in mapping.py, so a file exported
# here imports back without a mapping.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("CRM id", "a.external_id"), ("Name", "a.name"), ("Street", "a.street"), ("City", "a.city"),
    ("State", "a.state"), ("ZIP", "a.postal_code"), ("Country", "a.country"), ("Phone", "a.phone"),
    ("Website", "a.website"), ("Industry", "a.industry"), ("Employees", "a.employees"),
    ("Revenue", "a.annual_revenue_cents"), ("Owner", "r.name"), ("Latitude", "a.lat"), ("Longitude", "a.lon"),
    ("Located by", "a.geocode_precision"), ("Customer type", "a.customer_type"), ("Segment", "a.segment"),
    ("Tier", "a.tier"), ("Status", "a.status"), ("Opening hours", "a.opening_hours"),
    ("Visit frequency", "a.visit_frequency"), ("Visit minutes", "a.visit_minutes"),
    ("Visit weekdays", "a.allowed_weekdays"), ("Notes", "a.notes"),
)
FORMATS = ("csv", "xlsx")
# OWASP's list: a cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportProblem(ValueError):
    """The export cannot be written; the message says why."""


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _rows(store: Store, protect: bool = True) -> Iterator[list[Any]]:
    sql = ("SELECT " + ", ".join(expr for _, expr in EXPORT_COLUMNS) +
           " FROM accounts a LEFT JOIN reps r ON r.id = a.owner_id WHERE a.deleted_at IS NULL ORDER BY a.name, a.id")
    headers = [h for h, _ in EXPORT_COLUMNS]
    revenue, hours, frequency = (headers.index(h) for h in ("Revenue", "Opening hours", "Visit frequency"))
    for row in store.conn.execute(sql):
        values = list(row)
        # Hours and frequency in words ("Mon–Fri 08:00–17:00", "Every 2 weeks"), which the import reads back.
        values[hours] = opening_hours.describe(values[hours]) or None
        values[frequency] = frequency_label(values[frequency])
        if values[revenue] is not None:
            # Whole dollars in the file, as CRMs write them; cents are kept when there are any.
            cents = values[revenue]
            values[revenue] = cents // 100 if cents % 100 == 0 else cents / 100
        yield [neutralise(v) for v in values] if protect else values


def export_accounts(store: Store, out: Path | str, fmt: str | None = None, *,
                    progress: Progress | None = None) -> int:
    """Write the accounts to a CSV or XLSX file (written to a temporary file, then renamed); returns rows written."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise ExportProblem(f"unknown export format {fmt!r}; use csv or xlsx")
    total = store.scalar("SELECT count(*) FROM accounts WHERE deleted_at IS NULL") or 0

    def write(tmp: str) -> int:
        count = 0
        if fmt == "csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow([h for h, _ in EXPORT_COLUMNS])
                for values in _rows(store):
                    writer.writerow(values)
                    count += 1
                    if count % 5000 == 0:
                        check_cancelled(progress)
                        if progress is not None:
                            progress.update(count, total, "writing")
        else:
            import openpyxl

            from openpyxl.cell import WriteOnlyCell

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet("Accounts")
            ws.append([h for h, _ in EXPORT_COLUMNS])
            for values in _rows(store, protect=False):
                # In a workbook the text stays exact: risky cells are stored as plain strings, never
                # as formulas (openpyxl would otherwise turn "=..." into a formula).
                for i, v in enumerate(values):
                    if isinstance(v, str) and v.startswith(FORMULA_STARTS):
                        cell = WriteOnlyCell(ws, value=v)
                        cell.data_type = "s"
                        values[i] = cell
                ws.append(values)
                count += 1
                if count % 5000 == 0:
                    check_cancelled(progress)
                    if progress is not None:
                        progress.update(count, total, "writing")
            wb.save(tmp)
        return count

    try:
        count = write_atomically(out, write, suffix="." + fmt)
    except CannotWrite as exc:
        raise ExportProblem(str(exc)) from exc
    if progress is not None:
        progress.update(count, total, "done")
    return count
