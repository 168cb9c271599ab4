"""Changes reach the live map page without reloading it: pins move, territories recolour, routes appear."""

from __future__ import annotations

import pytest

import desktop.map  # noqa: F401  (declares fatiles:// before the first web view exists)
from core.changes import Changes
from core.storage import writes
from core.territories.service import update_territory
from tests.desktop.map.test_map_view import map_view, run_js  # noqa: F401  (fixture and helper)

pytestmark = pytest.mark.webengine

SENTINEL = "window.__fa_sentinel"
INDEX_CONSISTENT = """(function () {
  var F = FieldAtlasMap, A = F.data.accounts, ok = Object.keys(F.index).length === A.id.length;
  for (var i = 0; i < A.id.length; i++) {
    var ll = F.markers[i].getLatLng();
    ok = ok && F.index[A.id[i]] === i && F.markers[i].options.idx === i && ll.lat === A.lat[i] && ll.lng === A.lon[i];
  }
  return ok;
})()"""


def _plant(qtbot, view):
    """A value only this page load holds: a reload would lose it."""
    run_js(qtbot, view.page, f"({SENTINEL} = 'this page load') && 1")
    return view.loads


def _wait_update(qtbot, view, before: int) -> None:
    qtbot.waitUntil(lambda: view.updates_applied > before, timeout=20_000)


def test_a_moved_account_moves_in_the_live_page_without_a_reload(qtbot, map_view, demo_store):
    ctx, view = map_view
    loads = _plant(qtbot, view)
    account_id = demo_store.scalar("SELECT id FROM accounts WHERE lat IS NOT NULL ORDER BY id LIMIT 1")
    before = view.updates_applied
    from desktop.map import actions

    actions.move_account(ctx, account_id, 31.5, -100.25)      # as the Accounts view or an undo would
    _wait_update(qtbot, view, before)
    lat, lon, _cat = run_js(qtbot, view.page, f"FieldAtlasMap.account({account_id})")
    assert (round(lat, 4), round(lon, 4)) == (31.5, -100.25)
    assert run_js(qtbot, view.page, SENTINEL) == "this page load"
    assert view.loads == loads
    # Undo is one more change: the pin goes back, still in the same page.
    old = demo_store.query("SELECT lat, lon FROM accounts WHERE id = ?", (account_id,))
    before = view.updates_applied
    ctx.undo_stack.undo()
    _wait_update(qtbot, view, before)
    lat2, lon2, _ = run_js(qtbot, view.page, f"FieldAtlasMap.account({account_id})")
    restored = demo_store.query("SELECT lat, lon FROM accounts WHERE id = ?", (account_id,))[0]
    assert (round(lat2, 4), round(lon2, 4)) == (round(restored["lat"], 4), round(restored["lon"], 4))
    assert old != restored
    # Deleted, then restored: the pin leaves the page and comes back, the rest untouched.
    from core import accounts as svc

    total = run_js(qtbot, view.page, "FieldAtlasMap.data.accounts.id.length")
    before = view.updates_applied
    ctx.apply(svc.delete_account(demo_store, account_id))
    _wait_update(qtbot, view, before)
    assert run_js(qtbot, view.page, f"FieldAtlasMap.account({account_id})") is None
    assert run_js(qtbot, view.page, "FieldAtlasMap.data.accounts.id.length") == total - 1
    assert run_js(qtbot, view.page, "FieldAtlasMap.groups.accounts.getLayers().length") == total - 1
    # The page's columns, id index and markers still agree after the swap-remove.
    assert run_js(qtbot, view.page, INDEX_CONSISTENT) is True
    before = view.updates_applied
    ctx.apply(svc.restore_account(demo_store, account_id))
    _wait_update(qtbot, view, before)
    assert run_js(qtbot, view.page, f"FieldAtlasMap.account({account_id})") is not None
    assert run_js(qtbot, view.page, "FieldAtlasMap.groups.accounts.getLayers().length") == total
    assert run_js(qtbot, view.page, SENTINEL) == "this page load" and view.loads == loads


