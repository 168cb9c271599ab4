"""'N per cycle' accounts in a rotation: exactly N visits, spread evenly, on allowed weekdays and open days."""

import json
from datetime import date

from core.rotation import planner
from core.rotation.model import AccountNeed, CycleDay
from core.rotation.problem import cycle_calendar, per_cycle_patterns
from core.storage import writes

MONDAY = date(2026, 11, 30)  # 4 weeks without a holiday


def _visits(rotation):
    seen: dict[int, list[date]] = {}
    for d in rotation.days:
        for s in d.stops:
            seen.setdefault(s.account_id, []).append(d.day)
    return {k: sorted(v) for k, v in seen.items()}


def test_per_cycle_accounts_get_exactly_n_visits_spread_over_the_cycle(demo_store):
    rows = demo_store.conn.execute("SELECT id FROM accounts WHERE owner_id = 6 AND status = 'active' "
                                   "AND lat IS NOT NULL ORDER BY id LIMIT 3").fetchall()
    six, two_tue_thu, three_closed_wed = (r["id"] for r in rows)
    # More visits than weeks, on any working day.
    writes.update(demo_store, "accounts", six, {"visit_frequency": "6/cycle", "opening_hours": None,
                                                 "allowed_weekdays": None, "tier": "A"})
    writes.update(demo_store, "accounts", two_tue_thu, {"visit_frequency": "2/cycle", "opening_hours": None,
                                                         "allowed_weekdays": "tue,thu", "tier": "A"})
    closed_wed = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "thu", "fri")}
    writes.update(demo_store, "accounts", three_closed_wed, {"visit_frequency": "3/cycle", "tier": "A",
                                                             "opening_hours": json.dumps(closed_wed),
                                                             "allowed_weekdays": None})
    rotation = planner.plan_rotation(demo_store, 6, MONDAY, 4, seconds=3, route_days=False)
    seen = _visits(rotation)
    assert len(seen[six]) == 6 and len(set(seen[six])) == 6
    gaps = [(b - a).days for a, b in zip(seen[six], seen[six][1:])]
    # 28 days / 6 visits: about 4.7 days apart, never two on one day, never a week without one.
    assert all(2 <= g <= 7 for g in gaps), seen[six]
    assert len({d.isocalendar().week for d in seen[six]}) == 4
    assert len(seen[two_tue_thu]) == 2 and {d.weekday() for d in seen[two_tue_thu]} <= {1, 3}
    assert 10 <= (seen[two_tue_thu][1] - seen[two_tue_thu][0]).days <= 18
    assert len(seen[three_closed_wed]) == 3 and all(d.weekday() != 2 for d in seen[three_closed_wed])
    assert not [u for u in rotation.unplaced if u[0] in (six, two_tue_thu, three_closed_wed)]


def test_more_per_cycle_than_allowed_days_places_every_allowed_day_and_says_so(demo_store):
    aid = demo_store.conn.execute("SELECT id FROM accounts WHERE owner_id = 6 AND status = 'active' "
                                  "AND lat IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0]
    writes.update(demo_store, "accounts", aid, {"visit_frequency": "6/cycle", "opening_hours": None,
                                                 "allowed_weekdays": "tue", "tier": "A"})
    rotation = planner.plan_rotation(demo_store, 6, MONDAY, 4, seconds=2, route_days=False)
    seen = _visits(rotation)
    assert [d.weekday() for d in seen[aid]] == [1, 1, 1, 1]
    reason = next(r for a, _, r in rotation.unplaced if a == aid)
    assert reason.startswith("4 of its 6 visits placed")


def test_patterns_skip_time_off_and_spread_evenly():
    days = cycle_calendar(None, None, MONDAY, 2, extra_off={date(2026, 12, 2): "training"})
    need = AccountNeed(1, "a", 0.0, 0.0, "4/cycle", 4, 30.0, ("mon", "tue", "wed", "thu", "fri"))
    patterns = per_cycle_patterns(need, days)
    assert patterns
    for p in patterns:
        assert len(p) == 4 and 2 not in p  # index 2 = Wed 2 Dec, time off
        dates = [days[i].day for i in p]
        gaps = [(b - a).days for a, b in zip(dates, dates[1:])]  # 14 days / 4 visits: 3.5 apart
        assert all(2 <= g <= 5 for g in gaps), dates
    assert all(isinstance(d, CycleDay) for d in days)
