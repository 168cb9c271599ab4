"""Dynamic books: deterministic, within capacity, stale accounts rest in the pool, never back to the same rep; segments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.books.refresh import apply_refresh, plan_refresh
from core.segments import SegmentProblem, count, list_segments, save_segment
from core.storage import writes

TODAY = date(2026, 11, 20)


@pytest.fixture
def books(empty_store):
    """Ann has 10 accounts (6 stale), Bob 2 (a Healthcare specialist), Cleo 3; capacity 3–8 each."""
    store = empty_store
    with store.atomic():
        ann, bob, cleo = writes.insert_many(store, "reps", [
            {"name": n, "skills": s, "book_min": 3, "book_max": 8}
            for n, s in (("Ann", "[]"), ("Bob", '["Healthcare"]'), ("Cleo", "[]"))])
        rows = []
        for i in range(10):
            stale = i < 6
            rows.append({"name": f"Ann {i}", "owner_id": ann, "industry": "Healthcare" if i % 2 else "Retail",
                         "employees": 10 * i, "locked": int(i == 0),
                         "last_visit_at": (TODAY - timedelta(days=90 + i if stale else 5)).isoformat() + "T15:00:00Z"})
        rows += [{"name": f"Bob {i}", "owner_id": bob, "industry": "Retail", "employees": 5, "locked": 0,
                  "last_visit_at": TODAY.isoformat() + "T15:00:00Z"} for i in range(2)]
        rows += [{"name": f"Cleo {i}", "owner_id": cleo, "industry": "Retail", "employees": 5, "locked": 0,
                  "last_visit_at": TODAY.isoformat() + "T15:00:00Z"} for i in range(3)]
        rows += [{"name": f"Pool {i}", "owner_id": None, "industry": "Healthcare", "employees": 500, "locked": 0,
                  "last_visit_at": None} for i in range(2)]
        ids = writes.insert_many(store, "accounts", rows)
    return store, (ann, bob, cleo), ids


def test_preview_is_deterministic_and_apply_does_exactly_it(books):
    store, (ann, bob, cleo), ids = books
    first = plan_refresh(store, today=TODAY)
    second = plan_refresh(store, today=TODAY)
    assert first.as_dict() == second.as_dict()
    assert store.scalar("SELECT count(*) FROM accounts WHERE owner_id IS NULL") == 2  # a preview changes nothing
    # Ann's stale accounts 1..5 (0 is locked) are taken back, oldest first; she keeps at least 3.
    assert sorted(m.account for m in first.take_back) == ["Ann 1", "Ann 2", "Ann 3", "Ann 4", "Ann 5"]
    assert all("rests in the pool until 2026-12-04" in m.reason for m in first.take_back)
    # The two never-owned pool accounts refill; Bob is the Healthcare specialist.
    assert [(m.account, m.rep) for m in first.refill] == [("Pool 0", "Bob"), ("Pool 1", "Bob")]
    assert "Healthcare specialist" in first.refill[0].reason
    apply_refresh(store, first)
    owners = dict(store.conn.execute("SELECT name, owner_id FROM accounts").fetchall())
    assert owners["Ann 1"] is None and owners["Ann 0"] == ann and owners["Pool 0"] == bob
    assert store.scalar("SELECT count(*) FROM assignments WHERE reason LIKE 'books refresh:%'") == 7
    sizes = dict(store.conn.execute("SELECT owner_id, count(*) FROM accounts GROUP BY owner_id").fetchall())
    assert sizes[ann] == 5 and sizes[bob] == 4 and sizes[cleo] == 3


def test_rested_accounts_refill_later_within_capacity_and_never_back_to_their_rep(books):
    store, (ann, bob, cleo), ids = books
    apply_refresh(store, plan_refresh(store, today=TODAY))
    # Still resting a week later: nothing to refill from.
    assert plan_refresh(store, today=TODAY + timedelta(days=7)).refill == []
    later = plan_refresh(store, today=TODAY + timedelta(days=15))
    assert len(later.refill) == 5
    assert all(m.rep_id != ann for m in later.refill)  # not back to the rep who let them go stale
    apply_refresh(store, later)
    for rep in (ann, bob, cleo):
        assert store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ?", (rep,)) <= 8
    # Bob (Healthcare) gets the Healthcare ones while he has room; Cleo the rest.
    got = {m.account: m.rep for m in later.refill}
    assert {got["Ann 1"], got["Ann 3"], got["Ann 5"]} == {"Bob"} and {got["Ann 2"], got["Ann 4"]} == {"Cleo"}


def test_capacity_is_never_exceeded(books):
    store, (ann, bob, cleo), ids = books
    with store.atomic():
        writes.update(store, "reps", bob, {"book_max": 3})
        writes.update(store, "reps", cleo, {"book_max": 3})
    plan = plan_refresh(store, today=TODAY, rest_days=0)
    after = {b["rep"]: (b["after"], b["max"]) for b in plan.books}
    assert all(a <= m for a, m in after.values())
    assert after["Bob"] == (3, 3) and after["Cleo"] == (3, 3)


def test_segments_count_live(books):
    store, reps, ids = books
    save_segment(store, "Healthcare pool", {"industries": ["healthcare"], "owned": False})
    save_segment(store, "Stale", {"not_visited_days": 60})
    counts = {s["name"]: s["accounts"] for s in list_segments(store, TODAY)}
    assert counts == {"Healthcare pool": 2, "Stale": 8}
    with store.atomic():
        writes.update(store, "accounts", ids[1], {"owner_id": None})
    assert count(store, {"industries": ["Healthcare"], "owned": False}, TODAY) == 3
    with pytest.raises(SegmentProblem, match="unknown key 'colour'"):
        save_segment(store, "x", {"colour": "red"})
    # A segment limits what a refresh refills from.
    plan = plan_refresh(store, today=TODAY, segment_rule={"min_employees": 1000})
    assert plan.refill == []


def test_account_scores_are_stored_logged_and_read_by_segments_and_refreshes(empty_store):
    from datetime import date

    from core.books.refresh import plan_refresh
    from core.books.scores import store_scores
    from core.leads.scoring import load_rules
    from core.storage import writes

    store = empty_store
    with store.atomic():
        hot, cold = writes.insert_many(store, "accounts", [
            {"name": "Hot", "industry": "Healthcare", "employees": 300},
            {"name": "Cold", "industry": "Retail", "employees": 10}])
        writes.insert_many(store, "leads", [{"name": f"L{i}", "account_id": hot, "status": "new",
                                             "received_at": f"2026-11-{10 + i:02d}T10:00:00Z"} for i in range(5)])
    assert count(store, {"min_score": 1}) == 0, "nothing stored yet"
    result = store_scores(store, today=date(2026, 11, 20))
    rules = load_rules(store)
    stored = {r[0]: (r[1], r[2]) for r in store.query("SELECT id, fit_score, timing_score FROM accounts")}
    assert stored == {hot: (rules.fit("Healthcare", 300), 30), cold: (rules.fit("Retail", 10), 0)}
    assert (result.accounts, result.changed) == (2, 2) and result.changes.ids("accounts") == {hot, cold}
    logged = store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'accounts' AND op = 'update' "
                          "AND value LIKE '%fit_score%'")
    assert logged == 2
    assert count(store, {"min_score": rules.fit("Healthcare", 300) + 30}) == 1
    assert store_scores(store, today=date(2026, 11, 20)).changed == 0, "the same day again changes nothing"
    later = store_scores(store, today=date(2027, 1, 31))
    assert later.changed == 1 and store.scalar("SELECT timing_score FROM accounts WHERE id = ?", (hot,)) == 0
    plan_refresh(store, today=date(2027, 1, 31))  # reads the stored scores without complaint


def test_an_account_visited_on_its_own_schedule_is_not_taken_back(books):
    """Untouched for 91 days is neglect for a monthly account, but on schedule for a quarterly one."""
    store, (ann, bob, cleo), ids = books
    quarterly = store.scalar("SELECT id FROM accounts WHERE name = 'Ann 1'")  # last visit 91 days ago
    writes.update(store, "accounts", quarterly, {"visit_frequency": "quarterly"})
    plan = plan_refresh(store, today=TODAY)
    taken = {m.account: m.reason for m in plan.take_back}
    assert "Ann 1" not in taken
    assert "Ann 2" in taken and "visited monthly" in taken["Ann 2"].lower()
    writes.update(store, "accounts", quarterly, {"last_visit_at": (TODAY - timedelta(days=120)).isoformat() + "T15:00:00Z"})
    assert "Ann 1" in {m.account for m in plan_refresh(store, today=TODAY).take_back}, "overdue for its quarter"
