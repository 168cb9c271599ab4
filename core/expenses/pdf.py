"""Expense and mileage reports as PDF (reportlab): a summary, the line items, and every receipt appended.

Image receipts are drawn one per page, scaled to fit. PDF receipts have their pages appended with
pypdf when it is installed; without it they are listed by name and SHA-256 so nothing goes missing
silently.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from core.expenses.receipts import receipt_path
from core.expenses.reports import PeriodReport
from core.money import format_cents
from core.storage.database import Store


def _styles():
    from reportlab.lib.styles import getSampleStyleSheet

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    return styles, small


def _money_text(totals: dict[str, int]) -> str:
    return ", ".join(format_cents(c, cur) for cur, c in sorted(totals.items())) or format_cents(0)


def _who(report: PeriodReport) -> str:
    names = sorted({r["rep_name"] for r in report.reports} | {t["rep_name"] for t in report.trips}
                   | {e["rep_name"] for e in report.expenses})
    if report.rep_id is not None and names:
        return names[0]
    return f"{len(names)} people" if names else "nobody"


def _summary(report: PeriodReport, title: str) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    styles, small = _styles()
    story: list = [Paragraph(title, styles["Title"]),
                   Paragraph(f"{_who(report)} · {report.first.isoformat()} to {report.last.isoformat()}", styles["Heading3"])]
    business = [t for t in report.trips if t["kind"] == "business"]
    miles = sum((t["miles"] for t in business), start=Decimal(0))
    data = [["Business trips", f"{len(business):,}", "Business miles", f"{miles:,.1f}"],
            ["Mileage", _money_text(report.mileage_totals), "Expenses", _money_text(report.expense_totals)],
            ["Total logged", _money_text(report.totals), "Receipts",
             f"{sum(1 for e in report.expenses if e['receipt_sha256']):,}"],
            # Only what a manager approved is paid; drafts and late items are listed, not reimbursed.
            ["Approved to reimburse", _money_text(report.approved_totals), "", ""]]
    t = Table(data, colWidths=[38 * mm, 52 * mm, 38 * mm, 52 * mm])
    t.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9), ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                           ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                           ("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
    story += [t, Spacer(1, 4 * mm)]
    if report.reports:
        rows = [["Rep", "Report", "State", "Submitted", "Decided by", "Note"]]
        for r in report.reports:
            rows.append([r["rep_name"], r["title"] or r["period"], r["state"], (r["submitted_at"] or "")[:16],
                         r["decided_by_name"] or "", Paragraph(r["decision_note"] or "", small)])
        rt = Table(rows, colWidths=[34 * mm, 30 * mm, 20 * mm, 28 * mm, 30 * mm, 40 * mm], repeatRows=1)
        rt.setStyle(_grid())
        story += [Paragraph("Reports", styles["Heading3"]), rt, Spacer(1, 4 * mm)]
    return story


def _grid():
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    return TableStyle([("FONTSIZE", (0, 0), (-1, -1), 7.5), ("LEADING", (0, 0), (-1, -1), 9),
                       ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])


def _expense_table(report: PeriodReport) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table

    styles, small = _styles()
    rows: list[list[Any]] = [["#", "Date", "Rep", "Category", "Merchant", "Purpose", "Amount", "Receipt"]]
    for e in report.expenses:
        receipt = "yes" if e["receipt_sha256"] else ("per diem" if e["per_diem"] else "none")
        if e["duplicate_of"]:
            receipt += f" (same as #{e['duplicate_of']})"
        rows.append([str(e["id"]), e["day"], Paragraph(e["rep_name"], small), e["category"],
                     Paragraph(e["merchant"] or "", small), Paragraph(e["business_purpose"] or e["notes"] or "", small),
                     format_cents(e["amount_cents"], e["currency"]), Paragraph(receipt, small)])
    for cur, c in sorted(report.expense_totals.items()):
        rows.append(["", "Total", "", "", "", "", format_cents(c, cur), ""])
    t = Table(rows, colWidths=[10 * mm, 17 * mm, 26 * mm, 20 * mm, 28 * mm, 46 * mm, 20 * mm, 17 * mm], repeatRows=1)
    style = _grid()
    style.add("ALIGN", (6, 0), (6, -1), "RIGHT")
    style.add("FONTNAME", (0, len(rows) - len(report.expense_totals)), (-1, -1), "Helvetica-Bold")
    t.setStyle(style)
    return [Paragraph("Expenses", styles["Heading2"]), t]


def _mileage_table(report: PeriodReport) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table

    styles, small = _styles()
    rows: list[list[Any]] = [["Date", "Start", "Destination", "Business purpose", "Miles", "Km", "Rate", "Amount", "Vehicle"]]
    for t in report.trips:
        p = t["pay"]
        rows.append([t["day"], Paragraph(t["start_place"] or "", small), Paragraph(t["end_place"] or "", small),
                     Paragraph((t["purpose"] or "") + ("" if t["kind"] == "business" else f" [{t['kind']}, not paid]"), small),
                     f"{t['miles']:,.1f}", f"{t['km']:,.1f}", Paragraph(p.rate_text(), small),
                     format_cents(t["amount_cents"], t["currency"]), Paragraph(t["vehicle"] or "", small)])
    for cur, c in sorted(report.mileage_totals.items()):
        rows.append(["Total", "", "", "", "", "", "", format_cents(c, cur), ""])
    t = Table(rows, colWidths=[17 * mm, 27 * mm, 32 * mm, 42 * mm, 12 * mm, 12 * mm, 14 * mm, 17 * mm, 17 * mm],
              repeatRows=1)
    style = _grid()
    style.add("ALIGN", (4, 0), (7, -1), "RIGHT")
    t.setStyle(style)
    return [Paragraph("Mileage log", styles["Heading2"]), t]


def _build(path: str, story: list, title: str) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    def footer(canvas, doc):
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 8 * mm, f"FieldAtlas · {title} · page {doc.page}")

    doc = SimpleDocTemplate(path, pagesize=letter, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=title, author="FieldAtlas")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def write_mileage_pdf(store: Store, report: PeriodReport, path: str) -> None:
    title = f"Mileage log {report.period}"
    _build(path, _summary(report, title) + _mileage_table(report), title)


def write_report_pdf(store: Store, report: PeriodReport, path: str, *, with_receipts: bool = True) -> None:
    """Summary, expense lines, mileage log, then each receipt (images drawn, PDFs' pages appended)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph

    styles, _ = _styles()
    title = f"Expense report {report.period}"
    story = _summary(report, title) + _expense_table(report) + _mileage_table(report)
    pdf_receipts: list[tuple[dict, Path]] = []
    missing: list[dict] = []
    seen: set[str] = set()
    if with_receipts:
        for e in report.expenses:
            if not e["receipt_sha256"] or e["receipt_sha256"] in seen:
                continue
            seen.add(e["receipt_sha256"])
            path_ = receipt_path(store, e["receipt_sha256"], e["receipt_mime"])
            if not path_.exists():
                missing.append(e)
                continue
            caption = (f"Receipt for expense #{e['id']}: {e['day']} · {e['merchant'] or e['category']} · "
                       f"{format_cents(e['amount_cents'], e['currency'])} · {e['rep_name']}")
            if e["receipt_mime"] == "application/pdf":
                pdf_receipts.append((e, path_))
                continue
            img = Image(str(path_))
            img._restrictSize(180 * mm, 225 * mm)
            story += [PageBreak(), Paragraph(caption, styles["Heading4"]), img]
    try:
        import pypdf
    except ImportError:  # listed instead of appended; the summary says so
        pypdf = None
    if pdf_receipts and pypdf is None:
        story += [PageBreak(), Paragraph("PDF receipts (attached separately)", styles["Heading3"])]
        story += [Paragraph(f"Expense #{e['id']}: {e['receipt_filename']} (SHA-256 {e['receipt_sha256']})", styles["BodyText"])
                  for e, _ in pdf_receipts]
    elif pdf_receipts:
        story += [PageBreak(), Paragraph("PDF receipts follow", styles["Heading3"])]
        story += [Paragraph(f"Expense #{e['id']}: {e['day']} · {e['merchant'] or e['category']} · "
                            f"{format_cents(e['amount_cents'], e['currency'])} · {e['receipt_filename']}",
                            styles["BodyText"]) for e, _ in pdf_receipts]
    if missing:
        story += [Paragraph("Receipt files missing from this computer", styles["Heading3"])]
        story += [Paragraph(f"Expense #{e['id']}: {e['receipt_filename']} (SHA-256 {e['receipt_sha256']})",
                            styles["BodyText"]) for e in missing]
    _build(path, story, title)
    if pdf_receipts and pypdf is not None:
        writer = pypdf.PdfWriter(clone_from=path)
        for _, receipt in pdf_receipts:
            writer.append(str(receipt))
        with open(path, "wb") as fh:
            writer.write(fh)
