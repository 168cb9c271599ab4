"""The Reports figures: goal attainment, rotation coverage, visits per week and mileage per territory; XLSX and PDF export."""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.files import CannotWrite, write_atomically
from core.goals.periods import period_range, quarter_of
from core.goals.results import METRICS, GoalResult, goal_results, periods_with_goals
from core.storage.database import Store

METRES_PER_MILE = 1609.344


class ReportProblem(ValueError):
    pass


@dataclass
class Report:
    period: str
    start: date
    end: date
    goals: list[GoalResult] = field(default_factory=list)
    coverage_basis: str = ""                 # "rotation visits" or "planned visits"
    coverage: list[dict[str, Any]] = field(default_factory=list)   # rep, done, due, pct
    weeks: list[dict[str, Any]] = field(default_factory=list)      # week (Monday), visits
    mileage: list[dict[str, Any]] = field(default_factory=list)    # territory, miles

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "goals": [g.as_dict() for g in self.goals], "coverage_basis": self.coverage_basis,
                "coverage": self.coverage, "visits_per_week": self.weeks, "mileage_per_territory": self.mileage}


def build_report(store: Store, period: str | None = None, *, today: date | None = None) -> Report:
    """The figures for a period (default: the latest period with goals, else this quarter), up to today."""
    today = today or datetime.now(timezone.utc).date()
    if period is None:
        periods = periods_with_goals(store)
        period = periods[0] if periods else quarter_of(today)
    start, end = period_range(period)
    report = Report(period.upper(), start, end, goals=goal_results(store, period))
    until = min(end, today + timedelta(days=1))
    lo, hi = start.isoformat(), until.isoformat()
    names = {r["id"]: r["name"] for r in store.conn.execute("SELECT id, name FROM reps WHERE role = 'rep' AND deleted_at IS NULL")}
    # Coverage: of the visits due so far in the period, the share done. Rotation visits when a
    # rotation has been applied; otherwise every planned visit.
    rotation = store.scalar("SELECT count(*) FROM visits WHERE deleted_at IS NULL AND rotation_plan_id IS NOT NULL "
                            "AND planned_start >= ? AND planned_start < ?", (lo, hi))
    report.coverage_basis = "rotation visits" if rotation else "planned visits"
    where = "AND rotation_plan_id IS NOT NULL" if rotation else ""
    for r in store.conn.execute(
            f"SELECT rep_id, sum(status = 'done') AS done, count(*) AS due FROM visits WHERE deleted_at IS NULL "
            f"AND status != 'cancelled' AND planned_start >= ? AND planned_start < ? {where} GROUP BY rep_id", (lo, hi)):
        if r["rep_id"] in names:
            report.coverage.append({"rep": names[r["rep_id"]], "done": r["done"], "due": r["due"],
                                    "pct": round(100 * r["done"] / r["due"], 1) if r["due"] else 0.0})
    report.coverage.sort(key=lambda c: c["rep"])
    # Visits done per week (weeks starting Monday) in the period.
    counts: dict[date, int] = {}
    for (when,) in store.conn.execute(
            "SELECT coalesce(check_in_at, planned_start) FROM visits WHERE deleted_at IS NULL AND status = 'done' "
            "AND coalesce(check_in_at, planned_start) >= ? AND coalesce(check_in_at, planned_start) < ?", (lo, hi)):
        day = date.fromisoformat(when[:10])
        monday = day - timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + 1
    week = start - timedelta(days=start.weekday())
    while week < until:
        report.weeks.append({"week": week.isoformat(), "visits": counts.get(week, 0)})
        week += timedelta(days=7)
    # Business mileage per territory: each trip counts for the territory its rep owns.
    territory_of = {}
    for r in store.conn.execute("SELECT owner_id, name FROM territories WHERE deleted_at IS NULL AND level = 'territory' "
                                "AND owner_id IS NOT NULL ORDER BY precedence DESC, id"):
        territory_of.setdefault(r["owner_id"], r["name"])
    miles: dict[str, float] = {}
    for rep_id, metres in store.conn.execute(
            "SELECT rep_id, sum(distance_m) FROM trips WHERE deleted_at IS NULL AND business = 1 AND day >= ? AND day < ? "
            "GROUP BY rep_id", (lo, hi)):
        name = territory_of.get(rep_id, "No territory")
        miles[name] = miles.get(name, 0.0) + (metres or 0) / METRES_PER_MILE
    report.mileage = [{"territory": k, "miles": round(v, 1)} for k, v in sorted(miles.items())]
    return report


def _goal_rows(report: Report) -> list[list[Any]]:
    return [[g.who, METRICS.get(g.metric, g.metric), g.formatted(g.target), g.formatted(g.result),
             f"{100 * g.attainment:.0f} %"] for g in report.goals]


