"""Scenarios: saved not applied, compared with today, applied only by a manager, with history; add/remove rep flows."""

import json

import pytest

from core.balancing.flows import plan_new_rep, plan_rep_leaving
from core.balancing.model import BalanceOptions, balance_territories
from core.balancing.scenarios import (
    NotAManager, ScenarioError, apply_scenario, compare_scenario, discard_scenario, list_scenarios, save_scenario,
    scenario_moves,
)
from core.reps import create_rep
from core.territories.engagement import engagement_report
from core.territories.history import owner_on

FAST = BalanceOptions(tolerance_pct=3, seconds=4, stop_gap_pct=3)  # quality is tested elsewhere


def manager_and_rep(store):
    manager = store.scalar("SELECT id FROM reps WHERE role = 'manager'")
    rep = store.scalar("SELECT id FROM reps WHERE role = 'rep' ORDER BY id")
    return manager, rep


def test_balance_save_compare_apply(demo_store):
    s = demo_store
    owners_before = dict(s.conn.execute("SELECT id, owner_id FROM accounts").fetchall())
    result = balance_territories(s, FAST)
    assert result.status == "balanced"
    assert result.max_deviation_pct <= 3
    scenario_id, changes = save_scenario(s, result, "Test plan")
    assert changes.ids("scenarios") == {scenario_id}
    # Saving changes no owner.
    assert dict(s.conn.execute("SELECT id, owner_id FROM accounts").fetchall()) == owners_before
    moves = scenario_moves(s, scenario_id)
    assert len(moves) == result.moved > 0
    c = compare_scenario(s, scenario_id)
    assert c.stale == 0
    assert max(abs(r["deviation_pct"]) for r in c.scenario) <= 3 + 0.01
    assert max(abs(r["deviation_pct"]) for r in c.today) > 3
    assert sum(r["accounts"] for r in c.today) == sum(r["accounts"] for r in c.scenario)

    manager, rep = manager_and_rep(s)
    with pytest.raises(NotAManager, match="only a manager"):
        apply_scenario(s, scenario_id, rep)
    with pytest.raises(NotAManager):
        apply_scenario(s, scenario_id, None)
    assert dict(s.conn.execute("SELECT id, owner_id FROM accounts").fetchall()) == owners_before

    changes = apply_scenario(s, scenario_id, manager, "2026-11-23")
    assert changes.ids("accounts") == {m["account_id"] for m in moves}
    moved = moves[0]
    assert s.scalar("SELECT owner_id FROM accounts WHERE id = ?", (moved["account_id"],)) == moved["to_rep_id"]
    assert owner_on(s, moved["account_id"], "2026-11-22") == moved["from_rep_id"]
    assert owner_on(s, moved["account_id"], "2026-11-23") == moved["to_rep_id"]
    assert s.scalar("SELECT scenario_id FROM assignments WHERE account_id = ? AND valid_to IS NULL",
                    (moved["account_id"],)) == scenario_id
    assert list_scenarios(s)[0]["status"] == "applied"
    after = compare_scenario(s, scenario_id)            # applied: before applying beside now
    assert after.stale == 0
    assert [r["accounts"] for r in after.today] == [r["accounts"] for r in c.today]
    assert [r["accounts"] for r in after.scenario] == [r["accounts"] for r in c.scenario]
    # The rules follow the new owners (a named-accounts territory per receiving rep).
    assert engagement_report(s).disagreements == []
    with pytest.raises(ScenarioError, match="already applied"):
        apply_scenario(s, scenario_id, manager)


def test_stale_scenario_is_refused(demo_store):
    s = demo_store
    result = balance_territories(s, FAST)
    scenario_id, _ = save_scenario(s, result)
    moved = scenario_moves(s, scenario_id)[0]
    other = s.scalar("SELECT id FROM reps WHERE role = 'rep' AND id NOT IN (?, ?)",
                     (moved["from_rep_id"], moved["to_rep_id"]))
    s.conn.execute("UPDATE accounts SET owner_id = ? WHERE id = ?", (other, moved["account_id"]))
    manager, _ = manager_and_rep(s)
    assert compare_scenario(s, scenario_id).stale == 1
    with pytest.raises(ScenarioError, match="changed owner"):
        apply_scenario(s, scenario_id, manager)
    discard_scenario(s, scenario_id)
    assert list_scenarios(s)[0]["status"] == "discarded"


def test_new_rep_takes_a_fair_share_with_few_moves(demo_store):
    s = demo_store
    new, _ = create_rep(s, {"name": "New Hire", "role": "rep", "home_lat": 29.42, "home_lon": -98.49,
                            "capacity_hours_week": 40, "working_weeks": 46})
    plain = balance_territories(s, FAST)
    result = plan_new_rep(s, new, FAST)
    figures = {f.rep_id: f for f in result.reps}
    assert result.status == "balanced"
    assert figures[new].accounts > 0
    assert abs(figures[new].deviation_pct) <= 3
    assert result.moved < plain.moved                  # fewer moves than a full rebalance
    assert all(m[2] == new or m[1] != new for m in result.move_list())


def test_leaving_rep_accounts_are_spread(demo_store):
    s = demo_store
    _manager, leaving = manager_and_rep(s)
    book = s.scalar("SELECT count(*) FROM accounts WHERE owner_id = ? AND status != 'inactive'", (leaving,))
    result = plan_rep_leaving(s, leaving, FAST)
    assert leaving not in [f.rep_id for f in result.reps]
    moved_from_leaver = [m for m in result.move_list() if m[1] is None]
    assert len(moved_from_leaver) == book
    assert result.status == "balanced"
    summary = json.loads(json.dumps(result.as_dict(), default=float))
    assert summary["moved"] == result.moved