def test_recoloured_territory_new_route_and_new_owner_show_in_the_live_page(qtbot, map_view, demo_store):
    ctx, view = map_view
    loads = _plant(qtbot, view)
    page = view.page

    # A territory recoloured in Territories.
    terr = demo_store.query("SELECT id FROM territories WHERE name = 'Houston Metro'")[0]["id"]
    before = view.updates_applied
    ctx.apply(update_territory(demo_store, terr, {"color": "#00aa55"}))
    _wait_update(qtbot, view, before)
    assert run_js(qtbot, page, f"FieldAtlasMap.territories[{terr}].line.options.color") == "#00aa55"

    # A route added by the Plan (written through the core writer, as the planner does).
    rep = demo_store.query("SELECT id FROM reps WHERE role = 'rep' ORDER BY id LIMIT 1")[0]["id"]
    stops = [r[0] for r in demo_store.query(
        "SELECT id FROM accounts WHERE owner_id = ? AND lat IS NOT NULL ORDER BY id LIMIT 3", (rep,))]
    with demo_store.atomic():
        route = writes.insert(demo_store, "routes", {"rep_id": rep, "day": "2026-12-03", "status": "draft"})
        stop_ids = writes.insert_many(demo_store, "route_stops", [
            {"route_id": route, "seq": i + 1, "account_id": a} for i, a in enumerate(stops)])
    before = view.updates_applied
    ctx.apply(Changes.of("routes", [route]).merge(Changes.of("route_stops", stop_ids)))
    _wait_update(qtbot, view, before)
    assert run_js(qtbot, page, f"FieldAtlasMap.routes[{route}] ? FieldAtlasMap.data.routes.length : 0") == 1
    assert run_js(qtbot, page, "Object.keys(FieldAtlasMap.layers._layers).map(function (k) {"
                               " return FieldAtlasMap.layers._layers[k].name; })").count("Planned routes (1)") == 1

    # Accounts given to another rep: the legend counts follow.
    other = demo_store.query("SELECT id, name FROM reps WHERE role = 'rep' AND id <> ? ORDER BY id LIMIT 1",
                             (rep,))[0]
    from desktop.map import actions

    before = view.updates_applied
    actions.assign_to_rep(ctx, stops, other["id"], other["name"])
    _wait_update(qtbot, view, before)
    expected = demo_store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ? AND lat IS NOT NULL "
                                 "AND deleted_at IS NULL", (other["id"],))
    legend = run_js(qtbot, page, "Array.from(document.querySelectorAll('.fmap-legend .fmap-row'))"
                                 ".map(function (r) { return r.textContent; })")
    assert f"{other['name']}{expected:,}" in legend
    cat = run_js(qtbot, page, f"FieldAtlasMap.account({stops[0]})")[2]
    assert run_js(qtbot, page, f"FieldAtlasMap.data.categories[{cat}].key") == str(other["id"])

    # Colouring by tier is one more update of the same page.
    before = view.updates_applied
    view.color_by.setCurrentIndex(view.color_by.findData("tier"))
    _wait_update(qtbot, view, before)
    assert run_js(qtbot, page, "FieldAtlasMap.data.title") == "Accounts by tier"

    assert run_js(qtbot, page, SENTINEL) == "this page load"
    assert view.loads == loads
    assert view.guard.blocked == []


def test_the_map_is_drawn_in_the_background_before_it_is_opened(qtbot, demo_store):
    from core.settings import Settings
    from desktop.context import AppContext
    from desktop.main_window import MainWindow

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    assert window.current_section() == "accounts" and "map" not in window.views
    window.prepare_in_background(("map",), delay_ms=0)
    qtbot.waitUntil(lambda: "map" in window.views, timeout=5_000)
    view = window.views["map"]
    qtbot.waitUntil(lambda: view.ready, timeout=30_000)
    # Still on Accounts: the map page was built and drawn while hidden.
    assert window.current_section() == "accounts" and not view.isVisible()
    assert run_js(qtbot, view.page, "FieldAtlasMap.stats().accounts") > 1000
    window.show_section("map")
    assert view.isVisible() and view.ready and view.loads == 1
    ctx.tasks.wait(10_000)
