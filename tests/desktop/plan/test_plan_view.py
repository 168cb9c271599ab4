"""The Plan view driven like a user: solve in the background, read the itinerary, move a stop, accept, export."""

from __future__ import annotations

import re
from datetime import date

import pytest
from PySide6.QtCore import QDate

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.plan.view import PlanView


def make_view(qtbot, store):
    ctx = AppContext(store, settings_mod.Settings(), persist_settings=False)
    _contexts.append(ctx)
    view = PlanView(ctx)
    qtbot.addWidget(view)
    view.show()
    ready = []
    view.when_ready(lambda: ready.append(True))
    qtbot.waitUntil(lambda: bool(ready), timeout=10_000)
    return ctx, view


_contexts: list[AppContext] = []


@pytest.fixture(autouse=True)
def _no_worker_left_behind(qtbot):
    yield
    while _contexts:
        _contexts.pop().tasks.wait(10_000)


def choose(week, days: int, seconds: float, rep: str = "Lauren Lewis") -> None:
    """Set the Week plan controls as a user would: rep, Monday 23 Nov 2026, days and search seconds."""
    week.rep.setCurrentIndex(next(i for i in range(week.rep.count()) if week.rep.itemData(i)["name"] == rep))
    week.start.setDate(QDate(2026, 11, 23))
    week.days.setValue(days)
    week.seconds.setValue(seconds)


def solve_two_days(qtbot, view):
    week = view.week
    choose(week, 2, 0.5)
    week.plan_button.click()
    assert week.task is not None and week.stop_button.isEnabled()
    qtbot.waitUntil(lambda: week.task is None and week.plan is not None, timeout=30_000)
    return week


def test_solve_show_itinerary_and_flag_a_hand_edit(qtbot, demo_store):
    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    plan = week.plan
    assert week.tree.topLevelItemCount() == 2
    first_day = week.tree.topLevelItem(0)
    first_route = plan.result.routes[0]
    assert first_day.childCount() == len(first_route.visits)
    assert first_day.child(0).text(0).startswith(f"{plan.at(first_route.visits[0].start):%H:%M}")
    assert "visits" in week.summary.text() and "Lauren Lewis" in week.summary.text()
    assert not week.warnings.text()

    # Move every visit of day two onto day one, one at a time, as a user would with "Move to day".
    day1, day2 = plan.days[0].isoformat(), plan.days[1].isoformat()
    for stop_id in list(week.orders[day2]):
        week.move_stop(stop_id, day1)
    assert week.plan.result.engine == "check"
    assert week.orders[day2] == []
    assert "late" in week.warnings.text() or "after working hours" in week.warnings.text()
    texts = [week.tree.topLevelItem(0).child(k).text(5) for k in range(week.tree.topLevelItem(0).childCount())]
    assert any("late" in t for t in texts) or "⚠" in week.tree.topLevelItem(0).text(0)


def test_reorder_with_buttons_and_accept_then_show_on_map(qtbot, demo_store):
    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    day1 = week.plan.days[0].isoformat()
    before = list(week.orders[day1])
    week.tree.setCurrentItem(week.tree.topLevelItem(0).child(0))
    week.down_button.click()
    assert week.orders[day1] == [before[1], before[0], *before[2:]]
    assert week.tree.selected_stop() == before[0]

    week.move_stop(before[0], day1, 0)  # back to the solver's order so accept needs no confirmation
    assert not week.map_button.isEnabled()
    changed = []
    ctx.changed.connect(changed.append)
    week.accept_button.click()
    assert changed and len(changed[0].ids("visits")) == len(week.plan.result.served)
    assert week.map_button.isEnabled()
    shown, went = [], []
    ctx.show_on_map.connect(shown.append)
    ctx.navigate.connect(went.append)
    week.map_button.click()
    assert shown == [{"route_ids": week.route_ids}] and went == ["map"]
    # The Visits tab sees the planned visits of that day.
    view.visits.rep.setCurrentIndex(view.visits.rep.findText("Lauren Lewis"))
    view.visits.day.setDate(QDate(2026, 11, 23))
    assert view.visits.table.rowCount() == len(week.plan.result.routes[0].visits)


