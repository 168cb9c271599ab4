"""Rotation planning: coverage figures, a solved cycle's spreading, roll-forward of missed visits, saving."""

import json
from datetime import date, timedelta

import numpy as np
import pytest

from core.rotation import planner
from core.rotation.calendar import WORK_WEEKDAYS
from core.rotation.planner import AccountNeed, CycleDay, PlannedVisit, RotationInput

MONDAY = date(2026, 11, 23)
REP = {"id": 1, "name": "Rita", "home_lat": 30.0, "home_lon": -97.0, "work_start": "08:00",
       "work_end": "17:00", "capacity_hours_week": 40, "time_zone": "America/Chicago"}


def make_input(needs, days, minutes_per_day=480.0):
    travel = planner.drive_matrix([(REP["home_lat"], REP["home_lon"]), *[(n.lat, n.lon) for n in needs]])
    return RotationInput(rep=REP, start=MONDAY, weeks=len(days) // 5, days=tuple(days), needs=tuple(needs),
                         not_due=(), minutes_per_day=minutes_per_day, travel=travel)


def test_coverage_shortfall_on_a_hand_made_case():
    # One working day a week of 60 minutes; two weekly 60-minute accounts at the rep's home (no driving).
    days = [CycleDay(i, MONDAY + timedelta(days=7 * (i // 5) + i % 5), "" if i % 5 == 0 else "off")
            for i in range(20)]
    needs = [AccountNeed(k, f"A{k}", 30.0, -97.0, "weekly", 4, 60.0, WORK_WEEKDAYS) for k in (1, 2)]
    cov = make_input(needs, days, 60.0).coverage()
    assert cov.working_days == 4
    assert cov.available_hours_per_week == pytest.approx(1.0)
    assert cov.visit_hours_per_week == pytest.approx(2.0)
    assert cov.drive_hours_per_week == pytest.approx(0.0, abs=1e-9)
    assert cov.shortfall_hours_per_week == pytest.approx(1.0)
    assert cov.visits == 8 and cov.visits_short == 4
    assert not cov.fits and "Short by 1.0 h/week" in cov.summary()


def test_coverage_counts_driving_and_fits_when_hours_suffice():
    days = [CycleDay(i, d) for i, d in enumerate(planner.calendar.cycle_days(MONDAY, 4))]
    needs = [AccountNeed(1, "Near", 30.0, -97.0, "weekly", 4, 30.0, WORK_WEEKDAYS),
             AccountNeed(2, "Far", 30.5, -97.0, "weekly", 4, 30.0, WORK_WEEKDAYS)]
    cov = make_input(needs, days).coverage()
    assert cov.fits and not cov.tight and cov.visits_short == 0 and cov.shortfall_hours_per_week == 0
    assert cov.drive_hours_per_week > 0.5  # ~55 km apart: about an hour's link each visit


def test_solved_rotation_spreads_visits_and_keeps_weekly_accounts_on_one_weekday():
    days = planner.cycle_calendar(None, None, MONDAY, 4)
    rng = np.random.default_rng(3)
    needs = []
    for k in range(24):
        freq = ("weekly", "biweekly", "monthly")[k % 3]
        allowed = ("tue", "wed") if k == 5 else WORK_WEEKDAYS
        lat, lon = 30.0 + rng.normal(0, 0.15), -97.0 + rng.normal(0, 0.15)
        needs.append(AccountNeed(k + 1, f"Acct {k}", lat, lon, freq, planner.visits_in_cycle(freq, 4), 45.0,
                                 allowed, "A"))
    rotation = planner.solve_rotation(make_input(needs, days), seconds=3, route_days=False)
    assert not rotation.unplaced
    seen: dict[int, list[date]] = {}
    for d in rotation.days:
        if d.off:
            assert not d.stops
        assert d.hours <= 8.0 + 1e-6
        for s in d.stops:
            seen.setdefault(s.account_id, []).append(d.day)
    for n in needs:
        got = sorted(seen[n.account_id])
        assert len(got) == n.visits
        if n.frequency == "weekly":
            regular = [g for g in got if g.isocalendar().week != 48]  # Thanksgiving week may move a day
            assert len({g.weekday() for g in regular}) == 1
            assert [g.isocalendar().week for g in got] == [48, 49, 50, 51]
        if n.frequency == "biweekly":
            assert (got[1] - got[0]).days == 14 or got[0].isocalendar().week == 48
    assert {d.weekday() for d in seen[6]} <= {1, 2}
    busy = [d.hours for d in rotation.days if not d.off]
    mean = sum(busy) / len(busy)
    assert max(busy) < 1.8 * mean and min(busy) > 0.3 * mean, busy  # balanced days


def test_roll_forward_moves_missed_visits_into_days_with_room():
    d1, d2, d3 = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
    missed = [PlannedVisit(1, date(2026, 11, 27), 60, priority=2), PlannedVisit(2, date(2026, 11, 27), 60, priority=1),
              PlannedVisit(3, date(2026, 11, 27), 450, priority=3)]
    moves = dict((v.account_id, d) for v, d in planner.roll_forward(
        missed, {d1: 400, d2: 200, d3: 0}, [d1, d2, d3], 480, allowed=lambda acc, d: not (acc == 1 and d == d2)))
    assert moves[2] == d1          # most important first, into the first day with room
    assert moves[1] == d3          # d1 is now full and account 1 may not be seen on d2
    assert moves[3] is None        # 450 minutes fit nowhere after the others
    assert planner.roll_forward([PlannedVisit(4, d3, 30)], {}, [d1, d2, d3], 480)[0][1] is None


def test_roll_forward_missed_writes_new_planned_visits(demo_store):
    from core.storage import writes

    acc = demo_store.conn.execute("SELECT id, owner_id FROM accounts WHERE owner_id = 6 AND status = 'active' "
                                  "AND (opening_hours IS NULL OR opening_hours LIKE '%mon%') LIMIT 1").fetchone()
    writes.insert(demo_store, "visits", {"account_id": acc["id"], "rep_id": 6, "planned_start": "2026-11-19T15:00:00Z",
                                         "planned_minutes": 45, "status": "missed"})
    before = demo_store.scalar("SELECT count(*) FROM change_log")
    moves, changes = planner.roll_forward_missed(demo_store, 6, date(2026, 11, 20))
    assert (acc["id"], date(2026, 11, 23)) in moves
    row = demo_store.conn.execute("SELECT * FROM visits WHERE account_id = ? AND status = 'planned' "
                                  "AND notes LIKE 'rolled forward%'", (acc["id"],)).fetchone()
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(demo_store.scalar("SELECT time_zone FROM reps WHERE id = 6"))
    expected = datetime(2026, 11, 23, 8, 0, tzinfo=tz).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["planned_start"] == expected  # the rep's 08:00 start, stored in UTC
    assert changes.touched("visits") and demo_store.scalar("SELECT count(*) FROM change_log") > before
    # Running it again does not book the account twice.
    again, _ = planner.roll_forward_missed(demo_store, 6, date(2026, 11, 20))
    assert acc["id"] not in [a for a, _ in again]


def test_save_rotation_writes_plan_slots_and_change_log(demo_store):
    rotation = planner.plan_rotation(demo_store, 6, MONDAY, 4, seconds=2, route_days=False)
    before = demo_store.scalar("SELECT count(*) FROM change_log")
    plan_id, changes = planner.save_rotation(demo_store, rotation)
    plan = demo_store.conn.execute("SELECT * FROM rotation_plans WHERE id = ?", (plan_id,)).fetchone()
    assert plan["rep_id"] == 6 and plan["start_date"] == "2026-11-23" and plan["weeks"] == 4
    assert json.loads(plan["params"])["coverage"]["visits"] == rotation.coverage.visits
    slots = demo_store.conn.execute("SELECT * FROM rotation_slots WHERE plan_id = ? ORDER BY day, seq",
                                    (plan_id,)).fetchall()
    assert len(slots) == rotation.visit_count > 0
    assert "2026-11-26" not in {s["day"] for s in slots}
    logged = demo_store.scalar("SELECT count(*) FROM change_log WHERE table_name IN ('rotation_plans', "
                               "'rotation_slots')")
    assert logged == 1 + len(slots) and demo_store.scalar("SELECT count(*) FROM change_log") == before + logged
    assert changes.ids("rotation_slots") == {s["id"] for s in slots}


def test_prepare_reports_bad_input(demo_store):
    with pytest.raises(ValueError, match="weeks"):
        planner.prepare(demo_store, 6, MONDAY, 20)


def test_account_too_far_for_a_day_trip_is_reported_not_dropped_silently():
    days = planner.cycle_calendar(None, None, MONDAY, 4)
    needs = [AccountNeed(1, "Near", 30.05, -97.0, "weekly", 4, 45.0, WORK_WEEKDAYS, "A"),
             AccountNeed(2, "Far away", 33.0, -97.0, "monthly", 1, 45.0, WORK_WEEKDAYS, "A")]
    data = make_input(needs, days)
    assert data.coverage().too_far == 1 and "too far from home" in data.coverage().summary()
    rotation = planner.solve_rotation(data, seconds=1, route_days=False)
    assert [(a, r.split(":")[0]) for a, _, r in rotation.unplaced] == [(2, "too far for a day trip")]
    assert rotation.visit_count == 4


def test_when_hours_run_out_a_accounts_are_placed_before_c_accounts():
    # Only two working days of 60 minutes; three A and five C monthly 45-minute accounts, no driving.
    days = [CycleDay(i, MONDAY + timedelta(days=7 * (i // 5) + i % 5), "" if i in (0, 7) else "off")
            for i in range(20)]
    needs = [AccountNeed(k, f"C{k}", 30.0, -97.0, "monthly", 1, 45.0, WORK_WEEKDAYS, "C") for k in range(1, 6)]
    needs += [AccountNeed(k, f"A{k}", 30.0, -97.0, "monthly", 1, 45.0, WORK_WEEKDAYS, "A") for k in range(6, 9)]
    rotation = planner.solve_rotation(make_input(needs, days, 60.0), seconds=1, route_days=False)
    placed = [s.name for d in rotation.days for s in d.stops]
    assert len(placed) == 2 and all(name.startswith("A") for name in placed)
    everyone = {n.name for n in needs}
    assert {n for _, n, _ in rotation.unplaced} == everyone - set(placed)
