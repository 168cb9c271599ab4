"""Google Maps directions links for phone navigation, split to the URL scheme's waypoint limit.

The Maps URLs API allows up to 9 intermediate waypoints besides origin and destination on mobile
(desktop takes more, but a link must open on the phone), so each link carries at most 11 points
and the next link starts where the previous one ended.
"""

from __future__ import annotations

from typing import Sequence
from urllib.parse import urlencode

from core.planning.week import WeekPlan

MAX_WAYPOINTS = 9
BASE = "https://www.google.com/maps/dir/?"


def _pt(p: tuple[float, float]) -> str:
    return f"{p[0]:.6f},{p[1]:.6f}"


def directions_links(points: Sequence[tuple[float, float]], max_waypoints: int = MAX_WAYPOINTS) -> list[str]:
    """Links covering the points in order; consecutive links share their end/start point."""
    if len(points) < 2:
        return []
    per_link = max_waypoints + 2
    links = []
    i = 0
    while i < len(points) - 1:
        chunk = points[i:i + per_link]
        params = {"api": "1", "origin": _pt(chunk[0]), "destination": _pt(chunk[-1]), "travelmode": "driving"}
        if len(chunk) > 2:
            params["waypoints"] = "|".join(_pt(p) for p in chunk[1:-1])
        links.append(BASE + urlencode(params, safe=",|"))
        i += len(chunk) - 1
    return links


def plan_links(plan: WeekPlan, max_waypoints: int = MAX_WAYPOINTS) -> dict[str, list[str]]:
    """Per day: links from the start through every visit to the end."""
    out = {}
    for route in plan.result.routes:
        if not route.visits:
            continue
        shift = plan.problem.shift(route.shift_id)
        pts = [shift.start] + [(plan.accounts[v.stop_id]["lat"], plan.accounts[v.stop_id]["lon"])
                               for v in route.visits] + [shift.end_point]
        out[route.shift_id] = directions_links(pts, max_waypoints)
    return out
