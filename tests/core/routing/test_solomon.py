"""The Solomon benchmark path: core.routing on C101 for a second, checked by the independent checker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.solomon import solve_instance
from benchmarks.solomon_check import check, read_instance

C101 = Path("/work/shared/bench/solomon/C101.txt")
pytestmark = pytest.mark.skipif(not C101.exists(), reason="Solomon data not present")


def test_c101_plan_is_feasible_and_near_best_known():
    inst = read_instance(C101)
    routes = solve_instance(C101, seconds=1.0)
    report = check(inst, routes)
    assert report["feasible"], report["problems"]
    assert report["distance"] <= 828.94 * 1.02


def test_checker_catches_broken_plans():
    inst = read_instance(C101)
    routes = solve_instance(C101, seconds=0.5)
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
    subprocess.run([sys.executable, str(root / "benchmarks" / "solomon.py"), str(C101), "--seconds", "0.5",
                    "--out", str(out)], check=True, cwd=tmp_path)
    routes = json.loads(out.read_text())["routes"]
    assert sorted(c for r in routes for c in r) == list(range(1, 101))
