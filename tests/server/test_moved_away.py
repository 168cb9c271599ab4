"""An account a manager moves from one rep to another: it leaves the old rep's laptop at their next sync
(hidden there, not logged as their delete), arrives whole on the new rep's, and the old rep's offline edit
to it is refused visibly (Conflicts, the sync summary) and reaches the new owner's Conflicts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import accounts
from core.storage import writes
from core.sync import conflicts, engine

from tests.server.conftest import ADMIN, add_user, make_laptop

ACCOUNT = {"name": "Acme Tools", "phone": "512-000", "street": "1 Main St", "city": "Austin", "state": "TX",
           "postal_code": "78701", "industry": "Retail", "employees": 12, "annual_revenue_cents": 120_000_00,
           "tier": "A", "visit_frequency": "weekly", "visit_minutes": 30, "notes": "loading dock at the back",
           "lat": 30.27, "lon": -97.74}


def uid_of(store, table, row_id):
    return store.scalar(f"SELECT uid FROM {table} WHERE id = ?", (row_id,))


def id_of(store, table, uid):
    return store.scalar(f"SELECT id FROM {table} WHERE uid = ?", (uid,))


def visible_accounts(store):
    return {r[0] for r in store.query("SELECT uid FROM accounts WHERE deleted_at IS NULL")}


def account_row(store, uid):
    """Every column but the per-database ones, foreign keys as uids (comparable across laptops)."""
    row = dict(store.conn.execute("SELECT * FROM accounts WHERE uid = ?", (uid,)).fetchone())
    for column in ("owner_id", "pooled_from"):
        row[column] = uid_of(store, "reps", row[column]) if row[column] else None
    row["territory_id"] = uid_of(store, "territories", row["territory_id"]) if row["territory_id"] else None
    return {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}


@pytest.fixture
def team(server, tmp_path):
    return make_team(server, tmp_path)


def make_team(server, tmp_path):
    """An admin laptop sets up a manager (Mia) with two reps (Ann, Bob); Ann owns two accounts and has a
    past visit, a future visit, a trip and an expense on the first. Each person syncs their laptop."""
    admin = make_laptop(tmp_path, "admin", server, *ADMIN)
    s = admin.store
    mia = writes.insert(s, "reps", {"name": "Mia Manager", "role": "manager"})
    ann = writes.insert(s, "reps", {"name": "Ann Rep", "manager_id": mia})
    bob = writes.insert(s, "reps", {"name": "Bob Rep", "manager_id": mia})
    first, _ = accounts.create_account(s, {**ACCOUNT, "owner_id": ann})
    second, _ = accounts.create_account(s, {"name": "Bolt Supply", "owner_id": ann})
    admin.sync()
    people = {}
    for name, rep, role in (("mia", mia, "manager"), ("ann", ann, "rep"), ("bob", bob, "rep")):
        add_user(server, f"{name}@example.com", role, uid_of(s, "reps", rep))
        people[name] = make_laptop(tmp_path, name, server, f"{name}@example.com", "password 123")
        people[name].sync()
    a = people["ann"].store
    acme = uid_of(s, "accounts", first)
    local = id_of(a, "accounts", acme)
    me = id_of(a, "reps", uid_of(s, "reps", ann))
    now = datetime.now(timezone.utc)
    past = writes.insert(a, "visits", {"account_id": local, "rep_id": me, "status": "done",
                                       "planned_start": (now - timedelta(days=3)).isoformat(timespec="seconds")})
    future = writes.insert(a, "visits", {"account_id": local, "rep_id": me, "status": "planned",
                                         "planned_start": (now + timedelta(days=3)).isoformat(timespec="seconds")})
    trip = writes.insert(a, "trips", {"rep_id": me, "day": now.date().isoformat(), "distance_m": 12_000,
                                      "account_id": local, "purpose": "Acme visit"})
    expense = writes.insert(a, "expenses", {"rep_id": me, "day": now.date().isoformat(), "category": "meals",
                                            "amount_cents": 2350, "account_id": local, "merchant": "Cafe"})
    people["ann"].sync()
    people["rows"] = {"past": uid_of(a, "visits", past), "future": uid_of(a, "visits", future),
                      "trip": uid_of(a, "trips", trip), "expense": uid_of(a, "expenses", expense)}
    people.update(admin=admin, acme=acme, bolt=uid_of(s, "accounts", second), bob_uid=uid_of(s, "reps", bob),
                  ann_uid=uid_of(s, "reps", ann))
    return people


def move(laptop, account_uid, rep_uid):
    s = laptop.store
    accounts.update_account(s, id_of(s, "accounts", account_uid),
                            {"owner_id": id_of(s, "reps", rep_uid) if rep_uid else None})


def test_a_moved_account_leaves_the_old_reps_laptop_and_arrives_whole_on_the_new_ones(team):
    ann, bob, mia = team["ann"], team["bob"], team["mia"]
    assert team["acme"] in visible_accounts(ann.store) and team["acme"] not in visible_accounts(bob.store)
    accounts.update_account(ann.store, id_of(ann.store, "accounts", team["acme"]), {"phone": "512-ANN"})
    move(mia, team["acme"], team["bob_uid"])
    move(mia, team["bolt"], None)  # back to the unassigned pool: not Ann's either
    mia.sync()

    report = ann.sync()
    assert visible_accounts(ann.store) == set(), "neither account is listed on Ann's laptop any more"
    assert report.gone == {"accounts": 2}
    assert "2 accounts moved to another rep were removed from this laptop" in report.summary()
    assert "1 new conflict," in report.summary() + ","
    assert engine.status(ann.store).pending == 1, "only the cancelled future visit is queued, no account delete"
    ann.sync()
    assert engine.status(ann.store).pending == 0
    assert ann.store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'accounts' AND op = 'delete'") == 0

    # Ann's own rows stay, her future visit to it is cancelled (a logged edit of her own visit).
    rows = team["rows"]
    for key, table in (("past", "visits"), ("future", "visits"), ("trip", "trips"), ("expense", "expenses")):
        assert ann.store.scalar(f"SELECT deleted_at FROM {table} WHERE uid = ?", (rows[key],)) is None, key
    assert ann.store.scalar("SELECT status FROM visits WHERE uid = ?", (rows["past"],)) == "done"
    assert ann.store.scalar("SELECT status FROM visits WHERE uid = ?", (rows["future"],)) == "cancelled"
    assert mia.sync().gone == {}, "both moves stay inside Mia's team (or her unassigned pool)"
    assert mia.store.scalar("SELECT status FROM visits WHERE uid = ?", (rows["future"],)) == "cancelled"

    # Ann's offline phone edit: refused with the reason, kept in her Conflicts, and not restorable there.
    refused = [c for c in conflicts.list_conflicts(ann.store) if c.row_uid == team["acme"]]
    assert [(c.column, c.lost_value) for c in refused] == [("phone", "512-ANN")]
    assert "now belongs to Bob Rep" in refused[0].reason and "not yours any more" in refused[0].reason
    assert refused[0].row_label == "Acme Tools"
    with pytest.raises(ValueError, match="Bob Rep"):
        conflicts.restore(ann.store, refused[0].id)
    assert report.moved_refused and "Acme Tools" in report.moved_refused[0]

    # Bob gets the account whole, every field as the manager has it, and Ann's lost phone in his Conflicts.
    bob.sync()
    assert team["acme"] in visible_accounts(bob.store)
    assert account_row(bob.store, team["acme"]) == account_row(mia.store, team["acme"])
    assert account_row(bob.store, team["acme"])["notes"] == "loading dock at the back"
    theirs = [c for c in conflicts.list_conflicts(bob.store) if c.row_uid == team["acme"]]
    assert [(c.column, c.kept_value, c.lost_value) for c in theirs] == [("phone", "512-000", "512-ANN")]
    conflicts.restore(bob.store, theirs[0].id)  # Bob takes Ann's number after all
    bob.sync()
    mia.sync()
    assert mia.store.scalar("SELECT phone FROM accounts WHERE uid = ?", (team["acme"],)) == "512-ANN"


def test_an_account_that_comes_back_arrives_with_every_field_changed_while_away(team):
    ann, bob, mia = team["ann"], team["bob"], team["mia"]
    move(mia, team["acme"], team["bob_uid"])
    mia.sync()
    ann.sync()
    assert team["acme"] not in visible_accounts(ann.store)
    bob.sync()
    accounts.update_account(bob.store, id_of(bob.store, "accounts", team["acme"]),
                            {"phone": "512-BOB", "notes": "Bob's notes"})
    bob.sync()
    mia.sync()
    move(mia, team["acme"], team["ann_uid"])
    mia.sync()
    report = ann.sync()
    assert team["acme"] in visible_accounts(ann.store)
    assert account_row(ann.store, team["acme"]) == account_row(mia.store, team["acme"])
    assert account_row(ann.store, team["acme"])["phone"] == "512-BOB"
    assert report.gone == {}
    bob.sync()
    assert team["acme"] not in visible_accounts(bob.store)
    assert engine.status(ann.store).pending == 0


def test_a_laptop_that_joins_later_never_gets_the_moved_account(team, tmp_path, server):
    mia = team["mia"]
    move(mia, team["acme"], team["bob_uid"])
    mia.sync()
    again = make_laptop(tmp_path, "ann2", server, "ann@example.com", "password 123")
    report = again.sync()
    assert team["acme"] not in visible_accounts(again.store)
    assert report.gone == {}, "nothing to remove on a laptop that never had it"


def test_fieldatlas_sync_says_what_left_the_laptop_and_which_edit_was_refused(team, capsys):
    from desktop.cli import main

    ann, mia = team["ann"], team["mia"]
    local = id_of(ann.store, "accounts", team["acme"])
    assert main(["account", "set", "--db", str(ann.path), "--id", str(local), "--field", "phone",
                 "--value", "512-ANN"]) == 0
    move(mia, team["acme"], team["bob_uid"])
    move(mia, team["bolt"], team["bob_uid"])
    mia.sync()
    capsys.readouterr()
    assert main(["sync", "--db", str(ann.path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("0 sent, 0 received, 1 refused by the server, 1 new conflict, 2 accounts moved to another "
                        "rep were removed from this laptop, 1 planned visit to them cancelled")
    assert lines[1:] == ["your edit to account 'Acme Tools' was refused: account now belongs to Bob Rep; it is kept "
                         "in Conflicts"]
    assert main(["sync", "--db", str(ann.path), "--status"]) == 0
    assert "last sync did: 0 sent" in capsys.readouterr().out
    assert main(["sync", "--db", str(ann.path), "--conflicts"]) == 0
    assert "account now belongs to Bob Rep" in capsys.readouterr().out
    assert main(["sync", "--db", str(ann.path), "--json"]) == 0
    out = __import__("json").loads(capsys.readouterr().out)
    assert out["gone"] == {} and out["pushed"] == 1, "the cancelled visit goes out; nothing else left since"


def test_a_lead_routed_elsewhere_and_an_account_leaving_the_team_go_from_the_laptops_that_lose_them(team):
    ann, mia, admin = team["ann"], team["mia"], team["admin"]
    s = mia.store
    lead = writes.insert(s, "leads", {"name": "Dana Buyer", "company": "Cog Works",
                                      "rep_id": id_of(s, "reps", team["ann_uid"])})
    lead_uid = uid_of(s, "leads", lead)
    mia.sync()
    ann.sync()
    assert id_of(ann.store, "leads", lead_uid) is not None
    writes.update(s, "leads", lead, {"rep_id": id_of(s, "reps", team["bob_uid"])})
    mia.sync()
    report = ann.sync()
    assert report.gone == {"leads": 1}
    assert "1 lead moved to another rep was removed from this laptop" in report.summary()
    assert ann.store.scalar("SELECT deleted_at FROM leads WHERE uid = ?", (lead_uid,)) is not None

    # An admin gives Acme to a rep outside Mia's team, closing its assignment (as applying a balancing
    # scenario does): it leaves Mia's laptop too, and Ann's, its assignment history with it (not counted).
    acme = id_of(admin.store, "accounts", team["acme"])
    history = writes.insert(admin.store, "assignments", {"account_id": acme, "rep_id": id_of(admin.store, "reps",
                                                                                             team["ann_uid"]),
                                                         "valid_from": "2026-01-01"})
    zed = writes.insert(admin.store, "reps", {"name": "Zed Elsewhere"})
    admin.sync()
    mia.sync()
    ann.sync()
    history_uid = uid_of(admin.store, "assignments", history)
    assert ann.store.scalar("SELECT deleted_at FROM assignments WHERE uid = ?", (history_uid,)) is None
    move(admin, team["acme"], uid_of(admin.store, "reps", zed))
    writes.update(admin.store, "assignments", history, {"valid_to": "2026-12-02"})
    admin.sync()
    assert mia.sync().gone == {"accounts": 1}
    assert team["acme"] not in visible_accounts(mia.store)
    assert ann.sync().gone == {"accounts": 1}
    assert ann.store.scalar("SELECT deleted_at FROM assignments WHERE uid = ?", (history_uid,)) is not None
    assert team["bolt"] in visible_accounts(ann.store) and team["bolt"] in visible_accounts(mia.store)


def test_restoring_a_moved_account_from_the_deleted_ones_does_not_bring_the_stale_copy_back(team):
    ann, mia = team["ann"], team["mia"]
    move(mia, team["acme"], team["bob_uid"])
    mia.sync()
    ann.sync()
    local = id_of(ann.store, "accounts", team["acme"])
    accounts.restore_account(ann.store, local)  # from the Accounts list's deleted rows
    assert team["acme"] in visible_accounts(ann.store)
    report = ann.sync()
    assert team["acme"] not in visible_accounts(ann.store), "refused by the server, hidden again"
    assert report.moved_refused and "Bob Rep" in report.moved_refused[0]
    assert engine.status(ann.store).pending == 0
