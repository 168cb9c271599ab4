"""Exports read back: CSV formula cells neutralised, XLSX numbers and totals equal to the CSV's, PDF text and receipts."""

from __future__ import annotations

import csv
from decimal import Decimal

import openpyxl
import pypdf
import pytest

from core.expenses import ExpenseError, add_expense, add_trip, build_period
from core.expenses.exports import export_expenses, export_mileage
from tests.core.expenses.conftest import TODAY

NASTY = ["=HYPERLINK(\"http://x\")", "+SUM(A1)", "-2+3", "@cmd", "\tTabbed", "\rCarriage"]


@pytest.fixture
def month(world26, receipts):
    s, rep = world26, world26.people["rep"]
    for k, merchant in enumerate(NASTY):
        add_expense(s, rep, f"2026-11-{k + 2:02d}", category="Meals", amount=f"{10 + k}.{k}5", merchant=merchant,
                    today=TODAY)
    add_expense(s, rep, "2026-11-10", category="Parking", amount="8.00", merchant="City Parking",
                receipt=receipts["jpg"], today=TODAY)
    add_expense(s, rep, "2026-11-11", category="Lodging", amount="129.00", merchant="Hampton Inn",
                receipt=receipts["pdf"], today=TODAY)
    add_expense(s, rep, "2026-11-12", category="Meals", amount="15.00", merchant="Cafe", currency="CAD",
                receipt=receipts["png"], today=TODAY)
    add_trip(s, rep, "2026-11-03", start="Home", destination="=Acme", purpose="Review", distance="40.0",
             vehicle="Camry", today=TODAY)
    add_trip(s, rep, "2026-11-04", start="Home", destination="Office", purpose="", distance="12", kind="commute",
             today=TODAY)
    return s


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_csv_neutralises_formula_cells_and_ends_with_totals(month, tmp_path):
    out = tmp_path / "e.csv"
    export_expenses(month, build_period(month, "2026-11"), out)
    rows = _csv(out)
    merchants = [r[3] for r in rows[1:len(NASTY) + 1]]
    # = + - @ get an apostrophe; a leading tab or CR never reaches the file (input is trimmed when logged).
    assert merchants == ["'" + m for m in NASTY[:4]] + ["Tabbed", "Carriage"]
    assert all(not r[3].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)
    totals = {r[7]: Decimal(r[6]) for r in rows if r[0] == "Total"}
    expected = sum(Decimal(f"{10 + k}.{k}5") for k in range(len(NASTY))) + Decimal("137.00")
    assert totals == {"CAD": Decimal("15.00"), "USD": expected}


