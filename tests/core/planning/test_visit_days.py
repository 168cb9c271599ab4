"""A week plan honours the account value's weekdays: closed or not-allowed days are never candidates, and it says why."""

from __future__ import annotations

import json
from datetime import date

from core.planning import PlanOptions, plan_week
from core.storage import writes

MONDAY = date(2026, 11, 23)


def _rep(store):
    return store.conn.execute("SELECT id FROM reps WHERE name = 'Lauren Lewis'").fetchone()[0]


def _accounts(store, rep, n):
    return [r[0] for r in store.conn.execute(
        "SELECT id FROM accounts WHERE owner_id = ? AND status = 'active' AND lat IS NOT NULL ORDER BY id LIMIT ?",
        (rep, n))]


def _days_of(plan, account_id):
    return [date.fromisoformat(r.shift_id) for r in plan.result.routes if account_id in r.stop_ids]


def test_saturday_only_account_is_planned_on_saturday_and_never_monday_to_friday(demo_store):
    rep = _rep(demo_store)
    by_rule, by_hours = _accounts(demo_store, rep, 2)
    # Due now (never visited), tier A, weekly: the plan wants it as soon as it may.
    writes.update(demo_store, "accounts", by_rule, {"allowed_weekdays": "sat", "opening_hours": None,
                                                    "last_visit_at": None, "tier": "A", "visit_frequency": "weekly"})
    writes.update(demo_store, "accounts", by_hours, {"allowed_weekdays": None, "last_visit_at": None, "tier": "A",
                                                     "opening_hours": json.dumps({"sat": [["08:00", "14:00"]]}),
                                                     "visit_frequency": "weekly"})
    week = plan_week(demo_store, rep, MONDAY, 7, seconds=1, options=PlanOptions(weekends=True))
    for aid in (by_rule, by_hours):
        assert _days_of(week, aid) == [date(2026, 11, 28)], aid  # Saturday, and only then
    workweek = plan_week(demo_store, rep, MONDAY, 5, seconds=1)
    assert not _days_of(workweek, by_rule) and not _days_of(workweek, by_hours)
    assert workweek.not_open[by_rule] == "visits only on Saturdays"
    assert workweek.not_open[by_hours] == "closed Mon–Fri"
    assert by_rule not in {u.stop_id for u in workweek.result.unserved}
    assert by_rule not in {s.id for s in workweek.problem.stops}


def test_account_closed_on_wednesdays_is_never_planned_on_a_wednesday(demo_store):
    rep = _rep(demo_store)
    chosen = _accounts(demo_store, rep, 12)
    closed_wed = json.dumps({d: [["08:00", "17:00"]] for d in ("mon", "tue", "thu", "fri")})
    for aid in chosen:
        writes.update(demo_store, "accounts", aid, {"opening_hours": closed_wed, "allowed_weekdays": None})
    # Every chosen account is closed on Wednesdays; with five days for twelve visits the solver would
    # use Wednesday too if it could.
    plan = plan_week(demo_store, rep, MONDAY, 5, seconds=1, account_ids=chosen)
    wednesday = plan.result.route_for("2026-11-25")
    assert wednesday is None or not wednesday.visits
    assert len(plan.result.served) >= 10
    for aid in chosen:
        assert all(d.weekday() != 2 for d in _days_of(plan, aid))
    # Only a Wednesday: no candidate at all, each with the reason.
    wed = plan_week(demo_store, rep, date(2026, 11, 25), 1, seconds=0.3, account_ids=chosen[:2])
    assert not wed.problem.stops and wed.not_open == {chosen[0]: "closed Wed", chosen[1]: "closed Wed"}
