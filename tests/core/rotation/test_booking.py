"""Applying a saved rotation: visits booked once, re-apply after edits, missed visits and time off, tier coverage."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.rotation import planner
from core.rotation.model import Coverage, Rotation, RotationDay, RotationStop
from core.storage import writes

MONDAY = date(2026, 11, 30)  # a 2-week cycle with no holiday
REP = 6  # Carlos Wilson, America/Denver


def _accounts(store, n):
    """n of the rep's accounts, made visitable any weekday (no opening hours or weekday limits)."""
    rows = [dict(r) for r in store.conn.execute(
        "SELECT id, name, tier, visit_minutes FROM accounts WHERE owner_id = ? AND status = 'active' "
        "AND lat IS NOT NULL ORDER BY id LIMIT ?", (REP, n))]
    for r in rows:
        writes.update(store, "accounts", r["id"], {"opening_hours": None, "allowed_weekdays": None})
    return rows


def _rotation(store, plan: dict[date, list[dict]]) -> Rotation:
    """A hand-made solved 2-week cycle: each listed day visits the accounts in order from 09:00, hourly."""
    days = []
    for k in range(10):
        d = MONDAY + timedelta(days=7 * (k // 5) + k % 5)
        stops = tuple(RotationStop(a["id"], a["name"], 10.0, float(a["visit_minutes"]), f"{9 + i:02d}:00")
                      for i, a in enumerate(plan.get(d, [])))
        days.append(RotationDay(d, stops, 10.0 * len(stops)))
    cov = Coverage(2, 10, 8.0, 40.0, 1.0, 1.0, sum(len(v) for v in plan.values()), 4)
    return Rotation(REP, "Carlos Wilson", MONDAY, 2, tuple(days), cov, ())


def _booked(store, plan_id):
    tz = ZoneInfo("America/Denver")
    return sorted((r["account_id"], datetime.fromisoformat(r["planned_start"].replace("Z", "+00:00"))
                   .astimezone(tz).strftime("%Y-%m-%d %H:%M"), r["status"])
                  for r in store.conn.execute("SELECT * FROM visits WHERE rotation_plan_id = ? AND deleted_at IS NULL",
                                              (plan_id,)))


@pytest.fixture
def saved(demo_store):
    a = _accounts(demo_store, 4)
    tue, thu = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    rotation = _rotation(demo_store, {MONDAY: [a[0], a[1]], tue: [a[2]], thu: [a[3]],
                                      MONDAY + timedelta(days=7): [a[0], a[1]],
                                      tue + timedelta(days=7): [a[2], a[3]]})
    plan_id, _ = planner.save_rotation(demo_store, rotation)
    return plan_id, a


def test_apply_books_each_slot_once_at_its_solved_time(demo_store, saved):
    plan_id, a = saved
    assert demo_store.scalar("SELECT status FROM rotation_plans WHERE id = ?", (plan_id,)) == "draft"
    assert demo_store.scalar("SELECT count(*) FROM visits WHERE rotation_plan_id = ?", (plan_id,)) == 0
    before = demo_store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'visits'")
    result = planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    assert result.added == 8 and result.removed == result.moved == 0
    booked = _booked(demo_store, plan_id)
    assert booked[:2] == sorted([(a[0]["id"], "2026-11-30 09:00", "planned"), (a[0]["id"], "2026-12-07 09:00",
                                                                                "planned")])
    assert (a[1]["id"], "2026-11-30 10:00", "planned") in booked and len(booked) == 8
    assert demo_store.scalar("SELECT status FROM rotation_plans WHERE id = ?", (plan_id,)) == "applied"
    assert result.changes.touched("visits") and len(result.changes.ids("visits")) == 8
    assert demo_store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'visits'") > before

    # Applying again changes nothing and writes nothing.
    logged = demo_store.scalar("SELECT count(*) FROM change_log")
    again = planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    assert (again.added, again.moved, again.removed, again.kept) == (0, 0, 0, 8)
    assert _booked(demo_store, plan_id) == booked and not again.changes.touched("visits")
    assert demo_store.scalar("SELECT count(*) FROM change_log") == logged


def test_reapply_after_an_edit_replaces_only_future_planned_visits_of_that_plan(demo_store, saved):
    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    # Week 1 happens: Monday's first visit is done, the rep also has an unrelated visit on Dec 8.
    first = demo_store.conn.execute("SELECT id FROM visits WHERE rotation_plan_id = ? AND account_id = ? "
                                    "ORDER BY planned_start LIMIT 1", (plan_id, a[0]["id"])).fetchone()["id"]
    writes.update(demo_store, "visits", first, {"status": "done", "check_in_at": "2026-11-30T16:00:00Z"})
    other = writes.insert(demo_store, "visits", {"account_id": a[2]["id"], "rep_id": REP, "status": "planned",
                                                 "planned_start": "2026-12-08T20:00:00Z", "planned_minutes": 30})
    # The draft is edited: account 3 moves from Tue Dec 8 to Fri Dec 11, and a week-1 slot (already past) too.
    planner.move_slot(demo_store, plan_id, a[3]["id"], date(2026, 12, 8), date(2026, 12, 11))
    planner.move_slot(demo_store, plan_id, a[2]["id"], date(2026, 12, 1), date(2026, 12, 2))
    before = _booked(demo_store, plan_id)
    result = planner.apply_rotation(demo_store, plan_id, today=date(2026, 12, 5))
    after = _booked(demo_store, plan_id)
    assert result.removed == 1 and result.added == 1
    assert (a[3]["id"], "2026-12-08 10:00", "planned") in before and (a[3]["id"], "2026-12-08 10:00",
                                                                      "planned") not in after
    assert any(acc == a[3]["id"] and when.startswith("2026-12-11") for acc, when, _ in after)
    # The past stays as it was: the done visit and week 1's planned visits are untouched.
    assert [b for b in before if b[1] < "2026-12-05"] == [b for b in after if b[1] < "2026-12-05"]
    assert demo_store.conn.execute("SELECT deleted_at, status FROM visits WHERE id = ?", (first,)).fetchone()[:] \
        == (None, "done")
    assert demo_store.scalar("SELECT deleted_at FROM visits WHERE id = ?", (other,)) is None


def test_replan_rolls_a_missed_visit_forward_once(demo_store, saved):
    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    vid = demo_store.conn.execute("SELECT id FROM visits WHERE rotation_plan_id = ? AND account_id = ? "
                                  "ORDER BY planned_start LIMIT 1", (plan_id, a[3]["id"])).fetchone()["id"]
    writes.update(demo_store, "visits", vid, {"status": "missed"})  # Thu Dec 3 missed
    result = planner.replan(demo_store, plan_id, today=date(2026, 12, 4))
    assert result.rolled_forward == 1 and not result.not_rebooked
    row = demo_store.conn.execute("SELECT * FROM visits WHERE rotation_plan_id = ? AND notes = "
                                  "'rolled forward from 2026-12-03'", (plan_id,)).fetchone()
    assert row["account_id"] == a[3]["id"] and row["status"] == "planned"
    assert row["planned_start"][:10] == "2026-12-04"  # the next open day with room, timed by apply
    assert demo_store.scalar("SELECT count(*) FROM rotation_slots WHERE plan_id = ? AND account_id = ? AND "
                             "day = '2026-12-04'", (plan_id, a[3]["id"])) == 1
    assert result.changes.touched("visits") and result.changes.touched("rotation_slots")
    again = planner.replan(demo_store, plan_id, today=date(2026, 12, 4))
    assert again.rolled_forward == 0 and again.added == 0 and again.removed == 0
    # Coverage: the missed visit counts once, through its replacement.
    cov = {c.tier: c for c in planner.tier_coverage(demo_store, plan_id, today=date(2026, 12, 4))}
    tier = a[3]["tier"] if a[3]["tier"] in ("A", "B", "C") else "none"
    assert cov[tier].missed == 0 and cov[tier].done == 0


def test_a_visit_marked_missed_by_the_rep_is_rolled_forward_with_its_reason_kept(demo_store, saved):
    from core.planning import check_in, mark_missed

    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    ids = [r["id"] for r in demo_store.conn.execute(
        "SELECT id FROM visits WHERE rotation_plan_id = ? ORDER BY planned_start", (plan_id,))]
    changes = mark_missed(demo_store, ids[0], "  Store closed for inventory ")
    assert changes.touched("visits")
    row = demo_store.conn.execute("SELECT status, notes FROM visits WHERE id = ?", (ids[0],)).fetchone()
    assert tuple(row) == ("missed", "Store closed for inventory")
    logged = demo_store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'visits' AND row_id = ? "
                               "AND value LIKE '%missed%'", (ids[0],))
    assert logged == 1
    with pytest.raises(ValueError, match="only a planned visit"):
        mark_missed(demo_store, ids[0])
    check_in(demo_store, ids[1], datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="checked in"):
        mark_missed(demo_store, ids[1])
    result = planner.replan(demo_store, plan_id, today=date(2026, 12, 1))
    assert result.rolled_forward == 1
    assert demo_store.scalar("SELECT status FROM visits WHERE id = ?", (ids[0],)) == "missed"


def test_time_off_moves_that_days_visits_to_an_open_day(demo_store, saved):
    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    results, changes = planner.add_time_off(demo_store, REP, date(2026, 12, 7), "dentist", today=date(2026, 12, 1))
    assert len(results) == 1 and results[0].moved_off_days == 2 and changes.touched("time_off")
    booked = _booked(demo_store, plan_id)
    assert not [b for b in booked if b[1].startswith("2026-12-07")]
    moved = [b for b in booked if b[0] in (a[0]["id"], a[1]["id"]) and b[1] >= "2026-12-07"]
    assert len(moved) == 2 and all(b[1][:10] > "2026-12-07" for b in moved)
    assert demo_store.scalar("SELECT count(*) FROM visits WHERE rotation_plan_id = ? AND deleted_at IS NULL",
                             (plan_id,)) == 8
    # A fresh plan for the same dates honours the time off too.
    assert planner.cycle_calendar(demo_store, REP, MONDAY, 2)[5].off == "dentist"


def test_tier_coverage_counts_done_against_due(demo_store, saved):
    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    ids = [r["id"] for r in demo_store.conn.execute(
        "SELECT id FROM visits WHERE rotation_plan_id = ? ORDER BY planned_start", (plan_id,))]
    writes.update(demo_store, "visits", ids[0], {"status": "done"})
    writes.update(demo_store, "visits", ids[1], {"status": "missed"})
    cov = planner.tier_coverage(demo_store, plan_id, today=date(2026, 12, 1))
    assert sum(c.due for c in cov) == 3  # Mon's two visits and Tue's one
    assert sum(c.done for c in cov) == 1 and sum(c.missed for c in cov) == 1 and sum(c.planned for c in cov) == 8
    text = planner.coverage_text(cov)
    assert "done / due" in text and "(1 missed)" in text


def test_apply_names_a_missing_plan(demo_store):
    with pytest.raises(KeyError, match="rotation plan 999"):
        planner.apply_rotation(demo_store, 999)


def test_a_week_planned_over_an_applied_rotation_routes_its_visits_on_their_days_once(demo_store, saved):
    """The rotation booked Mon a0, a1 and Tue a2: the week plan keeps them there, fills around them, and
    accepting it puts those same visits on the routes instead of booking the accounts a second time."""
    from core.planning import accept, plan_week

    plan_id, a = saved
    planner.apply_rotation(demo_store, plan_id, today=date(2026, 11, 27))
    booked = {r["account_id"]: r["id"] for r in demo_store.conn.execute(
        "SELECT id, account_id FROM visits WHERE rotation_plan_id = ? AND planned_start < '2026-12-02'", (plan_id,))}
    assert set(booked) == {a[0]["id"], a[1]["id"], a[2]["id"]}
    plan = plan_week(demo_store, REP, MONDAY, 2, seconds=1)
    on = {r.shift_id: [v.stop_id for v in r.visits] for r in plan.result.routes}
    assert {a[0]["id"], a[1]["id"]} <= set(on["2026-11-30"]) and a[2]["id"] in on["2026-12-01"]
    assert len(on["2026-11-30"]) > 2, "the day is filled around what the rotation booked"
    accept(demo_store, plan)
    rows = demo_store.conn.execute(
        "SELECT account_id, substr(planned_start, 1, 10) AS day, count(*) AS n, max(rotation_plan_id) AS rot, "
        "max(route_id) AS route FROM visits WHERE deleted_at IS NULL AND status = 'planned' AND rep_id = ? "
        "AND planned_start >= '2026-11-30' AND planned_start < '2026-12-02' GROUP BY account_id, day", (REP,)).fetchall()
    assert all(r["n"] == 1 for r in rows), [tuple(r) for r in rows if r["n"] > 1]
    for account_id, vid in booked.items():
        row = demo_store.conn.execute("SELECT deleted_at, rotation_plan_id, route_id FROM visits WHERE id = ?",
                                      (vid,)).fetchone()
        assert row["deleted_at"] is None and row["rotation_plan_id"] == plan_id and row["route_id"] is not None
    # Accepting a re-plan of the same days keeps the rotation's visits (detached, then routed again).
    accept(demo_store, plan_week(demo_store, REP, MONDAY, 2, seconds=1))
    assert demo_store.scalar(f"SELECT count(*) FROM visits WHERE deleted_at IS NULL AND id IN "
                             f"({','.join(map(str, booked.values()))})") == 3
