"""Routing: fair weighted round robin per queue, time off, caps, premium queue, owners, late joiners, best available."""

from __future__ import annotations

import json
from collections import Counter

from core.leads.importing import enrich
from core.leads.matching import AccountIndex
from core.leads.queues import save_queue, set_member
from core.leads.routing import decisions_for, route_leads
from core.leads.scoring import load_rules
from core.storage import writes

from .conftest import AT, DAY, add_leads


def regular_queue(store, reps, **members):
    qid, _ = save_queue(store, "Inbound")
    for rep in reps:
        set_member(store, qid, rep, **members)
    return qid


def running_spread_ok(assignments, rep_ids):
    """After every single assignment, no rep is more than one lead ahead of any other."""
    counts = Counter({r: 0 for r in rep_ids})
    for a in assignments:
        counts[a["rep_id"]] += 1
        if max(counts.values()) - min(counts.values()) > 1:
            return False
    return True


def test_round_robin_is_fair_after_every_lead_and_across_runs(team):
    store, reps = team
    regular_queue(store, reps)
    add_leads(store, 21)
    first = route_leads(store, at=AT)
    assert running_spread_ok(first.assignments, reps)
    add_leads(store, 18)
    second = route_leads(store, at=AT)
    # The second run carries on from the stored decisions: the total stays level.
    assert running_spread_ok(first.assignments + second.assignments, reps)
    assert sorted(Counter(a["rep_id"] for a in first.assignments + second.assignments).values()) == [9, 10, 10, 10]
    assert first.fairness[0]["spread"] <= 1
    assert all("Round robin in Inbound" in a["reason"] for a in first.assignments)


def test_every_decision_is_stored_with_its_reason(team):
    store, reps = team
    regular_queue(store, reps)
    ids = add_leads(store, 5)
    result = route_leads(store, at=AT)
    stored = store.conn.execute("SELECT lead_id, rep_id, reason FROM routing_decisions ORDER BY id").fetchall()
    assert [(r["lead_id"], r["rep_id"], r["reason"]) for r in stored] == [
        (a["lead_id"], a["rep_id"], a["reason"]) for a in result.assignments]
    lead = store.conn.execute("SELECT status, rep_id FROM leads WHERE id = ?", (ids[0],)).fetchone()
    assert lead["status"] == "assigned" and lead["rep_id"] == result.assignments[0]["rep_id"]
    assert decisions_for(store, ids[0])[0]["reason"] == result.assignments[0]["reason"]


def test_weights_give_shares(team):
    store, reps = team
    qid = regular_queue(store, reps)
    set_member(store, qid, reps[0], weight=3)
    add_leads(store, 60)
    got = Counter(a["rep_id"] for a in route_leads(store, at=AT).assignments)
    assert got[reps[0]] == 30 and [got[r] for r in reps[1:]] == [10, 10, 10]


def test_time_off_is_skipped_and_said(team):
    store, reps = team
    regular_queue(store, reps)
    with store.atomic():
        writes.insert(store, "time_off", {"rep_id": reps[2], "day": DAY, "reason": "Vacation"})
    add_leads(store, 12)
    result = route_leads(store, at=AT)
    got = Counter(a["rep_id"] for a in result.assignments)
    assert reps[2] not in got and sorted(got.values()) == [4, 4, 4]
    assert "skipped Cleo (on time off today (Vacation))" in result.assignments[0]["reason"]
    # The next day Cleo is back and, having had nothing, is first in turn.
    nxt = AT.replace(day=19)
    add_leads(store, 1)
    assert route_leads(store, at=nxt).assignments[0]["rep_id"] == reps[2]


def test_daily_caps_are_respected_and_leads_wait_when_everyone_is_full(team):
    store, reps = team
    regular_queue(store, reps, daily_cap=2)
    add_leads(store, 10)
    result = route_leads(store, at=AT)
    got = Counter(a["rep_id"] for a in result.assignments)
    assert set(got.values()) == {2} and len(result.assignments) == 8
    assert len(result.waiting) == 2 and "nobody is free" in result.waiting[0]["reason"]
    assert "daily cap of 2 reached" in result.waiting[0]["reason"]
    # Caps count per day: the same run again today routes nothing; tomorrow it does.
    assert route_leads(store, at=AT).assignments == []
    assert len(route_leads(store, at=AT.replace(day=19)).assignments) == 2


