"""Planning a demo rep's days: due accounts, accept into logged rows, hand edits, locks, check-in/out."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from core.planning import (PlanOptions, accept, check_in, check_order, check_out, due_accounts, load_accepted,
                           plan_week, reoptimise, visits_on, with_order)
from core.storage import change_log

MONDAY = date(2026, 11, 23)  # the demo's "today" is Fri 2026-11-20
REP = 5  # Lauren Lewis, Austin


def rep_id(store, name="Lauren Lewis"):
    return store.conn.execute("SELECT id FROM reps WHERE name = ?", (name,)).fetchone()[0]


@pytest.fixture
def plan(demo_store):
    return plan_week(demo_store, rep_id(demo_store), MONDAY, 2, seconds=0.5, seed=1)


def test_due_accounts_are_the_reps_own_and_ordered_by_tier(demo_store):
    rid = rep_id(demo_store)
    due = due_accounts(demo_store, rid, MONDAY, 5)
    assert due
    owners = {r[0] for r in demo_store.conn.execute(
        f"SELECT DISTINCT owner_id FROM accounts WHERE id IN ({','.join(str(a['id']) for a in due)})")}
    assert owners == {rid}
    ranks = ["ABC".index(a["tier"] or "C") for a in due]
    assert ranks == sorted(ranks)


def test_plan_respects_opening_hours_and_working_hours(plan):
    assert len(plan.days) == 2
    assert plan.result.served
    for route in plan.result.routes:
        assert route.feasible, route.warnings
        shift = plan.problem.shift(route.shift_id)
        assert shift.start_min <= route.leave and route.back <= shift.end_min + 1e-6
        for v in route.visits:
            stop = plan.problem.stop(v.stop_id)
            assert any(a - 1e-6 <= v.start <= b + 1e-6 for a, b in stop.windows), (v, stop.windows)
    # Every due candidate is either planned or reported with a reason.
    assert {*plan.result.served, *(u.stop_id for u in plan.result.unserved)} == set(plan.accounts)
    assert all(u.reason for u in plan.result.unserved)


def test_accept_writes_routes_stops_and_planned_visits_with_logged_writes(demo_store, plan):
    before = demo_store.scalar("SELECT max(seq) FROM change_log")
    changes = accept(demo_store, plan)
    n = len(plan.result.served)
    assert len(changes.ids("visits")) == n
    rows = demo_store.conn.execute(
        f"SELECT * FROM visits WHERE id IN ({','.join(map(str, changes.ids('visits')))})").fetchall()
    assert {r["status"] for r in rows} == {"planned"}
    assert all(r["planned_start"].endswith("Z") and r["time_zone"] for r in rows)
    logged = demo_store.conn.execute(
        "SELECT table_name, count(*) FROM change_log WHERE seq > ? AND op = 'insert' GROUP BY table_name",
        (before,)).fetchall()
    assert dict((r[0], r[1]) for r in logged) == {"routes": len(changes.ids("routes")), "route_stops": n, "visits": n}
    saved = load_accepted(demo_store, plan.rep["id"], MONDAY, 2)
    assert saved.orders() == {k: v for k, v in plan.orders().items()}
    # Accepting again replaces the same days instead of double-booking them.
    accept(demo_store, plan)
    live = demo_store.scalar("SELECT count(*) FROM visits WHERE deleted_at IS NULL AND status = 'planned' "
                             "AND rep_id = ?", (plan.rep["id"],))
    assert live == n


def test_hand_edit_is_checked_instantly(plan):
    orders = plan.orders()
    day1, day2 = plan.days[0].isoformat(), plan.days[1].isoformat()
    # Pile the second day onto the first: the day overflows and the check says so.
    piled = {day1: orders[day1] + orders[day2], day2: []}
    result = check_order(plan, piled)
    assert not result.route_for(day1).feasible
    assert any("late" in w or "after working hours" in w for w in result.route_for(day1).warnings)
    edited = with_order(plan, piled)
    assert edited.result.route_for(day1).stop_ids == piled[day1]


def test_reoptimise_keeps_locked_visits_on_their_day(plan):
    orders = plan.orders()
    day2 = plan.days[1].isoformat()
    moved = orders[plan.days[0].isoformat()][0]
    orders = {d: [x for x in ids if x != moved] for d, ids in orders.items()}
    orders[day2].append(moved)
    new = reoptimise(plan, orders, {moved}, seconds=0.5)
    assert moved in new.result.route_for(day2).stop_ids
    assert next(v for v in new.result.route_for(day2).visits if v.stop_id == moved).locked


def test_closed_day_is_reported(demo_store):
    rid = rep_id(demo_store)
    # A restaurant-hours account (closed Mondays) planned on a Monday alone.
    acc = demo_store.conn.execute("SELECT id FROM accounts WHERE owner_id = ? AND opening_hours NOT LIKE '%\"mon\"%' "
                                  "AND lat IS NOT NULL LIMIT 1", (rid,)).fetchone()[0]
    p = plan_week(demo_store, rid, MONDAY, 1, seconds=0.3, account_ids=[acc])
    # Not a stop with an impossible window: it is no candidate that day, and the plan says why.
    assert not p.problem.stops and not p.result.unserved
    assert p.not_open == {acc: "closed Mon"}


def test_check_in_and_out_are_logged_and_move_last_visit(demo_store, plan):
    accept(demo_store, plan)
    day_visits = visits_on(demo_store, plan.rep["id"], plan.days[0], plan.rep["time_zone"])
    assert day_visits
    v = day_visits[0]
    t_in = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
    t_out = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)
    check_in(demo_store, v["id"], t_in)
    changes = check_out(demo_store, v["id"], "Order placed", "Wants samples", t_out)
    row = demo_store.conn.execute("SELECT * FROM visits WHERE id = ?", (v["id"],)).fetchone()
    assert (row["status"], row["check_in_at"], row["check_out_at"], row["outcome"]) == \
        ("done", "2026-11-23T15:00:00Z", "2026-11-23T16:00:00Z", "Order placed")
    assert demo_store.scalar("SELECT last_visit_at FROM accounts WHERE id = ?", (v["account_id"],)) == "2026-11-23T15:00:00Z"
    assert changes.touched("accounts")
    cols = set(change_log.changed_columns(demo_store, "visits", v["id"], op="update"))
    assert {"check_in_at", "check_out_at", "status", "outcome"} <= cols
    with pytest.raises(ValueError, match="already checked out"):
        check_in(demo_store, v["id"])
    with pytest.raises(ValueError, match="outcome"):
        check_out(demo_store, day_visits[1]["id"] if len(day_visits) > 1 else v["id"], "  ")


def test_hotel_night_moves_the_start_and_end(demo_store):
    rid = rep_id(demo_store)
    hotel = (30.5, -97.5)
    p = plan_week(demo_store, rid, MONDAY, 2, seconds=0.3, options=PlanOptions(hotels={MONDAY: hotel}))
    mon, tue = p.problem.shifts
    assert mon.end_point == hotel and tue.start == hotel
    assert mon.start != hotel


def test_hand_edit_keeps_the_solvers_reasons(plan):
    orders = plan.orders()
    day1 = plan.days[0].isoformat()
    taken = orders[day1][0]
    edited = with_order(plan, {**orders, day1: orders[day1][1:]})
    reasons = {u.stop_id: u.reason for u in edited.result.unserved}
    assert reasons[taken] == "left out by hand"
    for u in plan.result.unserved:
        assert reasons[u.stop_id] == u.reason


def test_planning_an_accepted_week_again_keeps_its_accounts(demo_store):
    """A re-plan used to leave out every account the accepted plan had booked, so accepting it dropped them."""
    rep = demo_store.scalar("SELECT id FROM reps WHERE name = 'Lauren Lewis'")
    first = plan_week(demo_store, rep, date(2026, 12, 7), 2, seconds=0.5)
    accept(demo_store, first)
    served = set(first.result.served)
    again = plan_week(demo_store, rep, date(2026, 12, 7), 2, seconds=0.5)
    # Each is a candidate again: in the new plan, or listed under Not planned with its reason (a more
    # urgent account may take its place), never silently gone.
    unserved = {u.stop_id: u.reason for u in again.result.unserved}
    assert served <= set(again.result.served) | set(unserved)
    assert all(unserved[i] for i in served - set(again.result.served))
    accept(demo_store, again)
    rows = demo_store.conn.execute(
        "SELECT account_id, count(*) FROM visits WHERE deleted_at IS NULL AND status = 'planned' AND rep_id = ? "
        "AND planned_start >= '2026-12-07' AND planned_start < '2026-12-09T12' GROUP BY account_id", (rep,)).fetchall()
    assert {r[0] for r in rows} == set(again.result.served) and all(r[1] == 1 for r in rows)
