"""Exports of a plan for the rep's phone and calendar: ICS (with time zones), GPX, and map links."""

from core.exports.gpx import plan_to_gpx
from core.exports.ics import plan_to_ics
from core.exports.maplinks import MAX_WAYPOINTS, directions_links, plan_links

__all__ = ["MAX_WAYPOINTS", "directions_links", "plan_links", "plan_to_gpx", "plan_to_ics"]