def test_premium_queue_is_shared_out_separately(team):
    store, reps = team
    regular_queue(store, reps)
    pid, _ = save_queue(store, "Premium", sources=["Test Drive"], priority=10)
    for rep in reps:
        set_member(store, pid, rep)
    add_leads(store, 6, source="Test Drive")
    add_leads(store, 2, source="Web form")
    add_leads(store, 2, source="Test Drive")
    result = route_leads(store, at=AT)
    premium = [a for a in result.assignments if a["queue_id"] == pid]
    regular = [a for a in result.assignments if a["queue_id"] != pid]
    assert len(premium) == 8 and len(regular) == 2
    # Each rep gets a fair share of the best leads whatever they got from the regular queue.
    assert sorted(Counter(a["rep_id"] for a in premium).values()) == [2, 2, 2, 2]
    assert running_spread_ok(premium, reps)
    assert all("Premium" in a["reason"] for a in premium)


def test_a_lead_from_an_owned_account_goes_to_the_owner(team):
    store, reps = team
    regular_queue(store, reps)
    with store.atomic():
        acc = writes.insert(store, "accounts", {"name": "Lone Star Medical Group", "owner_id": reps[3],
                                                "postal_code": "78701", "website": "https://www.lonestarmed.com"})
        writes.insert(store, "accounts", {"name": "Pecan Builders", "owner_id": reps[1], "postal_code": "75001"})
    index, rules = AccountIndex(store), load_rules(store)
    by_name = enrich({"company": "Lone Star Medical Group, LLC", "email": "x@gmail.com", "postal_code": "78702"},
                     rules, index)
    by_mail = enrich({"company": "LSM", "email": "pat@lonestarmed.com"}, rules, index)
    stranger = enrich({"company": "Pecan Building Supply", "email": "a@b.org"}, rules, index)
    assert by_name["account_id"] == acc and "company name" in by_name["match_reason"]
    assert by_mail["account_id"] == acc and "email domain" in by_mail["match_reason"]
    assert stranger["account_id"] is None
    ids = add_leads(store, 1, account_id=acc, match_reason=by_name["match_reason"])
    add_leads(store, 4)
    result = route_leads(store, at=AT)
    owner = next(a for a in result.assignments if a["lead_id"] == ids[0])
    assert owner["rep_id"] == reps[3] and owner["kind"] == "owner"
    assert "Lone Star Medical Group" in owner["reason"] and "Dev" in owner["reason"]
    # The owner's lead does not use up Dev's turn: the other four go one each.
    assert sorted(Counter(a["rep_id"] for a in result.assignments if a["kind"] == "rotation").values()) == [1, 1, 1, 1]


def test_owner_away_sends_the_lead_through_the_queue_and_says_so(team):
    store, reps = team
    regular_queue(store, reps)
    with store.atomic():
        acc = writes.insert(store, "accounts", {"name": "Cedar Clinic", "owner_id": reps[0]})
        writes.insert(store, "time_off", {"rep_id": reps[0], "day": DAY, "reason": "Sick"})
    add_leads(store, 1, account_id=acc, match_reason="matched to Cedar Clinic by company name")
    a = route_leads(store, at=AT).assignments[0]
    assert a["rep_id"] != reps[0] and a["kind"] == "rotation"
    assert a["reason"].startswith("Cedar Clinic is owned by Ann, who is on time off today (Sick); Round robin")


def test_a_new_rep_joins_without_reshuffling_or_a_flood(team):
    store, reps = team
    qid = regular_queue(store, reps[:3])
    add_leads(store, 30)
    route_leads(store, at=AT)
    before = {r["id"]: r["rep_id"] for r in store.conn.execute("SELECT id, rep_id FROM leads")}
    set_member(store, qid, reps[3])
    add_leads(store, 8)
    result = route_leads(store, at=AT)
    after = {r["id"]: r["rep_id"] for r in store.conn.execute("SELECT id, rep_id FROM leads")}
    assert all(after[k] == v for k, v in before.items())
    got = Counter(a["rep_id"] for a in result.assignments)
    assert got == {reps[0]: 2, reps[1]: 2, reps[2]: 2, reps[3]: 2}


