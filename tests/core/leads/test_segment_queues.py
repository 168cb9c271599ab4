"""A queue that takes its leads from a saved segment: accounts in it, or, without an account, the lead's own industry and size."""

from __future__ import annotations

import pytest

from core.leads.queues import QueueProblem, queue_overview, save_queue, set_member
from core.leads.routing import route_leads
from core.segments import save_segment
from core.storage import writes

from .conftest import AT, add_leads


@pytest.fixture
def desk(team):
    store, reps = team
    with store.atomic():
        big, small = writes.insert_many(store, "accounts", [
            {"name": "Cedar Medical", "industry": "Healthcare", "employees": 500},
            {"name": "Corner Clinic", "industry": "Healthcare", "employees": 8}])
    save_segment(store, "Big healthcare", {"industries": ["Healthcare"], "min_employees": 100})
    save_segment(store, "Visited", {"industries": ["Healthcare"], "visited_within_days": 30})
    regular, _ = save_queue(store, "Inbound")
    health, _ = save_queue(store, "Health desk", segments=["big HEALTHCARE"], priority=5)
    for rep in reps[:2]:
        set_member(store, regular, rep)
    set_member(store, health, reps[3])
    return store, reps, {"big": big, "small": small, "regular": regular, "health": health}


def test_leads_from_accounts_in_the_segment_go_to_its_queue(desk):
    store, reps, ids = desk
    in_big = add_leads(store, 2, account_id=ids["big"])
    in_small = add_leads(store, 1, account_id=ids["small"], industry="Healthcare", employees=900)
    no_account_big = add_leads(store, 1, industry="healthcare", employees=250)
    no_account_small = add_leads(store, 1, industry="Healthcare", employees=20)
    no_account_unknown = add_leads(store, 1, industry="Healthcare")
    result = route_leads(store, at=AT)
    queue_of = {a["lead_id"]: a["queue_id"] for a in result.assignments}
    assert [queue_of[i] for i in in_big + no_account_big] == [ids["health"]] * 3
    # The matched account decides (a small clinic, whatever the lead form said); no size, no match.
    assert [queue_of[i] for i in in_small + no_account_small + no_account_unknown] == [ids["regular"]] * 3
    assert {a["rep_id"] for a in result.assignments if a["queue_id"] == ids["health"]} == {reps[3]}
    reasons = {a["lead_id"]: a["reason"] for a in result.assignments}
    assert reasons[in_big[0]].startswith("Round robin in Health desk (its account is in segment Big healthcare): ")
    assert reasons[no_account_big[0]].startswith("Round robin in Health desk (the lead fits segment Big healthcare): ")


def test_a_segment_about_behaviour_takes_only_leads_from_accounts_in_it(desk):
    store, reps, ids = desk
    save_queue(store, "Health desk", segments=["Visited"])
    lead = add_leads(store, 1, industry="Healthcare", employees=900)
    result = route_leads(store, at=AT)
    assert result.assignments[0]["queue_id"] == ids["regular"], "a lead alone has no visits to judge"
    assert lead


def test_queue_segments_are_checked_shown_and_cleared(desk):
    store, reps, ids = desk
    with pytest.raises(QueueProblem, match="no such segment"):
        save_queue(store, "Health desk", segments=["Nope"])
    shown = next(q for q in queue_overview(store) if q["id"] == ids["health"])
    assert shown["segments"] == ["Big healthcare"] and "segment Big healthcare" in shown["takes"]
    save_queue(store, "Health desk", segments=[])
    shown = next(q for q in queue_overview(store) if q["id"] == ids["health"])
    assert shown["segments"] == [] and shown["takes"] == "every lead"


def test_a_segment_in_use_cannot_be_removed_until_nothing_names_it(desk):
    from core.segments import SegmentProblem, delete_segment, list_segments
    from core.territories.service import create_territory
    store, reps, ids = desk
    create_territory(store, {"name": "Big health book", "kind": "customer_size", "rule": {"in_segments": ["Big healthcare"]}})
    with pytest.raises(SegmentProblem, match="used by queue Health desk, territory Big health book"):
        delete_segment(store, "big healthcare")
    changes = delete_segment(store, "Visited")
    assert "segments" in changes.tables
    assert [s["name"] for s in list_segments(store)] == ["Big healthcare"]
    assert store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'segments' AND op = 'delete'") == 1
