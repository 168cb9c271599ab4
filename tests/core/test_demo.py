"""The demo database: deterministic, realistic, never overwriting anything."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import zipcodes

from core.demo import DemoError, DemoSpec, write_demo
from core.geo import haversine_m

TODAY = date(2026, 11, 20)


def snapshot(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT external_id, name, city, postal_code, lat, lon, tier, owner_id, employees "
                        "FROM accounts ORDER BY id").fetchall()
    visits = conn.execute("SELECT account_id, planned_start, status FROM visits ORDER BY id").fetchall()
    conn.close()
    return rows, visits


def test_same_spec_same_data(tmp_path):
    a = write_demo(tmp_path / "a.sqlite", DemoSpec(accounts=300, reps=3, seed=3, today=TODAY))
    b = write_demo(tmp_path / "b.sqlite", DemoSpec(accounts=300, reps=3, seed=3, today=TODAY))
    c = write_demo(tmp_path / "c.sqlite", DemoSpec(accounts=300, reps=3, seed=4, today=TODAY))
    assert snapshot(a) == snapshot(b)
    assert snapshot(a) != snapshot(c)


def test_demo_is_realistic(demo_db):
    conn = sqlite3.connect(demo_db)
    conn.row_factory = sqlite3.Row
    reps = conn.execute("SELECT * FROM reps WHERE role = 'rep'").fetchall()
    assert len(reps) == 8
    assert len({r["home_city"] for r in reps}) == 8
    for a in conn.execute("SELECT * FROM accounts").fetchall()[:300]:
        z = zipcodes.matching(a["postal_code"])[0]
        assert z["state"] == "TX"
        assert haversine_m(a["lat"], a["lon"], float(z["lat"]), float(z["long"])) < 2000
        assert a["owner_id"] in {r["id"] for r in reps}
        assert a["tier"] in "ABC" and a["visit_minutes"] > 0 and a["opening_hours"]
    tiers = dict(conn.execute("SELECT tier, count(*) FROM accounts GROUP BY tier").fetchall())
    assert tiers["A"] < tiers["B"] < tiers["C"]
    first, last = conn.execute("SELECT min(planned_start), max(planned_start) FROM visits").fetchone()
    assert first[:10] >= "2026-08-21" and last[:10] <= "2026-11-20"
    assert conn.execute("SELECT count(*) FROM trips").fetchone()[0] > 300
    assert conn.execute("SELECT count(*) FROM expenses WHERE amount_cents > 0").fetchone()[0] > 100
    assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] >= 10
    states = {r[0] for r in conn.execute("SELECT DISTINCT state FROM expense_reports")}
    assert {"draft", "submitted", "approved"} <= states
    conn.close()


def test_refuses_to_overwrite_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "real.sqlite"
    path.write_bytes(b"precious")
    with pytest.raises(DemoError, match="never overwrites"):
        write_demo(path, DemoSpec(accounts=10, reps=1))
    assert path.read_bytes() == b"precious"
    bad = tmp_path / "bad.sqlite"
    with pytest.raises(DemoError, match="region"):
        write_demo(bad, DemoSpec(accounts=10, reps=1, region="ZZ"))
    assert list(tmp_path.iterdir()) == [path]


def test_other_regions_work(tmp_path):
    path = write_demo(tmp_path / "ca.sqlite", DemoSpec(accounts=50, reps=2, region="CA", today=TODAY))
    conn = sqlite3.connect(path)
    assert {r[0] for r in conn.execute("SELECT DISTINCT state FROM accounts")} == {"CA"}
    conn.close()
