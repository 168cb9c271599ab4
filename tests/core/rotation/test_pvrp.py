"""The periodic VRP: the independent checker on a tiny instance, and a short solve of Cordeau's p01."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "benchmarks"
P01 = ROOT.parent / "shared" / "bench" / "pvrp" / "p01.txt"
sys.path.insert(0, str(BENCH))

import pvrp_check  # noqa: E402

# 3 customers, 2 days, 1 vehicle a day of capacity 10 and duration 100.
# Customer 1 twice (pattern 11 = both days), 2 on day 1 only (10), 3 on either day (10 or 01).
TINY = """1 1 3 2
100 10
100 10
 0 0 0 0 0 0 0
 1 3 4 1 4 2 1 3
 2 0 10 1 5 1 1 2
 3 6 8 1 5 1 2 2 1
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY)
    return path


def test_checker_recomputes_cost_and_accepts_a_feasible_plan(tiny):
    plan = {"routes": [{"day": 1, "customers": [1, 2]}, {"day": 2, "customers": [1, 3]}]}
    cost, problems = pvrp_check.check(pvrp_check.read(tiny), plan)
    expected = (5 + ((3 ** 2 + 6 ** 2) ** 0.5) + 10) + (5 + 5 + 10)
    assert problems == [] and cost == pytest.approx(expected)


def test_checker_finds_every_broken_rule(tiny):
    inst = pvrp_check.read(tiny)
    _, p = pvrp_check.check(inst, {"routes": [{"day": 2, "customers": [1, 2, 3]}]})
    assert any("customer 1: 1 visits, frequency 2" in x for x in p)
    assert any("customer 2: days [2] are not an allowed pattern" in x for x in p)
    assert any("load 14 over capacity 10" in x for x in p)
    _, p = pvrp_check.check(inst, {"routes": [{"day": 1, "customers": [1, 2]}, {"day": 1, "customers": [3]},
                                              {"day": 2, "customers": [1]}]})
    assert any("day 1: 2 routes but 1 vehicles" in x for x in p)
    inst["limits"][0] = (20.0, 10.0)
    _, p = pvrp_check.check(inst, {"routes": [{"day": 1, "customers": [1, 2]}, {"day": 2, "customers": [1, 3]}]})
    assert any("duration" in x and "over 20" in x for x in p)


def test_core_solver_agrees_with_the_checker_on_the_tiny_instance(tiny):
    from core.rotation.cordeau import read_instance
    from core.rotation.periodic import check_solution, solve_periodic

    problem, _ = read_instance(tiny)
    sol = solve_periodic(problem, seconds=0.5, use_cpsat=True)
    assert check_solution(problem, sol) == [] and not sol.unserved
    plan = {"routes": [{"day": d + 1, "customers": r} for d, day in enumerate(sol.routes) for r in day]}
    cost, problems = pvrp_check.check(pvrp_check.read(tiny), plan)
    assert problems == [] and cost == pytest.approx(sol.cost)


@pytest.mark.skipif(not P01.exists(), reason="Cordeau instances not present")
def test_short_solve_of_p01_is_feasible(tmp_path):
    out = tmp_path / "plan.json"
    subprocess.run([sys.executable, str(BENCH / "pvrp.py"), str(P01), "--seconds", "4", "--out", str(out)],
                   check=True, capture_output=True, text=True)
    plan = json.loads(out.read_text())
    cost, problems = pvrp_check.check(pvrp_check.read(P01), plan)
    assert problems == []
    # Not better than the best known; loose upper bound because a 4 s run on a loaded CI machine is short.
    assert 524.61 - 1e-6 <= cost < 524.61 * 1.5


@pytest.mark.skipif(not (P01.parent / "p04.txt").exists(), reason="Cordeau data not present")
def test_whole_cycle_search_moves_visits_between_days_and_stays_feasible():
    from core.rotation.cordeau import read_instance
    from core.rotation.periodic import PeriodicSolution, check_solution, first_fit, optimise_cycle, route_cost

    # p04: 75 customers seen once, each on either of 2 days: the day of a visit is the main choice.
    problem, _ = read_instance(P01.parent / "p04.txt")
    start = first_fit(problem, route_iterations=50)
    out = optimise_cycle(problem, start.routes, start.pattern, seconds=2, seed=0)
    assert out is not None
    routes, pattern = out
    cost = sum(route_cost(problem.travel, r) for day in routes for r in day)
    assert cost < start.cost - 1
    assert not check_solution(problem, PeriodicSolution(routes, pattern, [], cost))
    assert any(pattern[c] != start.pattern[c] for c in pattern)  # some visits changed day


@pytest.mark.skipif(not (P01.parent / "pr04.txt").exists(), reason="Cordeau data not present")
def test_day_descent_improves_a_scrambled_day_with_only_its_customers_and_fleet():
    import random

    from core.rotation.cordeau import read_instance
    from core.rotation.periodic import first_fit, route_cost
    from core.rotation.pyvrp_routes import _routes_ok, descend_day

    # pr04: capacity and a duration limit; the descent is reused across calls, so run several in a row.
    problem, _ = read_instance(P01.parent / "pr04.txt")
    start = first_fit(problem, route_iterations=20)
    rng = random.Random(3)
    for day in range(problem.days):
        routes = [list(r) for r in start.routes[day]]
        part = routes[:3]
        given = sorted(c for r in part for c in r)
        # Scramble each route's order: still within capacity (same customers), longer.
        scrambled = [rng.sample(r, len(r)) for r in part]
        scrambled = [r for r in scrambled if _routes_ok(problem, day, [r])] or part
        before = sum(route_cost(problem.travel, r) for r in scrambled)
        out = descend_day(problem, day, scrambled, seed=day, vehicles=len(scrambled))
        after = sum(route_cost(problem.travel, r) for r in out)
        assert sorted(c for r in out for c in r) == sorted(c for r in scrambled for c in r)
        assert len(out) <= len(scrambled) and _routes_ok(problem, day, out)
        assert after <= before + 1e-9
        if scrambled is not part:
            assert after < before - 1  # a scrambled order is always improvable
        assert set(given) >= {c for r in out for c in r}
