"""Plan → Visits driven like a rep on the road: pick the day, check in, check out, mark a visit missed."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QMessageBox

from core import settings as settings_mod
from core.storage import writes
from desktop.context import AppContext
from desktop.plan.visits_tab import VisitsTab

REP = 6  # Carlos Wilson, America/Denver


def _two_visits(store):
    accounts = [r["id"] for r in store.conn.execute(
        "SELECT id FROM accounts WHERE owner_id = ? AND status = 'active' ORDER BY id LIMIT 2", (REP,))]
    return writes.insert_many(store, "visits", [
        {"account_id": accounts[0], "rep_id": REP, "planned_start": "2026-12-07T16:00:00Z", "planned_minutes": 45},
        {"account_id": accounts[1], "rep_id": REP, "planned_start": "2026-12-07T18:00:00Z", "planned_minutes": 30}])


def test_check_in_out_and_mark_missed_from_the_tab(qtbot, demo_store, monkeypatch):
    ids = _two_visits(demo_store)
    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    tab = VisitsTab(ctx)
    qtbot.addWidget(tab)
    tab.rep.setCurrentIndex(next(i for i in range(tab.rep.count()) if tab.rep.itemData(i)["id"] == REP))
    tab.day.setDate(QDate(2026, 12, 7))
    assert [r["id"] for r in tab.rows] == ids
    assert tab.table.item(0, 0).text() == "09:00 (45 min)"  # 16:00Z in Denver

    tab.table.selectRow(0)
    tab.checkin_button.click()
    tab.outcome.setCurrentText("Order placed")
    tab.checkout_button.click()
    assert tab.table.item(0, 2).text() == "done" and tab.table.item(0, 4).text() == "Order placed"

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    tab.table.selectRow(0)
    tab.missed_button.click()  # a done visit is history: refused, with the reason shown
    assert warnings and "only a planned visit" in warnings[0]

    tab.table.selectRow(1)
    tab.notes.setText("Buyer away")
    tab.missed_button.click()
    assert tab.table.item(1, 2).text() == "missed" and "Buyer away" in tab.table.item(1, 4).text()
    assert tuple(demo_store.conn.execute("SELECT status, notes FROM visits WHERE id = ?", (ids[1],)).fetchone()) \
        == ("missed", "Buyer away")
    assert tab.notes.text() == ""
