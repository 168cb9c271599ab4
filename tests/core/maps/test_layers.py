"""What the map reads from the database: coloured accounts, territory shapes, routes, selections."""

from __future__ import annotations

import json

import pytest

from core.maps import layers
from core.maps.layers import MapError, MapOptions, load_map_data
from core.storage import writes


def _located(store, where="1=1", params=()):
    return store.scalar(f"SELECT count(*) FROM accounts WHERE deleted_at IS NULL AND lat IS NOT NULL AND {where}",
                        params)


def test_colour_by_owner_counts_every_located_account_once(demo_store):
    data = load_map_data(demo_store, MapOptions(color_by="owner"))
    assert len(data.accounts["id"]) == _located(demo_store)
    by_name = {c.name: c for c in data.categories}
    for rep in demo_store.query("SELECT id, name, color FROM reps WHERE role = 'rep'"):
        assert by_name[rep["name"]].count == _located(demo_store, "owner_id = ?", (rep["id"],))
        assert by_name[rep["name"]].color == rep["color"]
    # Each account's category index points at its owner's category.
    owner = dict(demo_store.query("SELECT id, owner_id FROM accounts"))
    for aid, cat in zip(data.accounts["id"][:50], data.accounts["cat"][:50]):
        assert data.categories[cat].key == str(owner[aid] or "")


def test_colour_by_tier_and_bad_choice(demo_store):
    data = load_map_data(demo_store, MapOptions(color_by="tier"))
    counts = {c.key: c.count for c in data.categories}
    assert counts["A"] == _located(demo_store, "tier = 'A'")
    with pytest.raises(MapError, match="colour by"):
        load_map_data(demo_store, MapOptions(color_by="mood"))


def test_territory_filter_shows_its_accounts_and_frames_its_shape(demo_store):
    terr = demo_store.query("SELECT id, name FROM territories WHERE name = 'Houston Metro'")[0]
    data = load_map_data(demo_store, MapOptions(territory=terr["name"]))
    assert len(data.accounts["id"]) == _located(demo_store, "territory_id = ?", (terr["id"],))
    assert [t["id"] for t in data.territories] == [terr["id"]]
    s, w, n, e = data.bounds
    assert 28 < s < 30 < n < 32 and -97 < w < -95 < e < -93
    with pytest.raises(MapError, match="no territory"):
        load_map_data(demo_store, MapOptions(territory="Atlantis"))
    with pytest.raises(MapError, match="no rep"):
        load_map_data(demo_store, MapOptions(rep="Nobody At All"))


def test_demo_county_territories_become_filled_shapes_with_outlines(demo_store):
    data = load_map_data(demo_store)
    shapes = {t["name"]: t for t in data.territories}
    houston = shapes["Houston Metro"]
    rule = json.loads(demo_store.scalar("SELECT rule FROM territories WHERE name = 'Houston Metro'"))
    matched = [c for c in rule["counties"] if c not in houston["unmatched"]]
    assert len(houston["fill"]) == len(matched) > 10
    assert houston["outline"] and not houston["approximate"]
    # The demo's "Unknown County" (ZIPs without a county) is the only name that cannot be drawn.
    assert all(u == "Unknown County" for t in data.territories for u in t["unmatched"])
    assert data.states == ["TX"]


def _territory(store, name, kind, rule):
    with store.atomic():
        return writes.insert(store, "territories", {"name": name, "kind": kind, "rule": json.dumps(rule)})


def test_zip3_polygon_and_non_geographic_rules(empty_store):
    zip3 = _territory(empty_store, "Houston ZIP3", "geographic", {"zip3": ["770"]})
    poly = _territory(empty_store, "Drawn", "geographic", {"polygon": [[30, -98], [30, -97], [31, -97.5]]})
    named = _territory(empty_store, "Key accounts", "named", {"accounts": [1, 2]})
    # A state plus an area key means "that area of the state": no state-wide fill.
    inside = _territory(empty_store, "Houston ZIP3 in TX", "geographic", {"states": ["TX"], "zip3": ["770"]})
    whole = _territory(empty_store, "All of Oklahoma", "geographic", {"states": ["OK"]})
    data = load_map_data(empty_store)
    shapes = {t["id"]: t for t in data.territories}
    assert shapes[zip3]["approximate"] and len(shapes[zip3]["fill"]) == 1
    s, w, n, e = shapes[zip3]["bounds"]
    assert s < 29.76 < n and w < -95.37 < e   # downtown Houston is inside ZIP3 770's hull
    assert shapes[poly]["bounds"] == (30.0, -98.0, 31.0, -97.0)
    assert shapes[named]["fill"] == [] and shapes[named]["outline"] == []
    assert shapes[inside]["bounds"] == shapes[zip3]["bounds"]
    s, w, n, e = shapes[whole]["bounds"]
    assert 33.5 < s < 34 and 36.9 < n < 37.1 and -103.1 < w < -102.9