def export_report(report: Report, out: Path | str) -> Path:
    """Write the report as .xlsx or .pdf (by the file's suffix), via a temporary file renamed at the end."""
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".xlsx", ".pdf"):
        raise ReportProblem(f"{out.name}: export to a .xlsx or .pdf file")
    try:
        write_atomically(out, lambda tmp: (_xlsx if kind == ".xlsx" else _pdf)(report, Path(tmp)), suffix=kind)
    except CannotWrite as exc:
        raise ReportProblem(f"{out.name}: {exc}") from exc
    return out


def _xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Goals"
    ws.append([f"Goals against results, {report.period}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Who", "Metric", "Target", "Result", "Attainment"])
    for g in report.goals:
        # Numbers stay numbers (dollars for revenue), so finance can sum and chart them.
        scale = 100 if g.metric == "revenue_cents" else 1
        ws.append([g.who, METRICS.get(g.metric, g.metric), g.target / scale, g.result / scale, round(g.attainment, 3)])
        ws.cell(ws.max_row, 5).number_format = "0%"
        if scale == 100:
            ws.cell(ws.max_row, 3).number_format = ws.cell(ws.max_row, 4).number_format = '"$"#,##0'
    if report.goals:
        chart = BarChart()
        chart.title = "Attainment"
        chart.add_data(Reference(ws, min_col=5, min_row=2, max_row=ws.max_row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=ws.max_row))
        ws.add_chart(chart, "G2")
    for title, rows, head, key in (
            (f"Coverage ({report.coverage_basis})", report.coverage, ["Rep", "Done", "Due", "Coverage %"], None),
            ("Visits per week", report.weeks, ["Week of", "Visits done"], "line"),
            ("Mileage per territory", report.mileage, ["Territory", "Business miles"], "bar")):
        sheet = wb.create_sheet(title[:31].replace("(", "").replace(")", ""))
        sheet.append(head)
        for r in rows:
            sheet.append(list(r.values()))
        if key and rows:
            chart = LineChart() if key == "line" else BarChart()
            chart.title = title
            chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=sheet.max_row), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
            sheet.add_chart(chart, "D2")
    wb.save(path)


def attainment_axis(percents: list[int]) -> tuple[int, int]:
    """(axis end, step) in percent for attainment bars: at least 100, past the longest bar, in even steps."""
    top = max([100, *percents])
    step = 20 if top <= 200 else 50 if top <= 500 else 100 * math.ceil(top / 1000)
    return step * math.ceil(top / step), step


def _pdf(report: Report, path: Path) -> None:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    story: list[Any] = [Paragraph(f"Goals and activity, {report.period}", styles["Title"]),
                        Paragraph(f"{report.start:%b %d, %Y} – {report.end - timedelta(days=1):%b %d, %Y}", styles["Normal"]),
                        Spacer(1, 12)]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                       ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 9)])

    def table(title: str, head: list[str], rows: list[list[Any]]) -> None:
        story.append(Paragraph(title, styles["Heading2"]))
        story.append(Table([head, *rows] if rows else [head, ["(none)"] + [""] * (len(head) - 1)], style=grid))
        story.append(Spacer(1, 10))

    if report.goals:
        drawing = Drawing(460, 22 * len(report.goals) + 30)
        chart = HorizontalBarChart()
        chart.x, chart.y, chart.width, chart.height = 150, 15, 290, 22 * len(report.goals)
        chart.data = [[round(100 * g.attainment) for g in report.goals]]
        chart.categoryAxis.categoryNames = [f"{g.who[:24]} · {METRICS.get(g.metric, g.metric)}" for g in report.goals]
        chart.categoryAxis.labels.fontSize = 7
        # The axis covers the data and the 100 % mark, with a labelled tick at its end (left to
        # itself reportlab stops the labels at the last step below the longest bar).
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax, chart.valueAxis.valueStep = attainment_axis(chart.data[0])
        chart.bars[0].fillColor = colors.HexColor("#3182bd")
        drawing.add(chart)
        story += [Paragraph("Attainment (% of target)", styles["Heading2"]), drawing]
    table("Goals against results", ["Who", "Metric", "Target", "Result", "Attainment"], _goal_rows(report))
    table(f"Coverage ({report.coverage_basis} done of due)", ["Rep", "Done", "Due", "Coverage"],
          [[c["rep"], c["done"], c["due"], f"{c['pct']:.0f} %"] for c in report.coverage])
    table("Visits per week", ["Week of", "Visits done"], [[w["week"], w["visits"]] for w in report.weeks])
    table("Business mileage per territory", ["Territory", "Miles"], [[m["territory"], f"{m['miles']:,.0f}"] for m in report.mileage])
    SimpleDocTemplate(str(path), pagesize=letter, title=f"FieldAtlas report {report.period}").build(story)
