"""Plane geometry on lat/lon pairs that maps need: point in polygon, convex hulls, bounds."""

from __future__ import annotations

from typing import Iterable, Sequence

from core.geo import point_in_polygon  # noqa: F401  (re-exported: the map layers use it from here)

LatLon = tuple[float, float]


def convex_hull(points: Iterable[LatLon]) -> list[LatLon]:
    """Convex hull (Andrew's monotone chain) of (lat, lon) points, counter-clockwise, not closed."""
    pts = sorted(set((float(a), float(b)) for a, b in points))
    if len(pts) <= 2:
        return pts

    def cross(o: LatLon, a: LatLon, b: LatLon) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[LatLon] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[LatLon] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def padded_area(points: Sequence[LatLon], pad: float = 0.04) -> list[LatLon]:
    """A polygon around points: their hull, or a small square when there are fewer than three."""
    hull = convex_hull(points)
    if len(hull) >= 3:
        return hull
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    s, n, w, e = min(lats) - pad, max(lats) + pad, min(lons) - pad, max(lons) + pad
    return [(s, w), (s, e), (n, e), (n, w)]


def robust_bounds(points: Sequence[LatLon], trim: float = 0.005) -> tuple[float, float, float, float] | None:
    """Bounds that ignore stray points: (0, 0) "null island" geocodes and the outer `trim` share each side.

    A map opened on a book of accounts should frame the book, not one mis-geocoded row.
    """
    pts = [p for p in points if not (abs(p[0]) < 1 and abs(p[1]) < 1)]
    if len(pts) < 50:
        return bounds(pts)
    lats = sorted(p[0] for p in pts)
    lons = sorted(p[1] for p in pts)
    k = int(len(pts) * trim)
    return lats[k], lons[k], lats[-1 - k], lons[-1 - k]


def bounds(points: Iterable[LatLon]) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of points, or None when there are none."""
    lats, lons = [], []
    for lat, lon in points:
        lats.append(lat)
        lons.append(lon)
    if not lats:
        return None
    return min(lats), min(lons), max(lats), max(lons)
