"""The Reports view on the demo: four charts drawn from the figures, a period choice, export on a worker."""

from __future__ import annotations

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.reports.view import ReportsView


def make_view(qtbot, store):
    view = ReportsView(AppContext(store, settings_mod.Settings(), persist_settings=False))
    qtbot.addWidget(view)
    ready = []
    view.when_ready(lambda: ready.append(True))
    qtbot.waitUntil(lambda: bool(ready), timeout=10000)
    return view


def test_charts_show_goals_against_results(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    report = view.report
    assert report.period == "2026-Q4" and report.goals
    bars = view.attainment_chart.series()[0].barSets()[0]
    assert bars.count() == len(report.goals)
    assert [round(bars.at(i), 1) for i in range(bars.count())] == [round(100 * g.attainment, 1) for g in report.goals]
    assert any(g.result > 0 for g in report.goals if g.metric == "revenue_cents")
    assert view.coverage_chart.series()[0].barSets()[0].count() == 8
    assert view.weeks_chart.series()[0].count() == len(report.weeks) > 5
    assert view.mileage_chart.series()[0].barSets()[0].count() == len(report.mileage) == 8
    assert "goals" in view.summary.text() and "coverage" in view.summary.text()
    # Choosing one metric redraws the attainment chart with only those goals.
    view.metric.setCurrentIndex(view.metric.findData("visits"))
    visits = [g for g in report.goals if g.metric == "visits"]
    assert view.attainment_chart.series()[0].barSets()[0].count() == len(visits) == 8


def test_export_writes_the_file_on_a_worker(qtbot, demo_store, tmp_path):
    view = make_view(qtbot, demo_store)
    out = tmp_path / "q.xlsx"
    view.export("xlsx", str(out))
    qtbot.waitUntil(lambda: "Exported to" in view.summary.text(), timeout=15000)
    assert out.exists() and out.stat().st_size > 2000
