"""`fieldatlas rotation`: coverage then days in text, the same as JSON, --save, and one-line errors."""

import json

from desktop.cli import main


def test_rotation_json_and_save(demo_db, capsys):
    code = main(["rotation", "plan", "--db", str(demo_db), "--rep", "Carlos Wilson", "--weeks", "4", "--start",
                 "2026-11-25", "--seconds", "2", "--json", "--save"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["start"] == "2026-11-23" and data["weeks"] == 4 and len(data["days"]) == 20
    thanksgiving = data["days"][3]
    assert thanksgiving["date"] == "2026-11-26" and thanksgiving["off"] and not thanksgiving["visits"]
    assert data["coverage"]["visits"] >= data["visits"] > 0
    assert abs(data["total_drive_minutes"] - sum(d["drive_minutes"] for d in data["days"])) < 1
    assert isinstance(data["plan_id"], int)

    from core.storage import open_database

    with open_database(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM rotation_slots WHERE plan_id = ?", (data["plan_id"],)) \
            == data["visits"]


def test_rotation_text_lists_coverage_then_weeks(demo_db, capsys):
    assert main(["rotation", "plan", "--db", str(demo_db), "--rep", "6", "--weeks", "4", "--start", "2026-11-23",
                 "--seconds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Coverage:")
    assert "Week 1" in out and "Week 4" in out and "off (Thanksgiving Day)" in out
    assert "min drive" in out


def test_rotation_bad_input_is_one_line_and_writes_nothing(demo_db, capsys):
    assert main(["rotation", "plan", "--db", str(demo_db), "--rep", "nobody-here", "--weeks", "4"]) != 0
    err = capsys.readouterr().err
    assert "--rep" in err and "nobody-here" in err and len(err.strip().splitlines()) == 1
    assert main(["rotation", "plan", "--db", str(demo_db), "--rep", "6", "--weeks", "30", "--save"]) != 0
    assert "--weeks" in capsys.readouterr().err
    from core.storage import open_database

    with open_database(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM rotation_plans") == 0


def test_rotation_save_apply_twice_time_off_and_coverage(demo_db, capsys):
    from core.storage import open_database

    assert main(["rotation", "plan", "--db", str(demo_db), "--rep", "Carlos Wilson", "--weeks", "2", "--start",
                 "2026-11-30", "--seconds", "2", "--save", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    plan_id, visits = plan["plan_id"], plan["visits"]
    assert main(["rotation", "list", "--db", str(demo_db), "--rep", "6"]) == 0
    listing = capsys.readouterr().out
    assert f"{plan_id}" in listing and "draft" in listing
    assert main(["rotation", "apply", "--db", str(demo_db), "--plan", str(plan_id), "--today", "2026-11-27",
                 "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["added"] == visits > 0 and first["removed"] == 0
    assert main(["rotation", "apply", "--db", str(demo_db), "--plan", str(plan_id), "--today", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert "0 visits booked" in out and f"{visits} unchanged" in out and "done / due" in out
    busy = next(d for d in plan["days"] if d["visits"])
    assert main(["rotation", "time-off", "--db", str(demo_db), "--rep", "6", "--day", busy["date"], "--reason",
                 "training", "--today", "2026-11-27"]) == 0
    assert "visits moved off days off" in capsys.readouterr().out
    with open_database(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM visits WHERE rotation_plan_id = ? AND deleted_at IS NULL "
                            "AND substr(planned_start, 1, 10) = ?", (plan_id, busy["date"])) == 0
        assert store.scalar("SELECT status FROM rotation_plans WHERE id = ?", (plan_id,)) == "applied"
    assert main(["rotation", "coverage", "--db", str(demo_db), "--plan", str(plan_id), "--today", "2026-12-31",
                 "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)["coverage"]
    assert sum(c["due"] for c in cov) == sum(c["planned"] for c in cov) > 0 and sum(c["done"] for c in cov) == 0


def test_rotation_apply_unknown_plan_is_one_line(demo_db, capsys):
    assert main(["rotation", "apply", "--db", str(demo_db), "--plan", "4242"]) != 0
    err = capsys.readouterr().err
    assert "rotation plan 4242 does not exist" in err and len(err.strip().splitlines()) == 1


def test_a_crash_of_the_rotation_solver_is_one_line_and_a_failing_exit(demo_db, capsys):
    import multiprocessing as mp
    import os
    import signal
    import threading
    import time

    from core.storage import open_database

    with open_database(demo_db) as store:
        before = store.scalar("SELECT count(*) FROM rotation_plans")
    codes: list[int] = []
    t = threading.Thread(target=lambda: codes.append(main(["rotation", "plan", "--db", str(demo_db), "--rep", "4",
                                                           "--seconds", "60", "--save"])))
    t.start()
    end = time.monotonic() + 30
    while time.monotonic() < end and not any(p.name == "fieldatlas-rotation" for p in mp.active_children()):
        time.sleep(0.02)
    os.kill(next(p.pid for p in mp.active_children() if p.name == "fieldatlas-rotation"), signal.SIGSEGV)
    t.join(20)
    assert codes and codes[0] != 0
    err = capsys.readouterr().err
    assert "the rotation solver stopped unexpectedly (killed by SIGSEGV); nothing was saved" in err
    with open_database(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM rotation_plans") == before
