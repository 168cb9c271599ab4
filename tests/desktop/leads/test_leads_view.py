"""The Leads view driven like a manager would: route the demo's leads, read why, join a queue, preview and apply books."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.leads.view import LEAD_COLUMNS, LeadsView


def make_view(qtbot, store):
    view = LeadsView(AppContext(store, settings_mod.Settings(), persist_settings=False))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.snapshot is not None and not view._loading, timeout=15000)
    return view


def column(view, key):
    c = [k for k, _t in LEAD_COLUMNS].index(key)
    return [view.leads_table.item(r, c).text() for r in range(view.leads_table.rowCount())]


def test_route_button_routes_the_demo_leads_fairly_and_shows_why(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    assert view.leads_table.rowCount() == 300 and set(column(view, "status")) == {"new"}
    assert "300 new" in view.counts_label.text()
    qtbot.mouseClick(view.route_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.last_routing is not None and "300 assigned" in view.counts_label.text(), timeout=20000)
    assert set(column(view, "status")) == {"assigned"}
    assert all(column(view, "reason")) and not view.route_button.isEnabled()
    rotation = Counter((a["queue"], a["rep_id"]) for a in view.last_routing.assignments if a["kind"] == "rotation")
    for queue in {q for q, _r in rotation}:
        got = [n for (q, _r), n in rotation.items() if q == queue]
        assert max(got) - min(got) <= 1
    assert "spread" in view.fairness_label.text()
    view.leads_table.setCurrentCell(3, 0)
    assert view.message.text().startswith(f"Lead {view.leads_table.item(3, 0).text()}: ")


def test_a_rep_joins_a_queue_from_the_queues_tab(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    view.member_queue.setCurrentIndex(view.member_queue.findText("Inbound — TX"))
    view.member_rep.setCurrentIndex(0)
    view.member_weight.setValue(3)
    view.member_cap.setValue(9)
    qtbot.mouseClick(view.member_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view._loading, timeout=10000)
    inbound = next(q for q in view.snapshot.queues if q["name"] == "Inbound — TX")
    member = next(m for m in inbound["members"] if m["rep"] == view.member_rep.itemText(0))
    assert (member["weight"], member["daily_cap"]) == (3, 9)


def test_books_preview_then_apply(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    view.tabs.setCurrentIndex(2)
    before = {b["rep"]: b["accounts"] for b in view.snapshot.books}
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.plan is not None, timeout=15000)
    assert view.moves_table.rowCount() == len(view.plan.take_back) + len(view.plan.refill) > 0
    assert {b["rep"]: b["accounts"] for b in view.snapshot.books} == before  # a preview changes nothing
    expected = {b["rep"]: b["after"] for b in view.plan.books}
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.plan.applied and not view._loading and
                    {b["rep"]: b["accounts"] for b in view.snapshot.books} == expected, timeout=20000)
    assert all(b["accounts"] <= b["book_max"] for b in view.snapshot.books)
