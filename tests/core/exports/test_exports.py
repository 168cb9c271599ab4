"""Exports read back by the real parsers: ICS by icalendar, GPX by gpxpy; map links split correctly."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

import gpxpy
import icalendar
import pytest

from core.exports import MAX_WAYPOINTS, directions_links, plan_links, plan_to_gpx, plan_to_ics
from core.planning import plan_week


@pytest.fixture
def plan(demo_store):
    rid = demo_store.conn.execute("SELECT id FROM reps WHERE name = 'Lauren Lewis'").fetchone()[0]
    return plan_week(demo_store, rid, date(2026, 11, 23), 2, seconds=0.5, seed=1)


def test_ics_parses_back_with_time_zones(plan):
    cal = icalendar.Calendar.from_ical(plan_to_ics(plan))
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["America/Chicago"]
    events = [e for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Visit: ")]
    assert len(events) == len(plan.result.served)
    first_route = next(r for r in plan.result.routes if r.visits)
    first = next(e for e in events if str(e["UID"]).endswith(f"-{first_route.shift_id}-{first_route.visits[0].stop_id}@fieldatlas"))
    start = first.decoded("DTSTART")
    assert str(start.tzinfo) == "America/Chicago"
    assert start == plan.at(first_route.visits[0].start)
    assert first.decoded("DTEND") > start
    lunches = [e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == "Lunch break"]
    assert len(lunches) == sum(1 for r in plan.result.routes if r.visits)


def test_gpx_parses_back(plan):
    g = gpxpy.parse(plan_to_gpx(plan))
    used = [r for r in plan.result.routes if r.visits]
    assert len(g.routes) == len(used)
    assert len(g.routes[0].points) == len(used[0].visits) + 2  # start, visits, end
    acc = plan.accounts[used[0].visits[0].stop_id]
    assert (g.routes[0].points[1].latitude, g.routes[0].points[1].longitude) == pytest.approx((acc["lat"], acc["lon"]))
    assert len(g.waypoints) == len(plan.result.served)


def test_links_split_at_the_waypoint_limit():
    pts = [(30 + i / 100, -97 - i / 100) for i in range(25)]
    links = directions_links(pts)
    assert len(links) == 3  # 11 points, then 10 new, then the last 4 new
    seen = []
    for k, url in enumerate(links):
        q = parse_qs(urlparse(url).query)
        ways = q.get("waypoints", [""])[0].split("|") if "waypoints" in q else []
        assert len(ways) <= MAX_WAYPOINTS
        chunk = [q["origin"][0], *ways, q["destination"][0]]
        if seen:
            assert chunk[0] == seen[-1]  # each link starts where the previous ended
            chunk = chunk[1:]
        seen += chunk
    assert seen == [f"{a:.6f},{b:.6f}" for a, b in pts]
    assert directions_links(pts[:1]) == []


def test_plan_links_cover_each_day(plan):
    links = plan_links(plan)
    assert set(links) == {r.shift_id for r in plan.result.routes if r.visits}
    assert all(u.startswith("https://www.google.com/maps/dir/?api=1") for urls in links.values() for u in urls)