def test_xlsx_has_numeric_currency_cells_and_the_same_totals_as_the_csv(month, tmp_path):
    report = build_period(month, "2026-11")
    export_expenses(month, report, tmp_path / "e.csv")
    export_expenses(month, report, tmp_path / "e.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    cells = list(ws.iter_rows())
    assert rows[0][6] == "Amount"
    assert isinstance(rows[1][6], (int, float)) and cells[1][6].number_format == '"$"#,##0.00'
    assert rows[1][3] == NASTY[0] and cells[1][3].data_type == "s"  # kept as text, never a formula
    cad = next(c for c in cells[1:] if c[7].value == "CAD" and c[0].value != "Total")
    assert cad[6].number_format == '"CA$"#,##0.00'
    xlsx_totals = {r[7]: Decimal(str(r[6])).quantize(Decimal("0.01")) for r in rows if r[0] == "Total"}
    csv_totals = {r[7]: Decimal(r[6]) for r in _csv(tmp_path / "e.csv") if r[0] == "Total"}
    assert xlsx_totals == csv_totals
    # The totals row is the computed value, and it equals the sum of the lines above.
    usd_lines = sum(Decimal(str(r[6])) for r in rows[1:] if r[7] == "USD" and r[0] != "Total")
    assert usd_lines.quantize(Decimal("0.01")) == xlsx_totals["USD"]


def test_mileage_export_has_the_irs_log_columns_and_pays_only_business(month, tmp_path):
    report = build_period(month, "2026-11")
    export_mileage(month, report, tmp_path / "m.csv")
    export_mileage(month, report, tmp_path / "m.xlsx")
    rows = _csv(tmp_path / "m.csv")
    assert rows[0][:11] == ["Date", "Rep", "Start", "Destination", "Business purpose", "Miles", "Km", "Rate", "Amount",
                            "Currency", "Vehicle"]
    business = rows[1]
    assert business[3] == "'=Acme" and business[5:9] == ["40.0", "64.4", "0.725", "29.00"]
    commute = rows[2]
    assert commute[11] == "commute" and commute[8] == "0.00"
    assert [r for r in rows if r[0] == "Total"][0][8] == "29.00"
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx").active
    values = list(ws.iter_rows(values_only=True))
    assert values[1][5] == 40 and values[1][7] == 0.725 and values[1][8] == 29
    assert values[-1][0] == "Total" and values[-1][8] == 29


def test_pdf_has_summary_line_items_and_every_receipt(month, tmp_path):
    out = tmp_path / "e.pdf"
    export_expenses(month, build_period(month, "2026-11", month.people["rep"]), out)
    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Expense report 2026-11" in text and "Rita Rep" in text
    assert "Hampton Inn" in text and "$129.00" in text and "CA$15.00" in text
    assert "Mileage log" in text and "$29.00" in text
    assert "Receipt for expense" in text
    # 2 image receipts drawn on their own pages, plus the PDF receipt's page appended at the end.
    assert reader.pages[-1].extract_text().strip() == "Hotel folio 1234"
    images = sum(len(page.images) for page in reader.pages)
    assert images == 2


def test_unknown_format_and_missing_folder_are_refused(month, tmp_path):
    report = build_period(month, "2026-11")
    with pytest.raises(ExpenseError, match="format: 'docx'"):
        export_expenses(month, report, tmp_path / "e.docx")
    with pytest.raises(ExpenseError, match="does not exist"):
        export_mileage(month, report, tmp_path / "nowhere" / "m.csv")
    assert list(tmp_path.glob(".export-*")) == []


def test_without_pypdf_pdf_receipts_are_listed_not_lost(month, tmp_path, monkeypatch):
    import sys

    out = tmp_path / "e.pdf"
    report = build_period(month, "2026-11", month.people["rep"])
    monkeypatch.setitem(sys.modules, "pypdf", None)  # as if it were not installed
    export_expenses(month, report, out)
    monkeypatch.undo()
    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "PDF receipts (attached separately)" in text and "hotel.pdf" in text
    assert "Hotel folio 1234" not in text


def test_pdf_reimburses_only_what_a_manager_approved(month, tmp_path):
    from core.expenses import approve, find_report, submit

    rep, manager = month.people["rep"], month.people["manager"]
    before = build_period(month, "2026-11", rep)
    assert before.approved_totals == {}  # nothing signed yet: drafts are logged, not reimbursable
    submit(month, find_report(month, rep, "2026-11")["id"], rep)
    approve(month, find_report(month, rep, "2026-11")["id"], manager)
    # Logged after the approval: listed in the month, but on no report, so never reimbursed.
    add_expense(month, rep, "2026-11-20", category="Meals", amount="7.00", merchant="Late Lunch", today=TODAY)
    after = build_period(month, "2026-11", rep)
    assert after.totals["USD"] - after.approved_totals["USD"] == 700
    assert after.approved_totals["CAD"] == 1500
    out = tmp_path / "approved.pdf"
    export_expenses(month, after, out)
    text = pypdf.PdfReader(out).pages[0].extract_text()
    approved_usd = f"${after.approved_totals['USD'] / 100:,.2f}"
    assert "Approved to reimburse" in text and approved_usd in text
