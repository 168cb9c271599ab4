"""The Map view offscreen: Leaflet starts, markers are drawn, the page talks to Python, nothing goes online."""

from __future__ import annotations

import json

import pytest

import desktop.map  # noqa: F401  (declares fatiles:// before the first web view exists)
from core.settings import Settings
from desktop.context import AppContext

pytestmark = pytest.mark.webengine


def run_js(qtbot, page, expression: str):
    """Evaluate an expression in the page and return its value (as JSON, which crosses reliably)."""
    box: list = []
    page.runJavaScript(f"JSON.stringify({expression})", 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return json.loads(box[0]) if box[0] else None


@pytest.fixture
def map_view(qtbot, demo_store):
    from desktop.map.view import create_view

    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    view = create_view(ctx)
    qtbot.addWidget(view)
    view.resize(1100, 750)
    view.show()
    qtbot.waitUntil(lambda: view.ready, timeout=30_000)
    yield ctx, view
    ctx.tasks.wait(10_000)


def test_map_view_draws_offline_and_answers_clicks_drags_and_requests(qtbot, map_view, demo_store):
    ctx, view = map_view
    page = view.page
    assert run_js(qtbot, page, "typeof window.L") == "object"
    stats = run_js(qtbot, page, "FieldAtlasMap.stats()")
    located = demo_store.scalar("SELECT count(*) FROM accounts WHERE deleted_at IS NULL AND lat IS NOT NULL")
    assert stats["accounts"] == located
    assert stats["drawn"] > 5            # clusters and pins are in the DOM
    assert stats["territories"] >= 8
    assert run_js(qtbot, page, "document.querySelectorAll('.fmap-legend .fmap-row').length") >= 8
    # The demo's counties that belong to no territory have a legend key, and Houston is labelled once.
    legend = run_js(qtbot, page, "document.querySelector('.fmap-legend').textContent")
    assert "No territory (4 counties)" in legend
    homes = run_js(qtbot, page, "Array.from(document.querySelectorAll('.fmap-home span')).map(function (s) "
                                "{ return s.textContent; })")
    assert homes.count("Houston") == 1 and "Dana Whitfield" in homes
    assert view.guard.blocked == []      # the page asked for nothing on the network
    qtbot.waitUntil(lambda: run_js(qtbot, page, "FieldAtlasMap.stats().bridge"), timeout=10_000)

    # A click on a pin goes JS -> QWebChannel -> Python and selects the account.
    account_id = demo_store.scalar("SELECT id FROM accounts WHERE lat IS NOT NULL ORDER BY id LIMIT 1")
    with qtbot.waitSignal(ctx.select_accounts, timeout=10_000) as selected:
        page.runJavaScript(f"FieldAtlasMap.clickAccount({account_id})")
    assert selected.args == [[account_id]]

    # Dropping a dragged pin moves the account (manual precision); undo puts it back.
    before = demo_store.query("SELECT lat, lon, geocode_precision FROM accounts WHERE id = ?", (account_id,))[0]
    page.runJavaScript(f"FieldAtlasMap.bridge.account_moved({account_id}, 30.25, -97.75)")
    qtbot.waitUntil(lambda: demo_store.scalar("SELECT lat FROM accounts WHERE id = ?", (account_id,)) == 30.25,
                    timeout=10_000)
    assert demo_store.scalar("SELECT geocode_precision FROM accounts WHERE id = ?", (account_id,)) == "manual"
    ctx.undo_stack.undo()
    after = demo_store.query("SELECT lat, lon, geocode_precision FROM accounts WHERE id = ?", (account_id,))[0]
    assert tuple(after) == tuple(before)

    # Another view asks the map to show a territory: the map section is shown and the shape circled.
    territory_id = demo_store.scalar("SELECT id FROM territories WHERE name = 'Houston Metro'")
    qtbot.waitUntil(lambda: view.ready, timeout=30_000)  # undo may have rebuilt the page
    with qtbot.waitSignal(ctx.navigate, timeout=5_000) as navigated:
        view.show_on_map({"territory_id": territory_id})  # the main window routes ctx.show_on_map here
    assert navigated.args == ["map"]
    qtbot.waitUntil(lambda: run_js(qtbot, view.page, "FieldAtlasMap.groups.highlight.getLayers().length") == 1,
                    timeout=10_000)


def test_area_menu_gives_the_accounts_inside_to_a_rep_with_undo(qtbot, map_view, demo_store):
    ctx, view = map_view
    ring = [[29.6, -95.6], [29.9, -95.6], [29.9, -95.2], [29.6, -95.2]]
    page_ids = []
    view.bridge.area_selected_signal.connect(lambda r: page_ids.append(r))
    view.page.runJavaScript(f"FieldAtlasMap.bridge.area_selected({json.dumps(json.dumps(ring))})")
    qtbot.waitUntil(lambda: bool(page_ids), timeout=10_000)
    assert page_ids[0] == ring
    from core.maps.layers import accounts_in_polygon

    ids = accounts_in_polygon(demo_store, ring)
    assert ids
    rep = demo_store.query("SELECT id, name FROM reps WHERE role = 'rep' ORDER BY name DESC LIMIT 1")[0]
    old = dict(demo_store.query(f"SELECT id, owner_id FROM accounts WHERE id IN ({','.join('?' * len(ids))})", ids))
    menu = view.area_menu(ids)
    give = next(a for a in menu.actions() if a.text() == "Give them to rep").menu()
    next(a for a in give.actions() if a.text() == rep["name"]).trigger()
    owners = {r[0] for r in demo_store.query(
        f"SELECT owner_id FROM accounts WHERE id IN ({','.join('?' * len(ids))})", ids)}
    assert owners == {rep["id"]}
    assert demo_store.scalar("SELECT count(*) FROM assignments WHERE rep_id = ? AND valid_to IS NULL AND "
                             f"account_id IN ({','.join('?' * len(ids))})", [rep["id"], *ids]) == len(ids)
    # The live page is updated from the database after the change: the new owner's count grew.
    qtbot.waitUntil(lambda: view.updates_applied > 0, timeout=20_000)
    legend = run_js(qtbot, view.page, "Array.from(document.querySelectorAll('.fmap-legend .fmap-row'))"
                                      ".map(function (r) { return r.textContent; })")
    expected = demo_store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ? AND lat IS NOT NULL "
                                 "AND deleted_at IS NULL", (rep["id"],))
    assert f"{rep['name']}{expected:,}" in legend
    ctx.undo_stack.undo()
    assert dict(demo_store.query(
        f"SELECT id, owner_id FROM accounts WHERE id IN ({','.join('?' * len(ids))})", ids)) == old


