"""`fieldatlas rotation`: coverage then days in text, the same as JSON, --save, and one-line errors."""

import json

from desktop.cli import main


def test_rotation_json_and_save(demo_db, capsys):
    code = main(["rotation", "--db", str(demo_db), "--rep", "Carlos Wilson", "--weeks", "4", "--start",
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
    assert main(["rotation", "--db", str(demo_db), "--rep", "6", "--weeks", "4", "--start", "2026-11-23",
                 "--seconds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Coverage:")
    assert "Week 1" in out and "Week 4" in out and "off (Thanksgiving Day)" in out
    assert "min drive" in out


def test_rotation_bad_input_is_one_line_and_writes_nothing(demo_db, capsys):
    assert main(["rotation", "--db", str(demo_db), "--rep", "nobody-here", "--weeks", "4"]) != 0
    err = capsys.readouterr().err
    assert "--rep" in err and "nobody-here" in err and len(err.strip().splitlines()) == 1
    assert main(["rotation", "--db", str(demo_db), "--rep", "6", "--weeks", "30", "--save"]) != 0
    assert "--weeks" in capsys.readouterr().err
    from core.storage import open_database

    with open_database(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM rotation_plans") == 0
