"""The accounts service: queries for the table, validation, edits with history."""

from __future__ import annotations

import pytest

from core import accounts as svc
from core.accounts import AccountQuery
from core.storage import change_log


def test_ids_follow_sort_and_filters(demo_store):
    ids = svc.account_ids(demo_store)
    assert len(ids) == 1500
    rows = svc.fetch_rows(demo_store, ids[:50])
    names = [rows[i]["name"].lower() for i in ids[:50]]
    assert names == sorted(names)
    desc = svc.account_ids(demo_store, AccountQuery(sort_key="employees", descending=True))
    emp = [svc.fetch_rows(demo_store, desc[:20])[i]["employees"] for i in desc[:20]]
    assert emp == sorted(emp, reverse=True)
    tier_a = svc.account_ids(demo_store, AccountQuery(tier="A"))
    assert 0 < len(tier_a) < 1500
    assert all(r["tier"] == "A" for r in svc.fetch_rows(demo_store, tier_a).values())
    houston = svc.account_ids(demo_store, AccountQuery(search="houston"))
    assert houston and all("houston" in (r["city"] + r["name"]).lower()
                           for r in svc.fetch_rows(demo_store, houston).values())


def test_owner_sort_puts_unowned_last(demo_store):
    first = svc.account_ids(demo_store)[0]
    svc.update_account(demo_store, first, {"owner_id": None})
    ids = svc.account_ids(demo_store, AccountQuery(sort_key="owner"))
    assert ids[-1] == first
    assert svc.account_ids(demo_store, AccountQuery(unowned=True)) == [first]


@pytest.mark.parametrize("values, field", [
    ({"name": "  "}, "name"),
    ({"employees": -3}, "employees"),
    ({"employees": "many"}, "employees"),
    ({"lat": 91.0}, "lat"),
    ({"lon": -181.0}, "lon"),
    ({"tier": "D"}, "tier"),
    ({"visit_frequency": "daily"}, "visit_frequency"),
    ({"state": "Texas"}, "state"),
    ({"opening_hours": '{"mon": [["17:00", "08:00"]]}'}, "opening_hours"),
    ({"colour": "red"}, "colour"),
])
def test_validation_names_the_field(values, field):
    problems = svc.validate(values)
    assert [p.field for p in problems] == [field]
    assert problems[0].reason


def test_update_validates_logs_and_returns_old_values(demo_store):
    aid = svc.account_ids(demo_store)[0]
    before = svc.get_account(demo_store, aid)
    with pytest.raises(svc.ValidationError) as err:
        svc.update_account(demo_store, aid, {"employees": -1, "name": ""})
    assert {p.field for p in err.value.problems} == {"employees", "name"}
    assert svc.get_account(demo_store, aid)["employees"] == before["employees"]
    changes, old = svc.update_account(demo_store, aid, {"employees": 999, "name": before["name"]})
    assert old == {"employees": before["employees"]}
    assert changes.ids("accounts") == {aid}
    assert change_log.changed_columns(demo_store, "accounts", aid, op="update").count("employees") == 1
    with pytest.raises(svc.ValidationError, match="no such rep"):
        svc.update_account(demo_store, aid, {"owner_id": 99999})


def test_assign_owner_keeps_history(demo_store):
    aid = svc.account_ids(demo_store)[0]
    old_owner = svc.get_account(demo_store, aid)["owner_id"]
    new_owner = demo_store.scalar("SELECT id FROM reps WHERE role='rep' AND id != ? LIMIT 1", (old_owner,))
    svc.assign_owner(demo_store, [aid], new_owner)
    history = demo_store.query("SELECT rep_id, valid_to FROM assignments WHERE account_id=? ORDER BY id", (aid,))
    assert [(h["rep_id"], h["valid_to"] is None) for h in history] == [(old_owner, False), (new_owner, True)]
    closed = demo_store.scalar("SELECT id FROM assignments WHERE account_id = ? AND valid_to IS NOT NULL", (aid,))
    assert "valid_to" in change_log.changed_columns(demo_store, "assignments", closed, op="update"), \
        "closing the old period is a logged edit, so sync sends it"


def test_create_delete_restore(demo_store):
    aid, changes = svc.create_account(demo_store, {"name": "Zeta Labs", "tier": "B"})
    assert aid in changes.ids("accounts") and aid in svc.account_ids(demo_store)
    svc.delete_account(demo_store, aid)
    assert aid not in svc.account_ids(demo_store)
    assert aid in svc.account_ids(demo_store, AccountQuery(include_deleted=True))
    svc.restore_account(demo_store, aid)
    assert aid in svc.account_ids(demo_store)
    with pytest.raises(svc.ValidationError):
        svc.create_account(demo_store, {"tier": "A"})


def test_counts(demo_store):
    c = svc.counts(demo_store)
    assert c["accounts"] == 1500 and c["reps"] == 9 and c["territories"] == 9 and c["unlocated"] == 0
