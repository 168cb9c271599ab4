"""Mileage and expenses from the command line: a rep logs, submits; a manager approves; finance exports."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import openpyxl
import pytest

from desktop.cli import main
from tests.core.expenses.conftest import image_bytes


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_rep_logs_submits_a_manager_approves_and_finance_exports(demo_db, tmp_path, capsys):
    db = str(demo_db)
    receipt = tmp_path / "lunch.jpg"
    receipt.write_bytes(image_bytes("JPEG"))
    day = "2026-11-19"
    code, out, err = _run(capsys, "expense", "add", "--db", db, "--date", day, "--amount", "42.50", "--category",
                          "meals", "--merchant", "Cafe Brazos", "--receipt", str(receipt), "--rep", "Lauren Lewis",
                          "--json")
    assert code == 0, err
    expense = json.loads(out)
    assert expense["amount_cents"] == 4250 and expense["receipt_id"]
    code, out, err = _run(capsys, "trip", "add", "--db", db, "--date", day, "--rep", "Lauren Lewis", "--start",
                          "Home", "--to", "Acme Supply, Austin", "--purpose", "Quarterly review",
                          "--odometer-start", "1000", "--odometer-end", "1040.5", "--vehicle", "Camry")
    assert code == 0, err and "40.5 mi" in out
    # The day's driving is already typed (the demo's day trip and the Acme one): logging the route beside
    # it would pay those miles twice, so it is refused, naming them, until the rep says --replace or --keep.
    code, out, err = _run(capsys, "trip", "from-route", "--db", db, "--date", day, "--rep", "Lauren Lewis", "--json")
    assert code == 1 and "Acme Supply, Austin, 40.5 mi" in err and "--replace" in err and "--keep" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = _run(capsys, "trip", "list", "--db", db, "--period", "2026-11", "--rep", "Lauren Lewis", "--json")
    typed = [t["id"] for t in json.loads(out) if t["day"] == day]
    assert len(typed) == 2
    code, out, err = _run(capsys, "trip", "from-route", "--db", db, "--date", day, "--rep", "Lauren Lewis",
                          "--replace", "--json")
    assert code == 0, err
    legs = json.loads(out)
    code, out, _ = _run(capsys, "trip", "list", "--db", db, "--period", "2026-11", "--rep", "Lauren Lewis", "--json")
    that_day = [t for t in json.loads(out) if t["day"] == day]
    assert {t["id"] for t in that_day} == {t["id"] for t in legs}           # the typed ones were swapped out
    assert all(t["distance_source"] in ("route", "visits") for t in that_day)
    assert len(legs) >= 2 and legs[0]["purpose"].startswith("Customer visit: ")

    code, out, err = _run(capsys, "report", "submit", "--db", db, "--rep", "Lauren Lewis", "--period", "2026-11",
                          "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["state"] == "submitted"
    code, _, err = _run(capsys, "report", "approve", str(report["id"]), "--db", db, "--as", "Lauren Lewis")
    assert code == 1 and err.strip().count("\n") == 0 and "only a manager or an admin" in err
    code, _, err = _run(capsys, "expense", "edit", str(expense["id"]), "--db", db, "--amount", "1")
    assert code == 1 and "which is submitted: it cannot be changed" in err
    code, out, err = _run(capsys, "report", "approve", str(report["id"]), "--db", db, "--as", "Dana Whitfield")
    assert code == 0 and "approved" in out

    csv_out, xlsx_out = tmp_path / "nov.csv", tmp_path / "nov.xlsx"
    assert _run(capsys, "export", "mileage", "--db", db, "--period", "2026-11", "--rep", "Lauren Lewis", "--out",
                str(csv_out))[0] == 0
    code, out, err = _run(capsys, "export", "mileage", "--db", db, "--period", "2026-11", "--rep", "Lauren Lewis",
                          "--out", str(xlsx_out), "--mark-exported", "--as", "Dana Whitfield", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["marked_exported"] == [report["id"]]
    with open(csv_out, encoding="utf-8-sig") as fh:
        csv_total = [r for r in csv.reader(fh) if r[0] == "Total"][0][8]
    ws = openpyxl.load_workbook(xlsx_out).active
    xlsx_total = [r for r in ws.iter_rows(values_only=True) if r[0] == "Total"][0][8]
    assert f"{xlsx_total:.2f}" == csv_total == f"{summary['totals_cents']['USD'] / 100:.2f}"
    code, out, _ = _run(capsys, "report", "show", str(report["id"]), "--db", db, "--json")
    actions = [a["action"] for a in json.loads(out)["audit"]]
    assert actions[-4:] == ["trips added from route", "submitted", "approved", "exported"]


@pytest.mark.parametrize("argv, message", [
    (["expense", "add", "--date", "2026-11-02", "--amount", "-5", "--category", "Meals"], "is negative"),
    (["expense", "add", "--date", "2026-11-02", "--amount", "5", "--category", "Meals", "--currency", "ABC"],
     "not an ISO 4217"),
    (["expense", "add", "--date", (date.today() + timedelta(days=3)).isoformat(), "--amount", "5", "--category",
      "Meals"], "in the future"),
    (["trip", "add", "--date", "2026-11-02", "--to", "X", "--purpose", "Y", "--odometer-start", "500",
      "--odometer-end", "400"], "below the start reading"),
])
def test_bad_input_is_one_line_and_changes_nothing(demo_db, capsys, argv, message):
    from core.storage import open_database

    with open_database(demo_db) as s:
        before = s.scalar("SELECT count(*) FROM change_log")
    code, _, err = _run(capsys, *argv[:2], "--db", str(demo_db), "--rep", "Lauren Lewis", *argv[2:])
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    with open_database(demo_db) as s:
        assert s.scalar("SELECT count(*) FROM change_log") == before


def test_a_text_file_is_not_a_receipt(demo_db, tmp_path, capsys):
    fake = tmp_path / "receipt.jpg"
    fake.write_text("hello")
    code, _, err = _run(capsys, "expense", "add", "--db", str(demo_db), "--date", "2026-11-02", "--amount", "5",
                        "--category", "Meals", "--rep", "Lauren Lewis", "--receipt", str(fake))
    assert code == 1 and "receipt.jpg is not a JPEG, PNG or PDF file" in err


def test_the_weeks_accepted_routes_become_the_mileage_log(demo_db, capsys):
    from core.storage import open_database, writes

    with open_database(demo_db) as s:
        rep = s.scalar("SELECT id FROM reps WHERE name = 'Megan Nguyen'")
        accounts = [r["id"] for r in s.query("SELECT id FROM accounts WHERE owner_id = ? AND lat IS NOT NULL "
                                             "ORDER BY id LIMIT 6", (rep,))]
        accepted = {}
        with s.atomic():  # what accepting Monday-Wednesday's plan writes: routes with ordered stops
            for k, day in enumerate(("2026-11-23", "2026-11-24", "2026-11-25")):
                accepted[day] = writes.insert(s, "routes", {"rep_id": rep, "day": day, "status": "accepted"})
                writes.insert_many(s, "route_stops", [{"route_id": accepted[day], "seq": n, "account_id": a}
                                                      for n, a in enumerate(accounts[2 * k:2 * k + 2], 1)])
    code, out, err = _run(capsys, "trip", "from-route", "--db", str(demo_db), "--rep", "Megan Nguyen", "--date",
                          "2026-11-25", "--week", "--json")
    assert code == 0, err
    trips = json.loads(out)
    assert [t["day"] for t in trips] == ["2026-11-23"] * 3 + ["2026-11-24"] * 3 + ["2026-11-25"] * 3
    assert all(t["distance_source"] == "route" and t["route_id"] == accepted[t["day"]] for t in trips)
    with pytest.raises(SystemExit) as exit_:  # argparse refuses an unknown scheme
        main(["trip", "scheme", "--db", str(demo_db), "--rep", "Megan Nguyen", "--scheme", "XX"])
    assert exit_.value.code == 2
    assert _run(capsys, "trip", "scheme", "--db", str(demo_db), "--rep", "Megan Nguyen", "--scheme", "CRA")[0] == 0
    with open_database(demo_db) as s:
        assert s.scalar("SELECT mileage_scheme FROM reps WHERE id = ?", (rep,)) == "CRA"


def test_an_item_logged_after_the_month_was_submitted_says_it_is_not_on_the_report(demo_db, capsys):
    """October is submitted in the demo (today 2026-11-20): a late expense or trip stays off it, and says so."""
    db = str(demo_db)
    code, out, err = _run(capsys, "expense", "add", "--db", db, "--date", "2026-10-15", "--amount", "12",
                          "--category", "Meals", "--rep", "Lauren Lewis")
    assert code == 0, err
    assert "not on a report: that month's report is already submitted" in out
    code, out, _ = _run(capsys, "expense", "list", "--db", db, "--period", "2026-10", "--rep", "Lauren Lewis")
    late = [line for line in out.splitlines() if "[not on a report]" in line]
    assert len(late) == 1 and "$12.00" in late[0]
    code, out, err = _run(capsys, "trip", "add", "--db", db, "--date", "2026-10-15", "--rep", "Lauren Lewis",
                          "--to", "Austin", "--miles", "12", "--purpose", "visit")
    assert code == 0, err
    assert "not on a report" in out
    # An item in an open month is on its report and says nothing of the kind.
    code, out, _ = _run(capsys, "expense", "add", "--db", db, "--date", "2026-11-19", "--amount", "12",
                        "--category", "Meals", "--rep", "Lauren Lewis")
    assert code == 0 and "not on a report" not in out
