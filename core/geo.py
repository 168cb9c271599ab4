"""Small geographic helpers: great-circle distance and the offline driving estimate built on it."""

from __future__ import annotations

import math
from typing import Sequence

from core import defaults

EARTH_RADIUS_M = 6_371_008.8
# Roads are longer than the crow flies; 1.3 is the usual US figure for regional driving.
CIRCUITY = 1.3
KM_PER_MILE = 1.609344


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def road_m(lat1: float, lon1: float, lat2: float, lon2: float, circuity: float = CIRCUITY) -> float:
    """Offline estimate of the driving distance in metres."""
    return haversine_m(lat1, lon1, lat2, lon2) * circuity


def drive_minutes(metres: float, kmh: float = defaults.SPEED_KMH) -> float:
    """Offline estimate of driving time at an average regional speed."""
    return metres / 1000 / kmh * 60


def metres_to_miles(metres: float) -> float:
    return metres / 1000 / KM_PER_MILE


def point_in_polygon(lat: float, lon: float, polygon: Sequence[Sequence[float]]) -> bool:
    """True when (lat, lon) lies inside the polygon given as [[lat, lon], ...] (ray casting).

    Lat/lon are treated as plane coordinates, which is what a user drawing on a Web Mercator
    map means for shapes that do not cross the antimeridian.
    """
    inside = False
    n = len(polygon)
    if n < 3:
        return False
    j = n - 1
    for i in range(n):
        yi, xi = polygon[i][0], polygon[i][1]
        yj, xj = polygon[j][0], polygon[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x_cross:
                inside = not inside
        j = i
    return inside
