"""Boundaries decoded from the bundled us-atlas TopoJSON."""

from __future__ import annotations

import pytest

from core.maps import boundaries
from core.maps.geometry import point_in_polygon

HOUSTON = (29.7604, -95.3698)
DALLAS = (32.7767, -96.7970)


def _contains(geometry: dict, lat: float, lon: float) -> bool:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return any(point_in_polygon(lat, lon, [(y, x) for x, y in poly[0]]) for poly in polys)


def test_texas_has_its_254_counties_as_closed_rings():
    fc = boundaries.counties_geojson("TX")
    assert len(fc["features"]) == 254
    for f in fc["features"]:
        polys = f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon" else [f["geometry"]["coordinates"]]
        for poly in polys:
            assert poly[0][0] == poly[0][-1], f["properties"]["name"]
    s, w, n, e = boundaries.bounds(fc)
    assert 25.5 < s < 26.2 and 36.3 < n < 36.6 and -106.7 < w < -106.5 and -93.7 < e < -93.4


def test_harris_county_holds_houston_and_not_dallas():
    harris = next(f for f in boundaries.counties_geojson("TX")["features"] if f["properties"]["name"] == "Harris")
    assert harris["id"] == "48201"
    assert _contains(harris["geometry"], *HOUSTON)
    assert not _contains(harris["geometry"], *DALLAS)


def test_outline_of_two_neighbours_leaves_out_their_shared_border():
    lookup = boundaries.county_lookup("TX")
    harris, fort_bend = lookup["harris"], lookup["fort bend"]
    apart = len(boundaries.outline([harris.geom])) + len(boundaries.outline([fort_bend.geom]))
    together = boundaries.outline([harris.geom, fort_bend.geom])
    assert 0 < len(together) < apart


@pytest.mark.parametrize("given, key", [("Harris County", "harris"), ("  fort bend county ", "fort bend"),
                                        ("St. Mary Parish", "st mary"), ("DeWitt", "dewitt")])
def test_county_names_are_matched_the_way_people_write_them(given, key):
    assert boundaries.normalise_county(given) == key


def test_state_codes_and_fips_are_both_understood():
    assert boundaries.state_code("tx") == "TX"
    assert boundaries.state_code("48") == "TX"
    with pytest.raises(ValueError, match="unknown US state"):
        boundaries.state_code("Texas")
    assert {f["properties"]["code"] for f in boundaries.states_geojson(["TX", "OK"])["features"]} == {"TX", "OK"}


def test_county_lines_are_the_inner_borders_of_a_state_simplified():
    from core.maps.boundaries import county_lines, counties, state_bounds

    lines = county_lines("TX")
    s, w, n, e = state_bounds()["TX"]
    points = [(line[k], line[k + 1]) for line in lines for k in range(0, len(line), 2)]
    assert all(s - 0.01 <= lat <= n + 0.01 and w - 0.01 <= lon <= e + 0.01 for lat, lon in points)
    # Each arc two Texas counties share is drawn once, the state's own border not at all.
    uses: dict[int, int] = {}
    for c in counties("TX"):
        polys = c.geom["arcs"] if c.geom["type"] == "MultiPolygon" else [c.geom["arcs"]]
        for i in (i for p in polys for r in p for i in r):
            uses[~i if i < 0 else i] = uses.get(~i if i < 0 else i, 0) + 1
    assert len(lines) == sum(1 for v in uses.values() if v >= 2) < len(uses)
    # Simplified: fewer points than the source, ends kept (neighbouring lines still meet).
    raw = county_lines("TX", tolerance=0)
    assert sum(len(x) for x in lines) < sum(len(x) for x in raw)
    assert [(x[:2], x[-2:]) for x in lines] == [(x[:2], x[-2:]) for x in raw]
