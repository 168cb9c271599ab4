"""Accept a plan: routes, their ordered stops and planned visits written in one logged transaction."""

from __future__ import annotations

from core import defaults
from core.changes import Changes
from core.planning.week import WeekPlan
from core.storage import writes
from core.storage.database import Store


def accept(store: Store, plan: WeekPlan) -> Changes:
    """Write every non-empty route of the plan (status accepted) with its stops and a planned visit per stop.

    Earlier draft/accepted routes of the same rep on the same days are replaced (tombstoned with their
    still-planned visits), so accepting twice does not double-book the week.
    """
    rep_id = plan.rep["id"]
    tz_name = plan.rep["time_zone"] or defaults.TIME_ZONE
    route_ids, stop_ids, visit_ids, gone_routes, gone_visits = [], [], [], [], []
    with store.atomic():
        for route in plan.result.routes:
            if not route.visits:
                continue
            day = plan.day_of(route.shift_id)
            for (old_id,) in store.conn.execute(
                    "SELECT id FROM routes WHERE deleted_at IS NULL AND rep_id = ? AND day = ? AND status != 'done'",
                    (rep_id, day.isoformat())).fetchall():
                for (vid,) in store.conn.execute(
                        "SELECT id FROM visits WHERE deleted_at IS NULL AND route_id = ? AND status = 'planned'",
                        (old_id,)).fetchall():
                    writes.delete(store, "visits", vid)
                    gone_visits.append(vid)
                writes.delete(store, "routes", old_id)
                gone_routes.append(old_id)
            shift = plan.problem.shift(route.shift_id)
            rid = writes.insert(store, "routes", {
                "rep_id": rep_id, "day": day.isoformat(), "status": "accepted",
                "start_lat": shift.start[0], "start_lon": shift.start[1],
                "end_lat": shift.end_point[0], "end_lon": shift.end_point[1],
                "distance_m": int(round(route.distance)), "drive_minutes": int(round(route.drive_minutes)),
                "rotation_plan_id": None})
            route_ids.append(rid)
            stop_ids += writes.insert_many(store, "route_stops", [
                {"route_id": rid, "seq": k + 1, "account_id": v.stop_id, "arrive_at": plan.utc_iso(v.start),
                 "depart_at": plan.utc_iso(v.departure), "locked": int(v.locked)}
                for k, v in enumerate(route.visits)])
            visit_ids += writes.insert_many(store, "visits", [
                {"account_id": v.stop_id, "rep_id": rep_id, "route_id": rid, "planned_start": plan.utc_iso(v.start),
                 "planned_minutes": int(round(v.departure - v.start)), "time_zone": tz_name, "status": "planned",
                 "check_in_at": None, "check_out_at": None, "outcome": None, "notes": None}
                for v in route.visits])
    n = len(visit_ids)
    return (Changes.of("routes", route_ids + gone_routes, f"accepted {len(route_ids)} routes, {n} visits")
            .merge(Changes.of("route_stops", stop_ids))
            .merge(Changes.of("visits", visit_ids + gone_visits)))