def test_export_ics_from_the_view(qtbot, demo_store, tmp_path):
    import icalendar

    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    out = tmp_path / "week.ics"
    task = week.export_to("ics", str(out))
    qtbot.waitUntil(lambda: task.done, timeout=10_000)
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert len([e for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Visit")]) == len(week.plan.result.served)


def test_a_drop_is_read_back_as_an_order_and_checked(qtbot, demo_store):
    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    tree = week.tree
    day1, day2 = (tree.topLevelItem(k) for k in range(2))
    moved = day2.child(0).data(0, 0x0100)[1]
    # What Qt's internal move does on a drop onto a visit: the row lands inside another row.
    item = day2.takeChild(0)
    day1.child(0).addChild(item)
    edited = []
    tree.order_edited.connect(edited.append)
    qtbot.waitUntil(lambda: bool(edited), timeout=2000)
    orders = edited[-1]
    first_day = week.plan.days[0].isoformat()
    assert orders[first_day][1] == moved
    qtbot.waitUntil(lambda: moved in week.orders[first_day], timeout=2000)
    assert week.plan.result.engine == "check"


def test_stop_ends_a_long_search_within_a_second_and_shows_the_best_plan(qtbot, demo_store):
    import time

    ctx, view = make_view(qtbot, demo_store)
    week = view.week
    choose(week, 5, 120)
    week.plan_button.click()
    # Wait until the engine is searching (its progress reports the seconds used), then press Stop.
    qtbot.waitUntil(lambda: "Optimising" in week.progress.toolTip(), timeout=30_000)
    qtbot.wait(300)
    pressed = time.perf_counter()
    week.stop_button.click()
    qtbot.waitUntil(lambda: week.task is None, timeout=5_000)
    assert time.perf_counter() - pressed < 1.0
    assert week.plan is not None and week.plan.result.served
    assert "Stopped early" in week.summary.text()


def test_the_plan_is_drawn_on_the_small_map_beside_the_itinerary(qtbot, demo_store):
    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    assert week.sketch.plan is week.plan
    image = week.sketch.grab().toImage()
    # Each day's route is drawn in its colour: find both day colours among the pixels.
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    assert {week.sketch.day_colour(0).name(), week.sketch.day_colour(1).name()} <= colours


def test_screenshot_of_the_plan_view_renders_a_solved_plan(demo_db, tmp_path):
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    out = tmp_path / "plan.png"
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "screenshot", "--db", str(demo_db), "--view", "plan",
                           "--rep", "Lauren Lewis", "--start", "2026-11-23", "--days", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert image.width() >= 1400  # the window's minimum width (all sections) may make it wider
    from desktop.plan.route_sketch import DAY_COLOURS

    colours = {image.pixelColor(x, y).name() for x in range(image.width() - 500, image.width(), 2)
               for y in range(80, 500, 2)}
    assert DAY_COLOURS[0].lower() in colours and DAY_COLOURS[1].lower() in colours


def test_hotel_night_and_appointment_added_in_the_view_shape_the_plan(qtbot, demo_store):
    from datetime import datetime

    from PySide6.QtCore import QDateTime, QTime

    ctx, view = make_view(qtbot, demo_store)
    week = view.week
    choose(week, 2, 1)
    extras = week.extras
    # A place that is not one is refused with the reason, and nothing is added.
    extras.hotel_place.setText("Waco")
    extras.add_hotel_button.click()
    assert "latitude, longitude" in extras.error.text() and extras.items.count() == 0
    extras.hotel_night.setDate(QDate(2026, 11, 23))
    extras.hotel_place.setText("31.5493, -97.1467")
    extras.add_hotel_button.click()
    account_id = extras.account.itemData(3)
    extras.account.setCurrentIndex(3)
    extras.when.setDateTime(QDateTime(QDate(2026, 11, 24), QTime(10, 0)))
    extras.add_appointment_button.click()
    assert extras.items.count() == 2 and not extras.error.text()
    assert extras.hotels() == {date(2026, 11, 23): (31.5493, -97.1467)}
    assert extras.appointments() == {account_id: datetime(2026, 11, 24, 10, 0)}

    week.plan_button.click()
    qtbot.waitUntil(lambda: week.task is None and week.plan is not None, timeout=30_000)
    plan = week.plan
    monday, tuesday = plan.problem.shifts
    assert monday.end_point == (31.5493, -97.1467) and tuesday.start == (31.5493, -97.1467)
    visit = next(v for r in plan.result.routes for v in r.visits if v.stop_id == account_id)
    assert plan.at(visit.start).strftime("%Y-%m-%d %H:%M") == "2026-11-24 10:00"

    # Removing the hotel takes it out of the next plan.
    extras.items.setCurrentRow(0)
    extras.remove_button.click()
    assert extras.hotels() == {}


def test_a_due_account_no_planned_day_will_do_is_listed_first_with_the_reason(qtbot, demo_store):
    from core.storage import writes

    rep = demo_store.scalar("SELECT id FROM reps WHERE name = 'Lauren Lewis'")
    aid = demo_store.scalar("SELECT id FROM accounts WHERE owner_id = ? AND status = 'active' AND lat IS NOT NULL "
                            "ORDER BY id LIMIT 1", (rep,))
    writes.update(demo_store, "accounts", aid, {"allowed_weekdays": "sat", "last_visit_at": None, "tier": "A",
                                                "visit_frequency": "weekly"})
    name = demo_store.scalar("SELECT name FROM accounts WHERE id = ?", (aid,))
    ctx, view = make_view(qtbot, demo_store)
    week = solve_two_days(qtbot, view)
    assert week.plan.not_open == {aid: "visits only on Saturdays"}
    first = week.unserved.item(0)
    assert first.text() == f"{name} (A): due, but visits only on Saturdays"
    assert "1 due account has no day here it may be visited on" in week.summary.text()
    assert all(aid not in ids for ids in week.orders.values())


def test_not_planned_reasons_wrap_inside_the_panel(qtbot, demo_store):
    """A reason is a sentence: it wraps at the panel's edge, with no sideways scrolling to read it."""
    ctx, view = make_view(qtbot, demo_store)
    view.resize(1400, 860)
    week = solve_two_days(qtbot, view)
    week.side_tabs.setCurrentWidget(week.unserved)
    listing = week.unserved
    assert listing.count() > 0
    # Each line names the account's tier once, beside its name: "Name (B): reason", never "... (tier B)" again.
    texts = [listing.item(k).text() for k in range(listing.count())]
    assert all(" (tier " not in t and re.match(r"[^(]+ \([ABC-]\): ", t) for t in texts), texts
    qtbot.waitUntil(lambda: listing.viewport().width() > 0, timeout=5000)
    for _ in range(3):
        qtbot.wait(50)
    width = listing.viewport().width()
    metrics = listing.fontMetrics()
    longest = max(range(listing.count()), key=lambda k: metrics.horizontalAdvance(listing.item(k).text()))
    assert metrics.horizontalAdvance(listing.item(longest).text()) > width   # a reason longer than the panel...
    rect = listing.visualItemRect(listing.item(longest))
    assert rect.width() <= width and rect.height() > metrics.height() * 1.5   # ...is shown whole, on two lines
    assert listing.horizontalScrollBar().maximum() == 0
