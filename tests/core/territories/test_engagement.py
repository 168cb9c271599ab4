"""Rules of engagement on a real database: precedence, conflicts, orphans, owners, figures, history."""

import json

import pytest

from core.accounts import assign_owner, create_account
from core.reps import create_rep
from core.storage import writes
from core.territories.engagement import engagement_report, list_territories, load_accounts, resolve
from core.territories.history import owner_on, owners_on, ownership_history
from core.territories.service import (
    TerritoryError, create_territory, delete_territory, territory_figures, territory_tree, update_territory,
)


@pytest.fixture
def world(empty_store):
    s = empty_store
    ana, _ = create_rep(s, {"name": "Ana", "home_lat": 29.76, "home_lon": -95.37})
    bo, _ = create_rep(s, {"name": "Bo", "home_lat": 32.78, "home_lon": -96.80})
    region, _ = create_territory(s, {"name": "Texas", "kind": "geographic", "level": "region",
                                     "rule": {"states": ["TX"]}})
    houston, _ = create_territory(s, {"name": "Houston", "kind": "geographic", "parent_id": region,
                                      "rule": {"state": "TX", "counties": ["Harris County"]}, "precedence": 10,
                                      "owner_id": ana})
    dallas, _ = create_territory(s, {"name": "Dallas", "kind": "geographic", "parent_id": region,
                                     "rule": {"state": "TX", "counties": ["Dallas County"]}, "precedence": 10,
                                     "owner_id": bo})
    accounts = {}
    for name, zip_code, industry, owner in (("H1", "77002", "Retail", ana), ("H2", "77003", "Healthcare", ana),
                                            ("D1", "75201", "Retail", bo), ("Far", "79901", "Retail", None)):
        accounts[name], _ = create_account(s, {"name": name, "state": "TX", "postal_code": zip_code,
                                               "industry": industry, "owner_id": owner, "lat": 30.0, "lon": -96.0})
    return s, {"ana": ana, "bo": bo, "region": region, "houston": houston, "dallas": dallas, **accounts}


def test_geography_orphans_and_figures(world):
    s, ids = world
    report = engagement_report(s)
    assert [name for _i, name in report.orphans] == ["Far"]        # El Paso: no territory; region does not own
    assert report.conflicts == [] and report.disagreements == []
    figures = territory_figures(s)
    assert figures[ids["houston"]].accounts == 2
    assert figures[ids["dallas"]].accounts == 1
    assert figures[ids["region"]].accounts == 3                     # a region adds up its children
    assert figures[ids["houston"]].workload_hours > 0
    tree = territory_tree(s)
    assert [n["territory"].name for n in tree] == ["Texas"]
    assert sorted(c["territory"].name for c in tree[0]["children"]) == ["Dallas", "Houston"]


def test_higher_precedence_wins_and_equal_precedence_is_a_conflict(world):
    s, ids = world
    named, _ = create_territory(s, {"name": "Key accounts", "kind": "named", "rule": {"account_ids": [ids["H1"]]},
                                    "precedence": 100, "owner_id": ids["bo"]})
    res = resolve(list_territories(s), load_accounts(s))
    assert res[ids["H1"]].territory_id == named                     # named above geography
    assert res[ids["H2"]].territory_id == ids["houston"]
    report = engagement_report(s)
    assert [d.account for d in report.disagreements] == ["H1"]      # Ana owns it, the rules say Bo
    assert report.disagreements[0].rule_owner == "Bo"
    retail, _ = create_territory(s, {"name": "Retail", "kind": "industry", "rule": {"industries": ["Retail"]},
                                     "precedence": 10, "owner_id": ids["bo"]})
    report = engagement_report(s)
    conflicted = {c.account: set(c.territories) for c in report.conflicts}
    assert conflicted == {"D1": {"Dallas", "Retail"}}               # H1 is taken by the named rule first
    assert {name for _i, name in report.orphans} == set()           # Far is Retail now
    res = resolve(list_territories(s), load_accounts(s))
    assert res[ids["Far"]].territory_id == retail


def test_overlays_do_not_take_accounts(world):
    s, ids = world
    overlay, _ = create_territory(s, {"name": "Analytics specialists", "kind": "industry",
                                      "rule": {"industries": ["Retail"], "overlay": True}, "precedence": 50})
    res = resolve(list_territories(s), load_accounts(s))
    assert res[ids["H1"]].territory_id == ids["houston"]
    assert overlay in res[ids["H1"]].overlays


