"""`fieldatlas balance` and `fieldatlas territories` as a script would use them."""

import json

import pytest

from desktop.cli import main


def run_json(capsys, *argv):
    code = main(list(argv) + ["--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


def test_balance_json_then_apply_as_manager(demo_db, capsys):
    code, data, _ = run_json(capsys, "balance", "--db", str(demo_db), "--seconds", "4", "--tolerance", "3")
    assert code == 0
    assert data["status"] == "balanced"
    assert data["max_deviation_pct"] <= 3
    assert {"rep_id", "name", "accounts", "workload_hours", "target_hours", "potential"} <= set(data["reps"][0])
    assert len(data["reps"]) == 8
    assert data["moved"] > 0 and data["scenario_id"]
    assert data["bound_hours"] <= data["objective_hours"]
    sid = str(data["scenario_id"])

    code, compare, _ = run_json(capsys, "territories", "compare", sid, "--db", str(demo_db))
    assert code == 0 and len(compare["moves"]) == data["moved"]

    assert main(["territories", "apply", sid, "--db", str(demo_db), "--as", "2"]) == 1
    assert "only a manager" in capsys.readouterr().err
    code, applied, _ = run_json(capsys, "territories", "apply", sid, "--db", str(demo_db), "--as", "Dana Whitfield",
                                "--effective", "2026-11-23")
    assert code == 0 and applied["accounts_changed"] == data["moved"]

    moved = compare["moves"][0]
    code, owner, _ = run_json(capsys, "territories", "owner", str(moved["account_id"]), "--on", "2026-11-22",
                              "--db", str(demo_db))
    assert owner["rep_id"] == moved["from_rep_id"]
    code, owner, _ = run_json(capsys, "territories", "owner", str(moved["account_id"]), "--on", "2026-11-23",
                              "--db", str(demo_db))
    assert owner["rep_id"] == moved["to_rep_id"]


def test_apply_needs_a_manager_and_bad_input_is_one_line(demo_db, capsys):
    assert main(["balance", "--db", str(demo_db), "--apply"]) == 1
    assert "--as" in capsys.readouterr().err
    assert main(["balance", "--db", str(demo_db), "--tolerance", "0"]) == 1
    assert "tolerance" in capsys.readouterr().err
    assert main(["balance", "--db", str(demo_db), "--reps", "999"]) == 1
    assert "999" in capsys.readouterr().err
    assert main(["territories", "add", "--db", str(demo_db), "--name", "X", "--kind", "geographic",
                 "--rule", '{"zips": ["1"]}']) == 1
    assert "zips" in capsys.readouterr().err


def test_report_list_and_add(demo_db, capsys):
    code, listing, _ = run_json(capsys, "territories", "list", "--db", str(demo_db))
    assert code == 0 and len(listing["territories"]) == 9
    code, added, _ = run_json(capsys, "territories", "add", "--db", str(demo_db), "--name", "Healthcare",
                              "--kind", "industry", "--rule", '{"industries": ["Healthcare"]}', "--precedence", "10",
                              "--owner", "Dana Whitfield")
    assert code == 0
    code, report, _ = run_json(capsys, "territories", "report", "--db", str(demo_db))
    assert code == 0
    assert report["conflicts"]                      # Healthcare accounts now match two rules at precedence 10
    assert all(len(c["territory_ids"]) == 2 for c in report["conflicts"])


def test_hire_then_plan_a_new_rep(demo_db, capsys):
    code, hired, _ = run_json(capsys, "territories", "hire", "--db", str(demo_db), "--name", "Casey Newhire",
                              "--home-zip", "78701")
    assert code == 0
    code, data, _ = run_json(capsys, "balance", "--db", str(demo_db), "--add-rep", str(hired["rep_id"]),
                             "--seconds", "4", "--tolerance", "3")
    assert code == 0 and data["status"] == "balanced"
    new = next(r for r in data["reps"] if r["rep_id"] == hired["rep_id"])
    assert new["accounts"] > 0
    assert main(["territories", "hire", "--db", str(demo_db), "--name", "X", "--home-zip", "1"]) == 1
    assert "ZIP" in capsys.readouterr().err
