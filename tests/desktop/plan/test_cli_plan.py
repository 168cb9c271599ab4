"""`fieldatlas plan` and `fieldatlas visit` as a script would use them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import icalendar
import pytest

from desktop.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plan_json_exports_and_accept(demo_db, tmp_path, capsys):
    ics = tmp_path / "week.ics"
    code, out, _ = run(capsys, "plan", "--db", str(demo_db), "--rep", "Lauren Lewis", "--start", "2026-11-23",
                       "--days", "1", "--seconds", "0.3", "--json", "--ics", str(ics), "--links", "--accept")
    assert code == 0
    data = json.loads(out)
    visits = data["days"][0]["visits"]
    assert visits and data["accepted"]["visits"] == len(visits)
    assert data["links"]["2026-11-23"][0].startswith("https://www.google.com/maps/dir/")
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    assert len([e for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Visit")]) == len(visits)

    code, out, _ = run(capsys, "visit", "list", "--db", str(demo_db), "--rep", "Lauren Lewis", "--day", "2026-11-23",
                       "--json")
    rows = json.loads(out)
    assert [r["account_id"] for r in rows] == [v["account_id"] for v in visits]
    vid = rows[0]["id"]
    # The text shows the rep's clock (Austin: Central time) beside the stored UTC time.
    code, out, _ = run(capsys, "visit", "list", "--db", str(demo_db), "--rep", "Lauren Lewis", "--day", "2026-11-23")
    first = out.splitlines()[0]
    utc = datetime.fromisoformat(rows[0]["planned_start"].replace("Z", "+00:00"))
    assert f"{utc - timedelta(hours=6):%H:%M} CST ({rows[0]['planned_start']})" in first, first
    assert run(capsys, "visit", "checkin", "--db", str(demo_db), str(vid), "--at", "2026-11-23T15:00:00Z")[0] == 0
    code, out, _ = run(capsys, "visit", "checkout", "--db", str(demo_db), str(vid), "--outcome", "Order placed",
                       "--at", "2026-11-23T15:50:00Z", "--json")
    assert code == 0 and json.loads(out)["status"] == "done"
    # A done visit cannot be missed: one line, non-zero; another planned one can.
    code, _, err = run(capsys, "visit", "missed", "--db", str(demo_db), str(vid))
    assert code != 0 and "only a planned visit" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "visit", "missed", "--db", str(demo_db), str(rows[1]["id"]), "--reason",
                       "Buyer away", "--json")
    assert code == 0 and (json.loads(out)["status"], json.loads(out)["notes"]) == ("missed", "Buyer away")


@pytest.mark.parametrize("args, message", [
    (["--rep", "nobody", "--start", "2026-11-23"], "no rep matches"),
    (["--rep", "Lauren Lewis", "--start", "2026-11-28", "--days", "2"], "no working days"),
    (["--rep", "Lauren Lewis", "--start", "2026-11-23", "--days", "0"], "--days"),
])
def test_plan_bad_input_is_one_line_and_nothing_written(demo_db, capsys, args, message):
    from core.storage import open_database

    code, _, err = run(capsys, "plan", "--db", str(demo_db), *args, "--accept")
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1
    store = open_database(demo_db)
    try:
        assert store.scalar("SELECT count(*) FROM routes") == 0
    finally:
        store.close()


def test_accounts_left_out_name_their_tier_once(demo_db, capsys):
    """A full week leaves accounts out: each reads "Name (tier B): reason", with the tier not repeated in the reason."""
    code, out, _ = run(capsys, "plan", "--db", str(demo_db), "--rep", "Lauren Lewis", "--start", "2026-12-07",
                       "--days", "2", "--seconds", "1")
    assert code == 0
    left = out.split("Not planned (", 1)[1].splitlines()[1:]
    left = [ln for ln in left if ln.startswith("  ")]
    assert left, out
    for line in left:
        name, reason = line.strip().split(": ", 1)
        assert name.endswith(("(tier A)", "(tier B)", "(tier C)")), line
        assert "tier" not in reason, line
