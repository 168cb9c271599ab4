"""Accounts drawn around on the map can be planned: the Plan opens and plans exactly those accounts."""

from __future__ import annotations

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.main_window import MainWindow


def test_plan_accounts_request_plans_exactly_those(qtbot, demo_store):
    window = MainWindow(AppContext(demo_store, settings_mod.Settings(), persist_settings=False))
    qtbot.addWidget(window)
    rep_id = demo_store.scalar("SELECT id FROM reps WHERE role = 'rep' ORDER BY id LIMIT 1")
    wanted = [r[0] for r in demo_store.query(
        "SELECT id FROM accounts WHERE owner_id = ? AND status = 'active' ORDER BY id LIMIT 4", (rep_id,))]
    window.ctx.plan_accounts.emit(rep_id, wanted)
    assert window.current_section() == "plan"
    week = window.view("plan").week
    assert week.rep_row()["id"] == rep_id
    qtbot.waitUntil(lambda: week.plan is not None and week.task is None, timeout=60000)
    planned = {a for a in week.plan.accounts}
    assert planned == set(wanted)


def test_map_area_menu_offers_planning(qtbot, demo_store):
    from desktop.map.view import MapView

    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    view = MapView(ctx)
    qtbot.addWidget(view)
    got = []
    ctx.plan_accounts.connect(lambda rep, ids: got.append((rep, ids)))
    menu = view.area_menu([1, 2, 3])
    plan_menu = next(a.menu() for a in menu.actions() if a.text() == "Plan visits to them for")
    first = plan_menu.actions()[0]
    first.trigger()
    assert got and got[0][1] == [1, 2, 3]
