"""`fieldatlas account show/set` as a script (and the sync helper) would use them."""

from __future__ import annotations

import json

import pytest

from core.storage import change_log
from core.storage.database import open_database
from desktop.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_set_hours_frequency_weekdays_and_show_them(demo_db, capsys):
    db = str(demo_db)
    code, out, err = run(capsys, "account", "set", "--db", db, "--id", "7", "--field", "opening_hours",
                         "--value", "M-F 8am-5pm; Sat 9:00-12:00", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["changed"] and data["new"] == ('{"mon":[["08:00","17:00"]],"tue":[["08:00","17:00"]],'
                                               '"wed":[["08:00","17:00"]],"thu":[["08:00","17:00"]],'
                                               '"fri":[["08:00","17:00"]],"sat":[["09:00","12:00"]]}')
    assert run(capsys, "account", "set", "--db", db, "--id", "7", "--field", "visit_frequency",
               "--value", "Every 2 weeks")[0] == 0
    assert run(capsys, "account", "set", "--db", db, "--id", "7", "--field", "allowed_weekdays",
               "--value", "Tue, Thu")[0] == 0
    code, out, _ = run(capsys, "account", "show", "--db", db, "--id", "7", "--json")
    shown = json.loads(out)
    assert shown["visit_frequency"] == "biweekly" and shown["allowed_weekdays"] == "tue,thu"
    assert shown["opening_hours_text"] == "Mon–Fri 08:00–17:00, Sat 09:00–12:00"
    code, out, _ = run(capsys, "account", "show", "--db", db, "--id", "7")
    assert "Every 2 weeks" in out and "Sat 09:00–12:00" in out
    # Every set is one logged edit carrying the new value (what sync pushes).
    store = open_database(demo_db)
    try:
        logged = [e.values for e in change_log.edits(store, table="accounts", row_id=7) if e.op == "update"]
    finally:
        store.close()
    assert {"visit_frequency": "biweekly"} in [{k: v for k, v in e.items() if k == "visit_frequency"} for e in logged]
    assert any(e.get("allowed_weekdays") == "tue,thu" for e in logged)


def test_owner_by_name_and_clearing_a_field(demo_db, capsys):
    db = str(demo_db)
    code, out, err = run(capsys, "account", "set", "--db", db, "--id", "3", "--field", "owner_id",
                         "--value", "Lauren Lewis", "--json")
    assert code == 0, err
    assert json.loads(out)["account"]["owner"] == "Lauren Lewis"
    code, out, _ = run(capsys, "account", "set", "--db", db, "--id", "3", "--field", "opening_hours",
                       "--value", "", "--json")
    assert code == 0 and json.loads(out)["new"] is None


@pytest.mark.parametrize("field, value, message", [
    ("visit_minutes", "abc", "visit_minutes: must be a whole number"),
    ("visit_minutes", "2000", "at most a day"),
    ("opening_hours", "Mon 17:00-08:00", "closes before it opens"),
    ("opening_hours", "9-5", "name the days"),
    ("visit_frequency", "sometimes", "must be weekly, every 2 weeks"),
    ("allowed_weekdays", "funday", "unknown weekday 'funday'"),
    ("tier", "Z", "must be A, B or C"),
    ("colour", "red", "is not an account field"),
    ("visit_minutes", "-5", "account 7: visit_minutes: must not be negative"),
])
def test_bad_values_are_refused_and_nothing_is_written(demo_db, capsys, field, value, message):
    store = open_database(demo_db)
    before = store.scalar("SELECT max(seq) FROM change_log")
    store.close()
    code, out, err = run(capsys, "account", "set", "--db", str(demo_db), "--id", "7", "--field", field,
                         "--value", value)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert err.count("account 7:") <= 1, err  # the account is named once, not "account 7: account 7: ..."
    store = open_database(demo_db)
    try:
        assert store.scalar("SELECT max(seq) FROM change_log") == before
    finally:
        store.close()


def test_unknown_account(demo_db, capsys):
    code, _, err = run(capsys, "account", "show", "--db", str(demo_db), "--id", "999999")
    assert code == 1 and "account 999999 does not exist" in err
