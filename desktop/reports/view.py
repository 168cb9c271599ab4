"""The Reports section: attainment, coverage, visits per week and mileage per territory as QtCharts; XLSX/PDF export."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCharts import (QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QHorizontalBarSeries,
                              QLineSeries, QValueAxis)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from core.changes import Changes
from core.goals.report import Report, build_report, export_report
from core.goals.results import METRICS, periods_with_goals
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.leads.loading import LoadsOnWorker
from desktop.tasks import open_worker_store

WATCHED = {"goals", "deals", "visits", "trips", "territories", "reps"}
BLUE, ORANGE, GREEN, PURPLE = "#3182bd", "#e6550d", "#31a354", "#756bb1"


def create_view(ctx: AppContext) -> "ReportsView":
    return ReportsView(ctx)


def _load(path: Path, period: str | None) -> tuple[Report, list[str]]:
    store = open_worker_store(path)
    try:
        return build_report(store, period), periods_with_goals(store)
    finally:
        store.close()


def _export(path: Path, period: str, out: str) -> Path:
    store = open_worker_store(path)
    try:
        return export_report(build_report(store, period), out)
    finally:
        store.close()


def _short_name(name: str) -> str:
    """'Carlos Wilson' -> 'Carlos W.': eight reps' names fit under eight bars."""
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


def _chart(title: str) -> tuple[QChart, QChartView]:
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().hide()
    chart.setMargins(QMargins(4, 4, 4, 4))
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(260)
    return chart, view