def test_edits_are_validated_and_nothing_is_half_written(world):
    s, ids = world
    before = s.scalar("SELECT count(*) FROM change_log")
    with pytest.raises(TerritoryError, match="zips"):
        update_territory(s, ids["houston"], {"name": "New name", "rule": {"zips": ["12"]}})
    with pytest.raises(TerritoryError, match="parent_id"):
        update_territory(s, ids["region"], {"parent_id": ids["houston"]})
    with pytest.raises(TerritoryError, match="color"):
        create_territory(s, {"name": "X", "kind": "industry", "rule": {"industries": ["A"]}, "color": "red"})
    assert s.scalar("SELECT count(*) FROM change_log") == before
    assert s.scalar("SELECT name FROM territories WHERE id = ?", (ids["houston"],)) == "Houston"
    changes = update_territory(s, ids["houston"], {"rule": {"state": "TX", "zips": ["77002"]}})
    assert changes.ids("territories") == {ids["houston"]}
    assert json.loads(s.scalar("SELECT rule FROM territories WHERE id = ?", (ids["houston"],))) == \
        {"state": "TX", "zips": ["77002"]}
    delete_territory(s, ids["region"])
    assert s.scalar("SELECT parent_id FROM territories WHERE id = ?", (ids["houston"],)) is None


def test_who_owned_an_account_on_a_date(world):
    s, ids = world
    h1 = ids["H1"]
    writes.insert_many(s, "assignments", [
        {"account_id": h1, "rep_id": ids["bo"], "territory_id": None, "valid_from": "2026-01-01",
         "valid_to": "2026-03-15", "reason": "plan", "scenario_id": None},
        {"account_id": h1, "rep_id": ids["ana"], "territory_id": None, "valid_from": "2026-03-15",
         "valid_to": None, "reason": "handover", "scenario_id": None}])
    assert owner_on(s, h1, "2025-12-31") is None
    assert owner_on(s, h1, "2026-03-01") == ids["bo"]
    assert owner_on(s, h1, "2026-03-14") == ids["bo"]
    assert owner_on(s, h1, "2026-03-15") == ids["ana"]                # hand-over day belongs to the new owner
    assert owners_on(s, "2026-03-01")[h1] == ids["bo"]
    assign_owner(s, [h1], ids["bo"])                                   # today: back to Bo
    history = ownership_history(s, h1)
    assert [h["rep"] for h in history] == ["Bo", "Ana", "Bo"]
    assert history[1]["valid_to"] is not None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        owner_on(s, h1, "1 March")


def test_demo_rules_match_its_owners(demo_store):
    report = engagement_report(demo_store)
    assert report.accounts == 1500
    assert report.conflicts == []
    assert report.disagreements == []
    assert len(report.orphans) <= 2        # accounts whose ZIP code has no county in the zipcodes data


def test_save_territory_with_overlay_reps_is_one_transaction(world):
    from core.territories.service import save_territory

    s, ids = world
    tid, _ = save_territory(s, None, {"name": "Specialists", "kind": "product",
                                      "rule": {"products": ["Analytics"], "overlay": True}}, [ids["ana"], ids["bo"]])
    rows = s.query("SELECT rep_id, role FROM territory_members WHERE territory_id = ? AND deleted_at IS NULL", (tid,))
    assert sorted((r["rep_id"], r["role"]) for r in rows) == sorted([(ids["ana"], "overlay"), (ids["bo"], "overlay")])
    save_territory(s, tid, {"name": "Specialists"}, [ids["bo"]])
    rows = s.query("SELECT rep_id FROM territory_members WHERE territory_id = ? AND deleted_at IS NULL", (tid,))
    assert [r["rep_id"] for r in rows] == [ids["bo"]]
    before = s.scalar("SELECT count(*) FROM territories")
    with pytest.raises(TerritoryError):
        save_territory(s, None, {"name": "Bad", "kind": "product", "rule": {"products": "x"}}, [ids["ana"]])
    assert s.scalar("SELECT count(*) FROM territories") == before


def test_a_territory_rule_can_take_the_accounts_of_a_saved_segment(world):
    from core.segments import save_segment
    s, ids = world
    with pytest.raises(TerritoryError, match="in_segments.*no such segment"):
        create_territory(s, {"name": "Health desk", "kind": "customer_size", "rule": {"in_segments": ["Health"]}})
    save_segment(s, "Health", {"industries": ["Healthcare"]})
    desk, _ = create_territory(s, {"name": "Health desk", "kind": "customer_size", "precedence": 20,
                                   "rule": {"in_segments": ["health"]}, "owner_id": ids["bo"]})
    t = next(t for t in list_territories(s) if t.id == desk)
    assert t.rule == {"in_segments": ["Health"]}, "stored with the segment's own spelling"
    winners = {a: r.territory_id for a, r in resolve(list_territories(s), load_accounts(s)).items()}
    assert winners[ids["H2"]] == desk, "the Healthcare account is in the segment, so in the desk's territory"
    assert winners[ids["H1"]] == ids["houston"] and winners[ids["Far"]] is None
    # Membership is live: a new Healthcare account joins the segment and so the territory.
    far_health, _ = create_account(s, {"name": "FarHealth", "state": "TX", "postal_code": "79901",
                                       "industry": "Healthcare"})
    winners = {a: r.territory_id for a, r in resolve(list_territories(s), load_accounts(s)).items()}
    assert winners[far_health] == desk
    from core.territories.rules import describe_rule
    assert describe_rule(t.rule) == "in saved segment Health"
