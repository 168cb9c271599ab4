"""Expense and mileage exports for finance: CSV (formula-safe), XLSX (numbers, currency formats, totals) and PDF with receipts.

Every file is written to a temporary name in the target folder and renamed when complete, so a
failed export never leaves half a file under the name finance expects.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from core.expenses.common import ExpenseError, cents_to_decimal
from core.expenses.reports import PeriodReport
from core.files import CannotWrite, write_atomically
from core.importing.export import FORMULA_STARTS, neutralise
from core.money import format_cents
from core.storage.database import Store

FORMATS = ("csv", "xlsx", "pdf")
EXPENSE_HEADERS = ("Date", "Rep", "Category", "Merchant", "Business purpose", "Account", "Amount", "Currency",
                   "Per diem", "Receipt", "Duplicate receipt of", "Notes", "Report state")
MILEAGE_HEADERS = ("Date", "Rep", "Start", "Destination", "Business purpose", "Miles", "Km", "Rate", "Amount",
                   "Currency", "Vehicle", "Trip kind", "Report state")
# Excel/LibreOffice number formats per currency; others show the ISO code after the number.
CURRENCY_FORMATS = {"USD": '"$"#,##0.00', "CAD": '"CA$"#,##0.00', "GBP": '"£"#,##0.00', "EUR": '"€"#,##0.00',
                    "AUD": '"A$"#,##0.00'}


WIDTHS = {"Date": 11, "Rep": 18, "Start": 22, "Destination": 30, "Business purpose": 44, "Merchant": 22,
          "Account": 22, "Receipt": 20, "Notes": 24, "Report state": 14, "Vehicle": 14, "Amount": 12}


def currency_format(code: str) -> str:
    return CURRENCY_FORMATS.get(code, f'#,##0.00 "{code}"')


def expense_rows(report: PeriodReport) -> list[list[Any]]:
    return [[e["day"], e["rep_name"], e["category"], e["merchant"], e["business_purpose"], e["account_name"],
             cents_to_decimal(e["amount_cents"]), e["currency"], "yes" if e["per_diem"] else "",
             e["receipt_filename"] or "", f"expense {e['duplicate_of']}" if e["duplicate_of"] else "", e["notes"],
             e["report_state"] or "not on a report"] for e in report.expenses]


def mileage_rows(report: PeriodReport) -> list[list[Any]]:
    rows = []
    for t in report.trips:
        p = t["pay"]
        rate = p.single_rate()
        rows.append([t["day"], t["rep_name"], t["start_place"], t["end_place"], t["purpose"], t["miles"], t["km"],
                     rate if rate is not None else p.rate_text(), cents_to_decimal(t["amount_cents"]), t["currency"],
                     t["vehicle"], t["kind"], t["report_state"] or "not on a report"])
    return rows


def _totals(totals: dict[str, int]) -> list[tuple[str, Decimal]]:
    return [(cur, cents_to_decimal(c)) for cur, c in sorted(totals.items())] or [("USD", Decimal("0.00"))]


def _write_atomic(out: Path, suffix: str, write: Callable[[str], None]) -> None:
    try:
        write_atomically(out, write, suffix="." + suffix)
    except CannotWrite as exc:
        raise ExpenseError(f"out: {exc}") from exc


def _csv(tmp: str, headers: tuple[str, ...], rows: list[list[Any]], totals: list[tuple[str, Decimal]],
         amount_col: int, currency_col: int) -> None:
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if v is None else neutralise(v) for v in r])
        for cur, value in totals:
            line: list[Any] = [""] * len(headers)
            line[0] = "Total"
            line[amount_col] = value
            line[currency_col] = cur
            w.writerow(line)


def _xlsx(tmp: str, title: str, headers: tuple[str, ...], rows: list[list[Any]], totals: list[tuple[str, Decimal]],
          amount_col: int, currency_col: int, number_cols: dict[int, str]) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    from openpyxl.utils import get_column_letter

    for i, h in enumerate(headers, 1):
        # Wide enough to read without resizing: text columns wider, numbers just their header.
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(h, max(10, len(h) + 2))
    bold = Font(bold=True)
    ws.append([_cell(WriteOnlyCell, ws, h, font=bold) for h in headers])
    formats = {cur: currency_format(cur) for cur, _ in totals}
    for r in rows:
        line = []
        for i, v in enumerate(r):
            if i == amount_col:
                line.append(_cell(WriteOnlyCell, ws, v, number_format=formats.get(r[currency_col]) or
                                  currency_format(r[currency_col])))
            elif i in number_cols and isinstance(v, Decimal):
                line.append(_cell(WriteOnlyCell, ws, v, number_format=number_cols[i]))
            elif isinstance(v, str) and v.startswith(FORMULA_STARTS):
                # Kept as exact text: a plain string cell is never run as a formula.
                line.append(_cell(WriteOnlyCell, ws, v, data_type="s"))
            else:
                line.append(v)
        ws.append(line)
    for cur, value in totals:
        # The computed total itself (finance's systems read cached values, and openpyxl writes no cache for a
        # formula); the rows above hold the parts, so anyone can re-add them.
        line: list[Any] = [None] * len(headers)
        line[0] = _cell(WriteOnlyCell, ws, "Total", font=bold)
        line[amount_col] = _cell(WriteOnlyCell, ws, value, font=bold, number_format=currency_format(cur))
        line[currency_col] = _cell(WriteOnlyCell, ws, cur, font=bold)
        ws.append(line)
    wb.save(tmp)


def _cell(cls, ws, value, *, font=None, number_format=None, data_type=None):
    c = cls(ws, value=value)
    if font is not None:
        c.font = font
    if number_format:
        c.number_format = number_format
    if data_type:
        c.data_type = data_type
    return c


def _resolve(out: Path | str, fmt: str | None) -> tuple[Path, str]:
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise ExpenseError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return out, fmt


def export_expenses(store: Store, report: PeriodReport, out: Path | str, fmt: str | None = None) -> int:
    """Write the period's expenses (with a totals row per currency); PDF adds mileage totals and the receipts."""
    out, fmt = _resolve(out, fmt)
    rows = expense_rows(report)
    totals = _totals(report.expense_totals)
    if fmt == "csv":
        _write_atomic(out, fmt, lambda tmp: _csv(tmp, EXPENSE_HEADERS, rows, totals, 6, 7))
    elif fmt == "xlsx":
        _write_atomic(out, fmt, lambda tmp: _xlsx(tmp, "Expenses", EXPENSE_HEADERS, rows, totals, 6, 7, {}))
    else:
        from core.expenses.pdf import write_report_pdf

        _write_atomic(out, fmt, lambda tmp: write_report_pdf(store, report, tmp, with_receipts=True))
    return len(rows)


def export_mileage(store: Store, report: PeriodReport, out: Path | str, fmt: str | None = None) -> int:
    """Write the period's mileage log (IRS Pub 463 columns, rate and amount per trip, totals per currency)."""
    out, fmt = _resolve(out, fmt)
    rows = mileage_rows(report)
    totals = _totals(report.mileage_totals)
    if fmt == "csv":
        _write_atomic(out, fmt, lambda tmp: _csv(tmp, MILEAGE_HEADERS, rows, totals, 8, 9))
    elif fmt == "xlsx":
        _write_atomic(out, fmt, lambda tmp: _xlsx(tmp, "Mileage", MILEAGE_HEADERS, rows, totals, 8, 9,
                                                  {5: "0.0", 6: "0.0", 7: "0.000"}))
    else:
        from core.expenses.pdf import write_mileage_pdf

        _write_atomic(out, fmt, lambda tmp: write_mileage_pdf(store, report, tmp))
    return len(rows)


def money(cents_by_currency: dict[str, int]) -> str:
    return ", ".join(format_cents(c, cur) for cur, c in sorted(cents_by_currency.items())) or format_cents(0)
