"""Accept a plan: routes, their ordered stops and planned visits written in one logged transaction."""

from __future__ import annotations

from core import defaults
from core.changes import Changes
from core.planning.week import WeekPlan, booked_visits
from core.storage import writes
from core.storage.database import Store


def accept(store: Store, plan: WeekPlan) -> Changes:
    """Write every non-empty route of the plan (status accepted) with its stops and a planned visit per stop.

    The plan is the truth for its days: earlier draft/accepted routes of the rep on any of them are
    replaced (tombstoned with their still-planned visits), so accepting twice does not double-book the
    week. A visit booked by a rotation (or by hand) is never dropped: when the plan visits that account
    that day, the booked visit is put on the route and re-timed (it keeps its rotation); when not, it
    stays where it was booked.
    """
    rep_id = plan.rep["id"]
    tz_name = plan.rep["time_zone"] or defaults.TIME_ZONE
    route_ids, stop_ids, visit_ids, gone_routes, gone_visits = [], [], [], [], []
    by_day = {plan.day_of(r.shift_id): r for r in plan.result.routes if r.visits}
    with store.atomic():
        for day in plan.days:
            for (old_id,) in store.conn.execute(
                    "SELECT id FROM routes WHERE deleted_at IS NULL AND rep_id = ? AND day = ? AND status != 'done'",
                    (rep_id, day.isoformat())).fetchall():
                for vid, rotation in store.conn.execute(
                        "SELECT id, rotation_plan_id FROM visits WHERE deleted_at IS NULL AND route_id = ? "
                        "AND status = 'planned'", (old_id,)).fetchall():
                    if rotation is None:
                        writes.delete(store, "visits", vid)
                        gone_visits.append(vid)
                    else:
                        writes.update(store, "visits", vid, {"route_id": None})
                        visit_ids.append(vid)
                writes.delete(store, "routes", old_id)
                gone_routes.append(old_id)
        booked = {(v["day"], v["account_id"]): v["id"] for v in booked_visits(store, plan.rep, plan.days[0],
                                                                             (plan.days[-1] - plan.days[0]).days + 1)
                  if v["keeps_day"]}
        for day, route in sorted(by_day.items()):
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
            new = []
            for v in route.visits:
                timing = {"route_id": rid, "planned_start": plan.utc_iso(v.start),
                          "planned_minutes": int(round(v.departure - v.start))}
                already = booked.pop((day, v.stop_id), None)
                if already is not None:
                    writes.update(store, "visits", already, timing)
                    visit_ids.append(already)
                else:
                    new.append({"account_id": v.stop_id, "rep_id": rep_id, **timing, "time_zone": tz_name,
                                "status": "planned", "check_in_at": None, "check_out_at": None, "outcome": None,
                                "notes": None})
            visit_ids += writes.insert_many(store, "visits", new)
    n = sum(len(r.visits) for r in by_day.values())
    return (Changes.of("routes", route_ids + gone_routes, f"accepted {len(route_ids)} routes, {n} visits")
            .merge(Changes.of("route_stops", stop_ids))
            .merge(Changes.of("visits", visit_ids + gone_visits)))
