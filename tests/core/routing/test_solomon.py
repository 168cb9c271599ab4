"""The Solomon benchmark path: core.routing on C101 for a second, checked by the independent checker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.solomon import build_problem
from benchmarks.solomon_check import check, read_instance
from core.routing import NoImprovement, solve

# Solomon's C101 (100 customers, 7.5 KB, public since 1987) ships with the tests, so this runs on every machine.
C101 = Path(__file__).resolve().parents[2] / "fixtures" / "solomon" / "C101.txt"


def solve_c101(iterations: int = 200) -> list[list[int]]:
    # A count of iterations, not seconds: with a fixed seed the result is the same on a loaded 2-core
    # machine and a fast laptop (a 1 s budget found 889 or nothing at all while other work ran).
    result = solve(build_problem(read_instance(C101)), stop=NoImprovement(iterations), seed=1)
    return [r.stop_ids for r in result.routes if r.visits]


def test_c101_plan_is_feasible_and_near_best_known():
    inst = read_instance(C101)
    routes = solve_c101()
    report = check(inst, routes)
    assert report["feasible"], report["problems"]
    assert report["distance"] <= 828.94 * 1.02


def test_checker_catches_broken_plans():
    inst = read_instance(C101)
    routes = solve_c101(100)
    missing = [r[:] for r in routes]
    missing[0] = missing[0][1:]
    assert any("visited 0 times" in p for p in check(inst, missing)["problems"])
    reversed_routes = [list(reversed(r)) for r in routes]
    assert not check(inst, reversed_routes)["feasible"]
    merged = [sum(routes, [])]
    problems = check(inst, merged)["problems"]
    assert any("capacity" in p for p in problems)


def test_script_writes_routes_json(tmp_path):
    out = tmp_path / "routes.json"
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, str(root / "benchmarks" / "solomon.py"), str(C101), "--seconds", "5",
                    "--out", str(out)], check=True, cwd=tmp_path)
    routes = json.loads(out.read_text())["routes"]
    assert sorted(c for r in routes for c in r) == list(range(1, 101))


SMALL = """NEG1

VEHICLE
NUMBER     CAPACITY
  2         100

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0.0        0.0          0          0       1000          0
    1     -12.5       7.25        10          0        900         10
    2      30        -40.75       20          0        900         10
    3     -5         -5            5          0        900         10
"""


def test_negative_and_decimal_coordinates_are_read_and_solved(tmp_path):
    path = tmp_path / "neg.txt"
    path.write_text(SMALL)
    inst = read_instance(path)
    assert [r[1:3] for r in inst.rows] == [(0.0, 0.0), (-12.5, 7.25), (30.0, -40.75), (-5.0, -5.0)]
    result = solve(build_problem(inst), stop=NoImprovement(50), seed=1)
    routes = [[int(s) for s in r.stop_ids] for r in result.routes if r.visits]
    assert check(inst, routes)["feasible"]


def test_a_value_that_is_not_a_number_names_its_line_and_column(tmp_path):
    import pytest

    path = tmp_path / "bad.txt"
    path.write_text(SMALL.replace("-40.75", "-40,75"))
    with pytest.raises(ValueError, match=r"line 12: y coordinate '-40,75' is not a number"):
        read_instance(path)
