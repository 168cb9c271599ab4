"""A plan as an iCalendar file: one event per visit in the rep's time zone, with a VTIMEZONE block."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar

from core import defaults
from core.planning.week import WeekPlan


def plan_to_ics(plan: WeekPlan, product: str = "-//FieldAtlas//Visit plan//EN") -> bytes:
    """Every planned visit as a VEVENT (local times with TZID) plus the lunch breaks; a valid RFC 5545 calendar."""
    cal = icalendar.Calendar()
    cal.add("prodid", product)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Visits — {plan.rep['name']}")
    tz_name = plan.rep["time_zone"] or defaults.TIME_ZONE
    tz = ZoneInfo(tz_name)
    stamp = datetime.now(timezone.utc)
    for route in plan.result.routes:
        for seq, v in enumerate(route.visits, 1):
            acc = plan.accounts.get(v.stop_id, {})
            ev = icalendar.Event()
            ev.add("uid", f"visit-{plan.rep['id']}-{route.shift_id}-{v.stop_id}@fieldatlas")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", plan.at(v.start).astimezone(tz))
            ev.add("dtend", plan.at(v.departure).astimezone(tz))
            ev.add("summary", f"Visit: {acc.get('name', v.stop_id)}")
            if acc.get("city"):
                ev.add("location", acc["city"])
            if acc.get("lat") is not None:
                ev.add("geo", (acc["lat"], acc["lon"]))
            ev.add("description", f"Stop {seq} of {len(route.visits)} on {route.shift_id}; "
                                  f"{v.drive_minutes:.0f} min drive from the previous stop.")
            ev.add("categories", ["Customer visit"])
            cal.add_component(ev)
        if route.visits and route.break_start is not None:
            ev = icalendar.Event()
            ev.add("uid", f"lunch-{plan.rep['id']}-{route.shift_id}@fieldatlas")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", plan.at(route.break_start).astimezone(tz))
            ev.add("dtend", plan.at(route.break_end).astimezone(tz))
            ev.add("summary", "Lunch break")
            ev.add("transp", "TRANSPARENT")
            cal.add_component(ev)
    # Calendars without the zone's rules would show UTC; add_missing_timezones writes VTIMEZONE from zoneinfo.
    cal.add_missing_timezones()
    return cal.to_ical()
