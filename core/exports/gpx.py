"""A plan as GPX: one route per day (home, visits in order, home) and a waypoint per visit."""

from __future__ import annotations

import gpxpy.gpx

from core.planning.week import WeekPlan


def plan_to_gpx(plan: WeekPlan) -> str:
    """GPX 1.1 text a phone or satnav can load; times are UTC as GPX requires."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "FieldAtlas"
    gpx.name = f"Visits — {plan.rep['name']}"
    for route in plan.result.routes:
        if not route.visits:
            continue
        shift = plan.problem.shift(route.shift_id)
        r = gpxpy.gpx.GPXRoute(name=f"{route.shift_id} ({len(route.visits)} visits)")
        r.points.append(gpxpy.gpx.GPXRoutePoint(shift.start[0], shift.start[1], name="Start"))
        for seq, v in enumerate(route.visits, 1):
            acc = plan.accounts.get(v.stop_id, {})
            when = plan.at(v.start)
            name = f"{seq}. {acc.get('name', v.stop_id)}"
            r.points.append(gpxpy.gpx.GPXRoutePoint(acc["lat"], acc["lon"], name=name, time=when))
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(acc["lat"], acc["lon"], name=name, time=when,
                                                       description=f"{route.shift_id} {when:%H:%M}"))
        r.points.append(gpxpy.gpx.GPXRoutePoint(shift.end_point[0], shift.end_point[1], name="End"))
        gpx.routes.append(r)
    return gpx.to_xml(version="1.1")
