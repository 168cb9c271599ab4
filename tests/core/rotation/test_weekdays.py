"""Opening hours and allowed weekdays in a planned rotation: a Saturday-only account is seen on Saturdays only."""

import json
from datetime import date

from core.rotation import planner
from core.storage import writes

MONDAY = date(2026, 11, 30)  # 4 weeks without a holiday


def _setup(store):
    rows = store.conn.execute("SELECT id FROM accounts WHERE owner_id = 6 AND status = 'active' AND lat IS NOT NULL "
                              "ORDER BY id LIMIT 3").fetchall()
    saturday_only, weekly, tue_thu = (r["id"] for r in rows)
    writes.update(store, "accounts", saturday_only, {
        "opening_hours": json.dumps({"sat": [["09:00", "14:00"]]}), "allowed_weekdays": None,
        "visit_frequency": "weekly", "tier": "A"})
    writes.update(store, "accounts", weekly, {"opening_hours": None, "allowed_weekdays": None,
                                              "visit_frequency": "weekly", "tier": "A"})
    writes.update(store, "accounts", tue_thu, {"opening_hours": None, "allowed_weekdays": "tue,thu",
                                               "visit_frequency": "weekly", "tier": "A"})
    return saturday_only, weekly, tue_thu


def _visits(rotation):
    seen: dict[int, list[date]] = {}
    for d in rotation.days:
        for s in d.stops:
            seen.setdefault(s.account_id, []).append(d.day)
    return seen


def test_saturday_only_account_is_visited_on_saturdays_once_a_week(demo_store):
    saturday_only, weekly, tue_thu = _setup(demo_store)
    rotation = planner.plan_rotation(demo_store, 6, MONDAY, 4, seconds=3, workdays=("mon", "tue", "wed", "thu",
                                                                                    "fri", "sat"))
    assert rotation.workdays[-1] == "sat" and len(rotation.days) == 24
    seen = _visits(rotation)
    # Open only on Saturdays: every visit is a Saturday, one in each of the 4 weeks.
    assert [d.weekday() for d in seen[saturday_only]] == [5, 5, 5, 5]
    assert sorted(d.isocalendar().week for d in seen[saturday_only]) == [49, 50, 51, 52]
    # Weekly accounts: exactly one visit each week; allowed weekdays are kept.
    for acc in (weekly, tue_thu):
        assert sorted(d.isocalendar().week for d in seen[acc]) == [49, 50, 51, 52]
    assert {d.weekday() for d in seen[tue_thu]} <= {1, 3}
    # The routed Saturday arrives while the account is open (09:00–14:00).
    for d in rotation.days:
        for s in d.stops:
            if s.account_id == saturday_only:
                assert "09:00" <= s.arrive <= "14:00", (d.day, s.arrive)


def test_saturday_only_account_is_not_placed_in_a_monday_to_friday_rotation(demo_store):
    saturday_only, weekly, _ = _setup(demo_store)
    rotation = planner.plan_rotation(demo_store, 6, MONDAY, 4, seconds=2, route_days=False)
    seen = _visits(rotation)
    assert saturday_only not in seen
    reason = next(r for a, _, r in rotation.unplaced if a == saturday_only)
    assert "no allowed weekday" in reason and "Mon–Fri" in reason
    assert sorted(d.isocalendar().week for d in seen[weekly]) == [49, 50, 51, 52]