def test_specialists_take_their_industry_while_it_is_their_turn(team):
    store, reps = team
    regular_queue(store, reps)
    add_leads(store, 3, industry="Healthcare")
    add_leads(store, 1)
    add_leads(store, 1, industry="Healthcare")
    result = route_leads(store, at=AT)
    got = [a["rep_id"] for a in result.assignments]
    # Bob (Healthcare) takes the first; he has had his share of the round, so the next two go in turn.
    assert got[:3] == [reps[1], reps[0], reps[2]]
    assert "among Healthcare specialists" in result.assignments[0]["reason"]
    assert "Healthcare specialists have had their share this round" in result.assignments[1]["reason"]
    # Dev completes the round; in the next one Bob is in turn again and takes the Healthcare lead
    # ahead of Ann, whose turn it would otherwise be.
    assert got[3:] == [reps[3], reps[1]] and running_spread_ok(result.assignments, reps)


def test_best_available_prefers_skills_then_load_and_reaches_someone_when_the_zip_owner_is_away(team):
    store, reps = team
    qid, _ = save_queue(store, "Best", mode="best_available")
    for rep in reps:
        set_member(store, qid, rep)
    with store.atomic():
        writes.insert(store, "accounts", {"name": "Anything", "owner_id": reps[1], "postal_code": "78701"})
        writes.insert(store, "time_off", {"rep_id": reps[1], "day": DAY, "reason": "Vacation"})
        writes.update_known(store, "reps", [(reps[2], store.scalar("SELECT uid FROM reps WHERE id = ?", (reps[2],)),
                                             {"skills": '["Healthcare", "Analytics"]'})])
    add_leads(store, 1, industry="Healthcare", product="Analytics", postal_code="78701")
    add_leads(store, 3, industry="Retail")
    result = route_leads(store, at=AT)
    first = result.assignments[0]
    assert first["rep_id"] == reps[2] and first["kind"] == "best_available"
    assert "Healthcare and Analytics specialist" in first["reason"]
    assert "Bob, who covers ZIP 78701, is on time off today (Vacation)" in first["reason"]
    # With no specialist the lowest load wins (Cleo already has one): Ann, Dev; then all tie on load
    # and on turns, and the queue order decides: Ann again.
    assert [a["rep_id"] for a in result.assignments[1:]] == [reps[0], reps[3], reps[0]]


def test_working_hours_only_queues_wait_outside_hours(team):
    store, reps = team
    qid = regular_queue(store, reps)
    save_queue(store, "Inbound", hours_only=True)
    add_leads(store, 2)
    night = AT.replace(hour=4)  # 22:00 the evening before in Chicago
    result = route_leads(store, at=night)
    assert result.assignments == [] and "outside working hours" in result.waiting[0]["reason"]
    assert len(route_leads(store, at=AT).assignments) == 2


def test_every_decision_and_lead_edit_is_in_the_change_log(team):
    """Sync replays the change log: each routed lead's edit and each decision (with its reason) must be there."""
    store, reps = team
    qid = regular_queue(store, reps)
    ids = add_leads(store, 9)
    result = route_leads(store, at=AT)
    edits = {r["row_id"]: json.loads(r["value"]) for r in store.query(
        "SELECT row_id, value FROM change_log WHERE table_name = 'leads' AND op = 'update'")}
    assert set(edits) == set(ids)
    for a in result.assignments:
        assert edits[a["lead_id"]] == {"status": "assigned", "queue_id": qid, "rep_id": a["rep_id"],
                                       "assigned_at": edits[a["lead_id"]]["assigned_at"]}
    logged = [json.loads(r["value"]) for r in store.query(
        "SELECT value FROM change_log WHERE table_name = 'routing_decisions' AND op = 'insert' ORDER BY seq")]
    assert [(d["lead_id"], d["rep_id"], d["reason"]) for d in logged] == [
        (a["lead_id"], a["rep_id"], a["reason"]) for a in result.assignments]
    stored = {r["uid"] for r in store.query("SELECT uid FROM routing_decisions")}
    assert stored == {d["uid"] for d in logged}
