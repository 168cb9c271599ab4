"""Expense reports: the state machine, locking after submit, who may approve, the append-only audit trail."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from core.expenses import (DayAlreadyLogged, ExpenseError, add_expense, add_trip, approve, audit_trail, delete_trip, find_report, reject,
                           report_totals, submit, update_expense, update_trip)
from core.expenses.reports import mark_exported
from core.storage import writes
from tests.core.expenses.conftest import TODAY


@pytest.fixture
def filled(world26):
    s = world26
    rep = s.people["rep"]
    s.trip, _ = add_trip(s, rep, "2026-11-02", start="Home", destination="Acme", purpose="Review", distance="40",
                         today=TODAY)
    s.expense, _ = add_expense(s, rep, "2026-11-02", category="Meals", amount="23.45", merchant="Diner", today=TODAY)
    s.report = find_report(s, rep, "2026-11")["id"]
    return s


def test_items_join_the_reps_monthly_draft_report(filled):
    r = filled.conn.execute("SELECT * FROM expense_reports WHERE id = ?", (filled.report,)).fetchone()
    assert (r["state"], r["period"], r["rep_id"]) == ("draft", "2026-11", filled.people["rep"])
    assert report_totals(filled, filled.report) == {"USD": 2900 + 2345}  # 40 mi x 72.5c + 23.45


def test_submit_locks_the_report_and_its_items(filled):
    s, rep = filled, filled.people["rep"]
    submit(s, s.report, rep)
    before = s.scalar("SELECT count(*) FROM change_log")
    for attempt in (lambda: update_expense(s, s.expense, {"amount": "1.00"}),
                    lambda: update_trip(s, s.trip, {"purpose": "Changed"}),
                    lambda: delete_trip(s, s.trip)):
        with pytest.raises(ExpenseError, match=rf"on report {s.report} \(2026-11\), which is submitted: it cannot be changed"):
            attempt()
    assert s.scalar("SELECT count(*) FROM change_log") == before
    assert s.scalar("SELECT amount_cents FROM expenses WHERE id = ?", (s.expense,)) == 2345
    # The mileage amount is frozen at submission: a later rate edit does not move what was approved.
    assert s.scalar("SELECT amount_cents FROM trips WHERE id = ?", (s.trip,)) == 2900
    writes.update(s, "rate_tables", s.scalar("SELECT max(id) FROM rate_tables"), {"cents_per_mile_x10": 800})
    assert report_totals(s, s.report) == {"USD": 2900 + 2345}
    # A new expense in the locked month stays off the submitted report.
    eid, _ = add_expense(s, rep, "2026-11-05", category="Tolls", amount="2.00", today=TODAY)
    assert s.scalar("SELECT report_id FROM expenses WHERE id = ?", (eid,)) is None


def test_state_machine_and_roles(filled):
    s, p = filled, filled.people
    with pytest.raises(ExpenseError, match="is draft: it cannot be approved"):
        approve(s, s.report, p["manager"])
    with pytest.raises(ExpenseError, match="cannot submit another person's report"):
        submit(s, s.report, p["other"])
    submit(s, s.report, p["rep"])
    with pytest.raises(ExpenseError, match="is submitted: it cannot be submitted"):
        submit(s, s.report, p["rep"])
    for who in ("rep", "other", "finance"):
        with pytest.raises(ExpenseError, match="only a manager or an admin can approve"):
            approve(s, s.report, p[who])
    with pytest.raises(ExpenseError, match="reason: say why"):
        reject(s, s.report, p["manager"], "  ")
    reject(s, s.report, p["manager"], "Receipt missing for the diner")
    r = s.conn.execute("SELECT * FROM expense_reports WHERE id = ?", (s.report,)).fetchone()
    assert (r["state"], r["decision_note"], r["decided_by"]) == ("rejected", "Receipt missing for the diner", p["manager"])
    # Rejected: editable again, and resubmittable.
    update_expense(s, s.expense, {"amount": "21.45", "notes": "receipt attached"})
    submit(s, s.report, p["rep"])
    approve(s, s.report, p["admin"], "ok")
    with pytest.raises(ExpenseError, match="is approved: it cannot be rejected"):
        reject(s, s.report, p["manager"], "too late")
    with pytest.raises(ExpenseError, match="which is approved"):
        update_trip(s, s.trip, {"purpose": "x"})
    mark_exported(s, s.report, p["finance"], "nov.xlsx")
    assert s.scalar("SELECT state FROM expense_reports WHERE id = ?", (s.report,)) == "exported"
    assert report_totals(s, s.report) == {"USD": 2900 + 2145}


def test_a_manager_cannot_approve_their_own_report(world26):
    s, m = world26, world26.people["manager"]
    add_expense(s, m, "2026-11-02", category="Meals", amount="10", today=TODAY)
    report = find_report(s, m, "2026-11")["id"]
    submit(s, report, m)
    with pytest.raises(ExpenseError, match="cannot approve their own report"):
        approve(s, report, m)
    approve(s, report, s.people["admin"])


def test_an_empty_report_cannot_be_submitted(world26):
    s = world26
    eid, _ = add_expense(s, s.people["rep"], "2026-10-02", category="Meals", amount="10", today=TODAY)
    report = find_report(s, s.people["rep"], "2026-10")["id"]
    from core.expenses import delete_expense
    delete_expense(s, eid)
    with pytest.raises(ExpenseError, match="has no trips or expenses"):
        submit(s, report, s.people["rep"])


def test_audit_trail_records_who_did_what_when_and_cannot_be_rewritten(filled):
    s, p = filled, filled.people
    submit(s, s.report, p["rep"])
    reject(s, s.report, p["manager"], "Wrong month")
    update_trip(s, s.trip, {"purpose": "Quarterly business review"})
    submit(s, s.report, p["rep"])
    approve(s, s.report, p["manager"])
    trail = audit_trail(s, s.report)
    assert [(a["action"], a["actor_name"]) for a in trail] == [
        ("created", "Rita Rep"), ("trip added", "Rita Rep"), ("expense added", "Rita Rep"),
        ("submitted", "Rita Rep"), ("rejected", "Manny Manager"), ("trip edited", "Rita Rep"),
        ("submitted", "Rita Rep"), ("approved", "Manny Manager")]
    assert trail[4]["detail"] == {"reason": "Wrong month"}
    assert trail[5]["detail"]["purpose"] == {"from": "Review", "to": "Quarterly business review"}
    assert all(a["at"].endswith("Z") for a in trail)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        s.conn.execute("UPDATE expense_audit SET action = 'nothing' WHERE id = ?", (trail[4]["id"],))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        s.conn.execute("DELETE FROM expense_audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        writes.delete(s, "expense_audit", trail[0]["id"])


def test_trips_from_a_days_visits_one_per_leg_with_purpose_from_the_accounts(demo_store):
    from core.expenses import add_trips_from_route, draft_trips_from_route
    from core.expenses.trips import route_legs
    from core.routing.matrix import GreatCircleMatrix

    s = demo_store
    rep = s.scalar("SELECT id FROM reps WHERE name = 'Lauren Lewis'")
    day = date(2026, 11, 19)
    source, stops = route_legs(s, rep, day)
    assert source == "visits" and stops
    legs = draft_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY)
    assert len(legs) == len(stops) + 1
    assert legs[0]["start_place"].startswith("Home") and legs[-1]["end_place"].startswith("Home")
    outcome = s.scalar("SELECT outcome FROM visits WHERE id = ?", (stops[0]["visit_id"],))
    assert legs[0]["purpose"] == f"Customer visit: {stops[0]['name']}" + (f" ({outcome})" if outcome else "")
    assert legs[0]["end_place"].startswith(stops[0]["name"])
    assert all(leg["distance_m"] > 0 for leg in legs)
    purposes = [leg["purpose"] for leg in legs]
    purposes[0] = "Customer visit: reorder talk"
    # The demo typed that day's drive as one trip: the legs would pay it twice, so the rep must choose.
    typed = s.query("SELECT id FROM trips WHERE rep_id = ? AND day = ? AND deleted_at IS NULL", (rep, day.isoformat()))
    assert len(typed) == 1
    with pytest.raises(DayAlreadyLogged, match=f"trip {typed[0]['id']} .* would count that driving twice"):
        add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), purposes=purposes, today=TODAY)
    assert s.scalar("SELECT count(*) FROM trips WHERE rep_id = ? AND day = ? AND deleted_at IS NULL",
                    (rep, day.isoformat())) == 1
    ids, changes = add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), purposes=purposes,
                                        vehicle="Fleet 12", today=TODAY, existing="replace")
    assert f"replacing trip {typed[0]['id']}" in changes.note and typed[0]["id"] in changes.ids("trips")
    assert s.scalar("SELECT deleted_at FROM trips WHERE id = ?", (typed[0]["id"],)) is not None
    rows = s.query(f"SELECT * FROM trips WHERE id IN ({','.join(map(str, ids))}) ORDER BY id")
    assert [r["purpose"] for r in rows] == purposes
    assert sum(r["distance_m"] for r in rows) == sum(leg["distance_m"] for leg in legs)
    assert {r["distance_source"] for r in rows} == {"visits"} and rows[0]["visit_id"] == stops[0]["visit_id"]
    with pytest.raises(ExpenseError, match="already logged"):
        add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY)


def test_trips_from_an_accepted_route_follow_its_stop_order(demo_store):
    from core.expenses import add_trips_from_route
    from core.routing.matrix import GreatCircleMatrix

    s = demo_store
    rep = s.scalar("SELECT id FROM reps WHERE name = 'Lauren Lewis'")
    accounts = [r["id"] for r in s.query("SELECT id FROM accounts WHERE owner_id = ? AND lat IS NOT NULL "
                                         "ORDER BY id LIMIT 3", (rep,))]
    day = "2026-11-20"
    with s.atomic():
        route = writes.insert(s, "routes", {"rep_id": rep, "day": day, "status": "accepted"})
        writes.insert_many(s, "route_stops", [{"route_id": route, "seq": k, "account_id": a}
                                              for k, a in zip((3, 1, 2), accounts)])
    ids, _ = add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY, existing="keep")
    rows = s.query(f"SELECT * FROM trips WHERE id IN ({','.join(map(str, ids))}) ORDER BY id")
    order = [accounts[1], accounts[2], accounts[0]]  # by seq 1, 2, 3
    assert [r["account_id"] for r in rows] == order + [None]
    assert {r["distance_source"] for r in rows} == {"route"} and {r["route_id"] for r in rows} == {route}
    assert rows[-1]["purpose"].startswith("Return from ")


def test_replacing_typed_trips_is_all_or_nothing(demo_store):
    """A typed trip on a submitted report cannot be swapped: nothing is deleted and no leg is logged."""
    from core.expenses import DayAlreadyLogged, add_trips_from_route, submit
    from core.routing.matrix import GreatCircleMatrix

    s = demo_store
    rep = s.scalar("SELECT id FROM reps WHERE name = 'Lauren Lewis'")
    day = date(2026, 11, 18)
    report = s.scalar("SELECT report_id FROM trips WHERE rep_id = ? AND day = ? AND deleted_at IS NULL",
                      (rep, day.isoformat()))
    submit(s, report, rep)
    before = s.scalar("SELECT count(*) FROM change_log")
    with pytest.raises(ExpenseError, match="submitted"):
        add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY, existing="replace")
    assert s.scalar("SELECT count(*) FROM change_log") == before
    with pytest.raises(DayAlreadyLogged):
        add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY)
    with pytest.raises(ExpenseError, match="existing trips: must be one of"):
        add_trips_from_route(s, rep, day, matrix=GreatCircleMatrix(), today=TODAY, existing="merge")
