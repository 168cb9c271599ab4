"""Point in polygon, hulls and bounds used by map selections and shapes."""

from __future__ import annotations

from core.maps.geometry import convex_hull, padded_area, point_in_polygon, robust_bounds

SQUARE = [(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0)]
# A "C" shape: the notch (5, 6..10) is outside although inside the bounding box.
C_SHAPE = [(0, 0), (0, 10), (3, 10), (3, 4), (7, 4), (7, 10), (10, 10), (10, 0)]


def test_point_in_polygon_inside_outside_and_concave_notch():
    assert point_in_polygon(5, 5, SQUARE)
    assert not point_in_polygon(11, 5, SQUARE)
    assert point_in_polygon(5, 2, C_SHAPE)
    assert not point_in_polygon(5, 7, C_SHAPE)
    assert not point_in_polygon(1, 1, SQUARE[:2])


def test_convex_hull_drops_inner_points():
    points = SQUARE + [(5.0, 5.0), (2.0, 3.0)]
    assert sorted(convex_hull(points)) == sorted(SQUARE)


def test_padded_area_makes_a_polygon_even_for_one_point():
    ring = padded_area([(30.0, -95.0)])
    assert len(ring) == 4 and point_in_polygon(30.0, -95.0, ring)


def test_robust_bounds_ignore_null_island_and_strays():
    points = [(30.0 + i / 100, -97.0 - i / 100) for i in range(200)] + [(0.0, 0.0), (64.0, -150.0)]
    s, w, n, e = robust_bounds(points)
    assert s >= 30.0 and n <= 32.0 and w >= -99.0 and e <= -97.0