# Accounts of the page under the legend's box, counted in the test from the data (not the page's helper).
UNDER_LEGEND = """(function () {
  var m = FieldAtlasMap.map, A = FieldAtlasMap.data.accounts, box = m.getContainer().getBoundingClientRect();
  var r = document.querySelector('.fmap-legend').getBoundingClientRect(), n = 0;
  for (var i = 0; i < A.id.length; i++) {
    var p = m.latLngToContainerPoint([A.lat[i], A.lon[i]]);
    var x = p.x + box.left, y = p.y + box.top;
    if (x >= r.left && x <= r.right && y >= r.top && y <= r.bottom) n++;
  }
  return n;
})()"""


def test_city_labels_never_cover_cluster_counts_and_the_legend_finds_the_emptiest_corner(qtbot, map_view):
    ctx, view = map_view
    page = view.page
    # Home badges are drawn under the markers: a count is never hidden by a city name.
    z = run_js(qtbot, page, "[+FieldAtlasMap.map.getPane('homePane').style.zIndex, "
                            "+getComputedStyle(FieldAtlasMap.map.getPane('markerPane')).zIndex]")
    assert z[0] < z[1]
    # And they move beside the clusters: far less overlap than every badge at one fixed spot.
    naive = run_js(qtbot, page, "FieldAtlasMap.placeLabels([14, -40])")
    placed = run_js(qtbot, page, "FieldAtlasMap.placeLabels()")
    assert naive > 0 and placed < naive / 4, (naive, placed)

    # Houston in the lower right of the view: that corner is full of accounts; the legend goes where there are fewest.
    run_js(qtbot, page, "FieldAtlasMap.map.setView([30.0, -95.75], 10, {animate: false}) && 1")
    run_js(qtbot, page, "FieldAtlasMap.legend.setPosition('bottomright') && 1")
    at_bottom_right = run_js(qtbot, page, UNDER_LEGEND)
    corner = run_js(qtbot, page, "FieldAtlasMap.placeLegend()")
    scores = run_js(qtbot, page, "FieldAtlasMap.legendScores")
    assert run_js(qtbot, page, UNDER_LEGEND) == min(scores.values()) <= at_bottom_right
    assert scores[corner] == min(scores.values()) < scores["bottomright"], scores

    # The legend folds away to its title and opens again.
    body = "document.querySelector('.fmap-legend-body').offsetHeight"
    assert run_js(qtbot, page, body) > 50
    run_js(qtbot, page, "document.querySelector('.fmap-legend-title').click() || 1")
    assert run_js(qtbot, page, body) == 0
    run_js(qtbot, page, "document.querySelector('.fmap-legend-title').click() || 1")
    assert run_js(qtbot, page, body) > 50


def test_county_lines_are_drawn_for_the_states_in_view_only(qtbot, map_view):
    ctx, view = map_view
    page = view.page
    assert run_js(qtbot, page, "FieldAtlasMap.stats().counties") == ["TX"]
    assert run_js(qtbot, page, "FieldAtlasMap.groups.counties.getLayers().length") == 1
    # The whole country: county lines would be clutter, so none are drawn.
    assert run_js(qtbot, page, "FieldAtlasMap.map.setView([39, -96], 4, {animate: false}) && "
                               "FieldAtlasMap.groups.counties.getLayers().length") == 0
    # Back on Texas the (already built) lines come back.
    assert run_js(qtbot, page, "FieldAtlasMap.map.setView([31, -99], 6, {animate: false}) && "
                               "FieldAtlasMap.countiesShown") == ["TX"]
