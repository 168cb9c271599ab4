"""The Rotation tab: coverage shown, a background solve fills the weeks × weekdays grid, a day lists its stops, save."""

from datetime import date

from PySide6.QtCore import QDate

from core.settings import Settings
from desktop.context import AppContext


def test_rotation_tab_solves_fills_grid_and_saves(qtbot, demo_store):
    from desktop.plan.rotation_tab import RotationTab

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    tab = RotationTab(ctx)
    qtbot.addWidget(tab)
    tab.select_rep(6)
    tab.start.setDate(QDate(2026, 11, 23))
    tab.weeks.setValue(4)
    tab.seconds.setValue(2)
    assert tab.coverage_task is None  # nothing is read until the tab is shown
    tab.show()
    qtbot.waitUntil(lambda: "Coverage:" in tab.coverage_label.text(), timeout=20000)
    assert "h/week" in tab.coverage_label.text()

    tab.solve_button.click()
    assert not tab.solve_button.isEnabled() and tab.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: tab.rotation is not None, timeout=60000)
    assert tab.grid.rowCount() == 4 and tab.grid.columnCount() == 5
    assert "Thanksgiving" in tab.grid.item(0, 3).text()
    cells = [tab.grid.item(r, c).text() for r in range(4) for c in range(5)]
    assert sum("visit" in t for t in cells) >= 5
    assert tab.rotation.start == date(2026, 11, 23)

    row, col = next((r, c) for r in range(4) for c in range(5) if "visit" in tab.grid.item(r, c).text())
    tab.grid.setCurrentCell(row, col)
    day = tab.rotation.days[row * 5 + col]
    assert tab.stops.count() == len(day.stops) > 0
    assert day.stops[0].name in tab.stops.item(0).text()

    shown = []
    ctx.show_on_map.connect(shown.append)
    tab.map_button.click()
    assert shown and shown[0]["rep_id"] == 6 and shown[0]["account_ids"] == [s.account_id for s in day.stops]

    heard = []
    ctx.changed.connect(heard.append)
    tab.save_button.click()
    assert tab.saved_plan_id is not None and heard and heard[0].touched("rotation_slots")
    assert demo_store.scalar("SELECT count(*) FROM rotation_slots WHERE plan_id = ?",
                             (tab.saved_plan_id,)) == tab.rotation.visit_count
    ctx.tasks.wait(5000)


def test_rotation_tab_cancel(qtbot, demo_store):
    from desktop.plan.rotation_tab import RotationTab

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    tab = RotationTab(ctx)
    qtbot.addWidget(tab)
    tab.select_rep(4)
    tab.seconds.setValue(60)
    tab.solve_button.click()
    qtbot.waitUntil(lambda: tab.progress.value() > 0, timeout=20000)
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: tab.task is None, timeout=20000)
    assert tab.rotation is None and "Cancelled" in tab.summary.text()
    ctx.tasks.wait(5000)


def test_rotation_tab_apply_books_visits_once_and_shows_tier_coverage(qtbot, demo_store):
    from desktop.plan.rotation_tab import RotationTab, next_monday

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    tab = RotationTab(ctx)
    qtbot.addWidget(tab)
    tab.select_rep(6)
    first = next_monday(date.today())  # Apply books from today on, so the cycle lies ahead
    tab.start.setDate(QDate(first.year, first.month, first.day))
    tab.weeks.setValue(2)
    tab.seconds.setValue(1)
    tab.show()
    qtbot.waitUntil(lambda: "No saved rotation" in tab.plan_label.text(), timeout=20000)
    assert not tab.apply_button.isEnabled()
    tab.solve_button.click()
    qtbot.waitUntil(lambda: tab.rotation is not None, timeout=60000)
    tab.save_button.click()
    assert tab.apply_button.isEnabled()

    heard = []
    ctx.changed.connect(heard.append)
    tab.apply_button.click()
    qtbot.waitUntil(lambda: "visits booked" in tab.plan_label.text() and tab.task is None, timeout=20000)
    plan_id = tab.saved_plan_id
    booked = demo_store.scalar("SELECT count(*) FROM visits WHERE rotation_plan_id = ? AND deleted_at IS NULL",
                               (plan_id,))
    assert booked == tab.rotation.visit_count > 0
    assert heard and heard[-1].touched("visits")
    assert f"Rotation plan {plan_id}" in tab.plan_label.text() and "applied" in tab.plan_label.text()
    assert "done / due" in tab.plan_label.text()

    tab.apply_button.click()  # a second Apply books nothing new
    qtbot.waitUntil(lambda: "0 visits booked" in tab.plan_label.text() and tab.task is None, timeout=20000)
    assert demo_store.scalar("SELECT count(*) FROM visits WHERE rotation_plan_id = ? AND deleted_at IS NULL",
                             (plan_id,)) == booked
    ctx.tasks.wait(5000)


def _rotation_child(timeout: float = 30.0) -> int:
    import multiprocessing as mp
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in mp.active_children():
            if p.name == "fieldatlas-rotation":
                return p.pid
        time.sleep(0.02)
    raise AssertionError("the rotation did not solve in a child process")


def test_a_crash_of_the_rotation_solver_is_an_error_in_the_tab_and_the_window_stays(qtbot, demo_store):
    import os
    import signal

    from desktop.plan.rotation_tab import RotationTab

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    tab = RotationTab(ctx)
    qtbot.addWidget(tab)
    tab.select_rep(4)
    tab.seconds.setValue(60)
    tab.solve_button.click()
    os.kill(_rotation_child(), signal.SIGSEGV)  # what CP-SAT did to the whole app before
    qtbot.waitUntil(lambda: tab.task is None, timeout=20000)
    assert tab.rotation is None
    assert "the rotation solver stopped unexpectedly (killed by SIGSEGV); nothing was saved" in tab.summary.text()
    assert tab.solve_button.isEnabled()  # and it can be run again
    ctx.tasks.wait(5000)