class ReportsView(LoadsOnWorker, QWidget):
    """Four charts for one period; the figures are read on a worker and drawn when they arrive."""

    load_title = "Reading report figures"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("reports-view")
        self.report: Report | None = None
        self._init_loading()

        self.period = QComboBox()
        self.period.setObjectName("report-period")
        self.period.setMinimumContentsLength(10)
        self.period.currentIndexChanged.connect(lambda _i: self.reload())
        self.metric = QComboBox()
        self.metric.setObjectName("report-metric")
        self.metric.addItem("All goals", None)
        for key, label in METRICS.items():
            self.metric.addItem(label, key)
        self.metric.currentIndexChanged.connect(lambda _i: self._draw())
        self.xlsx_button = QPushButton("Export XLSX…")
        self.xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_button = QPushButton("Export PDF…")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.summary = QLabel("Loading…")
        self.summary.setObjectName("report-summary")
        self.summary.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Period:"))
        bar.addWidget(self.period)
        bar.addWidget(QLabel("Goals:"))
        bar.addWidget(self.metric)
        bar.addStretch(1)
        bar.addWidget(self.xlsx_button)
        bar.addWidget(self.pdf_button)

        self.attainment_chart, self.attainment_view = _chart("Attainment (% of goal)")
        self.coverage_chart, self.coverage_view = _chart("Coverage (% of due visits done)")
        self.weeks_chart, self.weeks_view = _chart("Visits done per week")
        self.mileage_chart, self.mileage_view = _chart("Business miles per territory")
        grid = QGridLayout()
        grid.addWidget(self.attainment_view, 0, 0)
        grid.addWidget(self.coverage_view, 0, 1)
        grid.addWidget(self.weeks_view, 1, 0)
        grid.addWidget(self.mileage_view, 1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addLayout(grid, 1)
        ctx.changed.connect(self._changed)
        self.reload()

    # --- loading -------------------------------------------------------------------------
    def _load_job(self) -> Callable[[Any], tuple[Report, list[str]]]:
        period, path = self.period.currentData(), self.ctx.store.path
        return lambda progress: _load(path, period)

    def _show_error(self, exc: BaseException) -> None:
        self.summary.setText(f"Could not read the figures: {exc}")

    def _show(self, result: tuple[Report, list[str]]) -> None:
        self.report, periods = result
        self.period.blockSignals(True)
        self.period.clear()
        for p in sorted(set(periods) | {self.report.period}, reverse=True):
            self.period.addItem(p, p)
        self.period.setCurrentIndex(self.period.findData(self.report.period))
        self.period.blockSignals(False)
        self._draw()

    def _changed(self, changes: Changes) -> None:
        if changes.tables & WATCHED:
            self.reload()

    # --- drawing -------------------------------------------------------------------------
    def _draw(self) -> None:
        report = self.report
        if report is None:
            return
        metric = self.metric.currentData()
        goals = [g for g in report.goals if metric is None or g.metric == metric]
        self._bars(self.attainment_chart, [f"{g.who} · {METRICS.get(g.metric, g.metric)}" if metric is None else g.who
                                           for g in goals],
                   [round(100 * g.attainment, 1) for g in goals], BLUE, horizontal=True, maximum=None, suffix=" %")
        self._bars(self.coverage_chart, [_short_name(c["rep"]) for c in report.coverage],
                   [round(c["pct"]) for c in report.coverage], GREEN, maximum=100, suffix=" %")
        self.coverage_chart.setTitle(f"Coverage (% of due {report.coverage_basis} done)")
        self._line(self.weeks_chart, [w["week"][5:] for w in report.weeks], [w["visits"] for w in report.weeks])
        self.weeks_chart.setTitle("Visits done per week (weeks from Monday; the first and last may be partial)")
        self._bars(self.mileage_chart, [m["territory"].replace(" Metro", "") for m in report.mileage],
                   [round(m["miles"]) for m in report.mileage], PURPLE, horizontal=True)
        if goals:
            met = sum(g.attainment >= 1 for g in goals)
            avg = sum(g.attainment for g in goals) / len(goals)
            text = f"{report.period}: {len(goals)} goals, {met} met, average attainment {100 * avg:.0f} %"
        else:
            text = f"{report.period}: no goals set for this period (`fieldatlas goals set`)"
        if report.coverage:
            done = sum(c["done"] for c in report.coverage)
            due = sum(c["due"] for c in report.coverage)
            text += f"; coverage {100 * done / max(1, due):.0f} % of {due:,} due {report.coverage_basis}"
        text += f"; {sum(w['visits'] for w in report.weeks):,} visits done; {sum(m['miles'] for m in report.mileage):,.0f} business miles."
        self.summary.setText(text)

    @staticmethod
    def _reset(chart: QChart) -> None:
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)

    def _bars(self, chart: QChart, labels: list[str], values: list[float], colour: str, *, horizontal: bool = False,
              maximum: float | None = None, suffix: str = "") -> None:
        self._reset(chart)
        bars = QBarSet("")
        bars.setColor(QColor(colour))
        bars.append([float(v) for v in values])
        series = QHorizontalBarSeries() if horizontal else QBarSeries()
        series.append(bars)
        series.setLabelsVisible(len(values) <= 16)
        series.setLabelsFormat("@value" + suffix)
        series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        bars.setLabelColor(QColor("#222222"))
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append(labels or ["(none)"])
        values_axis = QValueAxis()
        # Room above the tallest bar for its label; a percentage of at most 100 keeps ticks at 0, 25, 50...
        values_axis.setRange(0, max([*values, 0.0, maximum or 0.0]) * 1.15 or 1.0)
        if maximum:
            values_axis.setTickType(QValueAxis.TickType.TicksDynamic)
            values_axis.setTickAnchor(0)
            values_axis.setTickInterval(25)
        else:
            values_axis.applyNiceNumbers()
        values_axis.setLabelFormat("%.0f")
        categories.setTruncateLabels(False)
        if horizontal:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
            chart.addAxis(values_axis, Qt.AlignmentFlag.AlignBottom)
        else:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
            categories.setLabelsAngle(-35 if len(labels) > 6 else 0)
        series.attachAxis(categories)
        series.attachAxis(values_axis)

    def _line(self, chart: QChart, labels: list[str], values: list[int]) -> None:
        self._reset(chart)
        series = QLineSeries()
        series.setColor(QColor(ORANGE))
        series.setPointsVisible(True)
        for i, v in enumerate(values):
            series.append(float(i), float(v))
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append(labels or ["(none)"])
        categories.setLabelsAngle(-45 if len(labels) > 8 else 0)
        values_axis = QValueAxis()
        values_axis.setRange(0, (max(values, default=0) * 1.15) or 1.0)
        values_axis.applyNiceNumbers()
        values_axis.setLabelFormat("%.0f")
        chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values_axis)

    # --- export ---------------------------------------------------------------------------
    def export(self, kind: str, out: str | None = None) -> None:
        """Ask where (unless `out` is given) and write the report there on a worker."""
        if self.report is None:
            return
        if out is None:
            suggested = str(Path.home() / f"FieldAtlas report {self.report.period}.{kind}")
            out, _ = QFileDialog.getSaveFileName(self, f"Export report as {kind.upper()}", suggested,
                                                 "Excel workbook (*.xlsx)" if kind == "xlsx" else "PDF (*.pdf)")
            if not out:
                return
            if not out.lower().endswith("." + kind):
                out += "." + kind
        path, period = self.ctx.store.path, self.report.period
        self.summary.setText(f"Exporting to {out}…")
        BackgroundWork.once(self, self.ctx.tasks, "Exporting the report", lambda progress: _export(path, period, out),
                            lambda written: self.summary.setText(f"Exported to {written}."),
                            errors=self.summary, error="Export failed: {error}")