def test_routes_are_read_with_their_stops_in_order(demo_store):
    rep_id = demo_store.scalar("SELECT id FROM reps WHERE role = 'rep' ORDER BY id LIMIT 1")
    accounts = [r[0] for r in demo_store.query(
        "SELECT id FROM accounts WHERE owner_id = ? AND lat IS NOT NULL ORDER BY id LIMIT 3", (rep_id,))]
    with demo_store.atomic():
        route = writes.insert(demo_store, "routes", {"rep_id": rep_id, "day": "2026-11-23"})
        # Written out of order on purpose: the map must follow seq.
        for seq, aid in ((2, accounts[1]), (1, accounts[0]), (3, accounts[2])):
            writes.insert(demo_store, "route_stops", {"route_id": route, "seq": seq, "account_id": aid})
    data = load_map_data(demo_store, MapOptions(route_ids=[route]))
    [shown] = [r for r in data.routes if r["id"] == route]
    assert [s["account_id"] for s in shown["stops"]] == accounts
    assert [s["seq"] for s in shown["stops"]] == [1, 2, 3]
    assert data.highlight["route_ids"] == [route]


def test_scenario_moves_and_rep_books_are_what_the_map_circles(demo_store):
    accounts = [r[0] for r in demo_store.query("SELECT id FROM accounts ORDER BY id LIMIT 4")]
    with demo_store.atomic():
        scenario = writes.insert(demo_store, "scenarios", {"name": "Rebalance"})
        for aid in accounts[:3]:
            writes.insert(demo_store, "scenario_moves", {"scenario_id": scenario, "account_id": aid})
    assert layers.scenario_account_ids(demo_store, scenario) == accounts[:3]
    data = load_map_data(demo_store, MapOptions(scenario_id=scenario))
    assert data.highlight["account_ids"] == accounts[:3]
    rep_id = demo_store.scalar("SELECT owner_id FROM accounts WHERE id = ?", (accounts[0],))
    assert accounts[0] in layers.rep_account_ids(demo_store, rep_id)


def test_accounts_in_a_drawn_rectangle_are_exactly_those_inside(demo_store):
    s, w, n, e = 29.5, -95.8, 30.1, -95.0
    ring = [[s, w], [n, w], [n, e], [s, e]]
    inside = layers.accounts_in_polygon(demo_store, ring)
    expected = [r[0] for r in demo_store.query(
        "SELECT id FROM accounts WHERE deleted_at IS NULL AND lat > ? AND lat < ? AND lon > ? AND lon < ? ORDER BY id",
        (s, n, w, e))]
    assert inside == expected and len(expected) > 50
    assert layers.accounts_in_polygon(demo_store, ring[:2]) == []


def test_every_state_holding_accounts_gets_its_county_lines(empty_store):
    from core.maps.page import payload

    places = {"TX": (30.27, -97.74), "OK": (35.47, -97.52), "CA": (34.05, -118.24), "NY": (42.65, -73.75),
              "FL": (27.95, -82.46)}
    with empty_store.atomic():
        for i, (state, (lat, lon)) in enumerate(places.items()):
            for k in range(5 - i):   # TX holds most, FL fewest: more than the three biggest states
                writes.insert(empty_store, "accounts", {"name": f"{state} {k}", "lat": lat, "lon": lon, "state": state})
    data = load_map_data(empty_store, MapOptions())
    assert data.states == ["TX", "OK", "CA", "NY", "FL"]
    lines = payload(data, MapOptions())["base"]["counties"]
    assert set(lines) == set(places) and all(lines[s] for s in places)


def test_counties_no_territory_covers_are_listed_and_gone_once_one_does(demo_store):
    """The demo's white counties are nobody's: the map names them (and a rule that takes one removes it)."""
    data = load_map_data(demo_store)
    gaps = sorted(g["name"] for g in data.no_territory)
    assert gaps == ["Culberson", "Kenedy", "King", "Loving"]
    assert all(g["state"] == "TX" and g["geometry"]["type"] in ("Polygon", "MultiPolygon") for g in data.no_territory)
    terr = demo_store.query("SELECT id, rule FROM territories WHERE name = 'El Paso Metro'")[0]
    rule = json.loads(terr["rule"])
    rule["counties"] = list(rule["counties"]) + ["Culberson County", "Loving County"]
    with demo_store.atomic():
        writes.update(demo_store, "territories", terr["id"], {"rule": json.dumps(rule)})
    assert sorted(g["name"] for g in load_map_data(demo_store).no_territory) == ["Kenedy", "King"]
    # One territory's own map has no gaps to explain.
    assert load_map_data(demo_store, MapOptions(territory="El Paso Metro")).no_territory == []


def test_a_second_home_in_a_city_is_labelled_with_the_persons_name(demo_store):
    reps = load_map_data(demo_store).reps
    labels = [r["label"] for r in reps]
    assert len(labels) == len(set(labels))                     # no city named twice
    by_name = {r["name"]: r["label"] for r in reps}
    assert by_name["Grace Martinez"] == "Houston"              # the rep's home keeps the city name
    assert by_name["Dana Whitfield"] == "Dana Whitfield"       # the manager's, also in Houston, says whose
