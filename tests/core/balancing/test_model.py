"""The balancer against brute force on small cases, and its promises: locks, move limits, explanations."""

import itertools

import numpy as np
import pytest

from core.accounts import create_account
from core.balancing.greedy import greedy_repair
from core.balancing.measures import max_deviation, moves, nearest_rep, travel_minutes
from core.balancing.model import balance_territories
from core.balancing.problem import BalanceOptions, BalanceProblem, build_problem
from core.progress import Cancelled, NullProgress
from core.reps import create_rep


def small_problem(seed: int, n: int = 8, m: int = 3) -> BalanceProblem:
    rng = np.random.default_rng(seed)
    travel = rng.integers(50, 2000, size=(n, m))
    visit = rng.integers(500, 3000, size=n)
    current = rng.integers(0, m, size=n)
    return BalanceProblem(
        account_ids=np.arange(1, n + 1), account_names=tuple(f"a{i}" for i in range(n)),
        rep_ids=np.arange(101, 101 + m), rep_names=tuple(f"rep {k}" for k in range(m)),
        current=current, fixed=np.zeros(n, bool), fixed_reason=("",) * n,
        work=visit[:, None] + travel, travel=travel, potential=rng.integers(0, 100, size=n),
        potential_cents=rng.integers(0, 10000, size=n), share=np.ones(m, dtype=np.int64),
        capacity_hours=np.full(m, 1840.0), candidates=np.tile(np.arange(m), (n, 1)))


def brute_force(problem: BalanceProblem, tol_pct: float, max_moves: int | None = None):
    best = None
    for combo in itertools.product(range(problem.m), repeat=problem.n):
        assign = np.array(combo)
        if max_moves is not None and moves(problem, assign) > max_moves:
            continue
        loads = np.bincount(assign, weights=problem.work[np.arange(problem.n), assign], minlength=problem.m)
        target = loads.sum() / problem.m
        if np.all(np.abs(loads / target - 1) <= tol_pct / 100 + 1e-12):
            cost = travel_minutes(problem, assign)
            if best is None or cost < best:
                best = cost
    return best


@pytest.mark.parametrize("seed", range(6))
def test_small_cases_match_brute_force(seed):
    problem = small_problem(seed)
    options = BalanceOptions(tolerance_pct=15, seconds=10, candidates=3)
    result = balance_territories(None, options, problem=problem)
    best = brute_force(problem, 15)
    if best is None:
        assert result.status == "not_balanced" and result.reasons
    else:
        assert result.status == "balanced"
        assert travel_minutes(problem, result.assign) == best
        assert result.max_deviation_pct <= 15 + 1e-9
        assert result.bound_hours == pytest.approx(best / 60, abs=0.06)   # proven optimal: bound = optimum


def test_move_limit_matches_brute_force():
    problem = small_problem(3)
    options = BalanceOptions(tolerance_pct=15, seconds=10, candidates=3, max_moves_pct=25)   # 2 of 8
    result = balance_territories(None, options, problem=problem)
    best = brute_force(problem, 15, max_moves=2)
    assert result.moved <= 2
    if best is None:
        assert result.status == "not_balanced"
    else:
        assert travel_minutes(problem, result.assign) == best


@pytest.fixture
def team(empty_store):
    s = empty_store
    homes = [(29.76, -95.37), (32.78, -96.80), (30.27, -97.74)]
    reps = [create_rep(s, {"name": f"Rep {k}", "home_lat": lat, "home_lon": lon})[0]
            for k, (lat, lon) in enumerate(homes)]
    rng = np.random.default_rng(1)
    ids = []
    for i in range(60):
        # Everyone starts with rep 0, so balancing has to move accounts.
        lat, lon = homes[i % 3]
        aid, _ = create_account(s, {"name": f"Account {i}", "lat": float(lat + rng.uniform(-0.3, 0.3)),
                                    "lon": float(lon + rng.uniform(-0.3, 0.3)), "owner_id": reps[0],
                                    "visit_frequency": "monthly", "visit_minutes": 45})
        ids.append(aid)
    return s, reps, ids


def test_balances_a_team_and_keeps_locked_accounts(team):
    s, reps, ids = team
    locked = ids[:5]
    s.conn.execute(f"UPDATE accounts SET locked = 1 WHERE id IN ({','.join(map(str, locked))})")
    result = balance_territories(s, BalanceOptions(tolerance_pct=5, seconds=10))
    assert result.status == "balanced"
    assert result.max_deviation_pct <= 5
    assert result.before_max_deviation_pct > 100
    owner = dict(zip(result.problem.account_ids.tolist(), result.problem.rep_ids[result.assign].tolist()))
    assert all(owner[a] == reps[0] for a in locked)
    assert {m[0] for m in result.move_list()}.isdisjoint(locked)


def test_move_limit_is_respected_and_explained(team):
    s, _reps, _ids = team
    result = balance_territories(s, BalanceOptions(tolerance_pct=5, seconds=5, max_moves_pct=10))
    assert result.moved <= 6
    assert result.status == "not_balanced"
    assert any("move limit" in r for r in result.reasons)


def test_locked_accounts_that_overload_a_rep_are_named(team):
    s, _reps, ids = team
    s.conn.execute(f"UPDATE accounts SET locked = 1 WHERE id IN ({','.join(map(str, ids[:45]))})")
    result = balance_territories(s, BalanceOptions(tolerance_pct=2, seconds=5))
    assert result.status == "not_balanced"
    assert any(r.startswith("locked accounts put Rep 0 at") and "over target" in r for r in result.reasons)


def test_over_capacity_is_said_in_hours(team):
    s, reps, _ids = team
    s.conn.execute("UPDATE reps SET capacity_hours_week = 1, working_weeks = 10")
    result = balance_territories(s, BalanceOptions(tolerance_pct=5, seconds=5))
    assert any("h over capacity" in r for r in result.reasons)


def test_greedy_and_nearest_baselines(team):
    s, _reps, _ids = team
    options = BalanceOptions(tolerance_pct=5)
    problem = build_problem(s, options)
    near = nearest_rep(problem)
    greedy = greedy_repair(problem, options, problem.current)
    assert max_deviation(problem, greedy) < max_deviation(problem, problem.current)
    assert travel_minutes(problem, near) <= travel_minutes(problem, greedy)


def test_cancel_stops_the_work(team):
    s, _reps, _ids = team
    progress = NullProgress()
    progress.cancel()
    with pytest.raises(Cancelled):
        balance_territories(s, BalanceOptions(seconds=5), progress)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="tolerance"):
        BalanceOptions(tolerance_pct=0)
    with pytest.raises(ValueError, match="by"):
        BalanceOptions(by="revenue")


def test_balancing_potential_and_both(team):
    s, _reps, _ids = team
    s.conn.execute("UPDATE accounts SET potential_cents = (id % 7 + 1) * 1000000")
    potential = balance_territories(s, BalanceOptions(tolerance_pct=5, seconds=5, by="potential"))
    assert potential.status == "balanced"
    assert max(abs(f.potential_deviation_pct) for f in potential.reps) <= 5
    result = balance_territories(s, BalanceOptions(tolerance_pct=10, seconds=5, by="both"))
    assert result.status == "balanced"
    assert max(abs(f.potential_deviation_pct) for f in result.reps) <= 10
    assert max(abs(f.deviation_pct) for f in result.reps) <= 10


def test_cancel_during_the_search_returns_quickly(team):
    import threading
    import time

    s, _reps, _ids = team
    progress = NullProgress()
    threading.Timer(0.3, progress.cancel).start()
    started = time.perf_counter()
    with pytest.raises(Cancelled):
        balance_territories(s, BalanceOptions(tolerance_pct=0.5, seconds=30, stop_gap_pct=0), progress)
    assert time.perf_counter() - started < 10


def test_balancing_some_reps_leaves_the_others_alone(demo_store):
    s = demo_store
    reps = [r[0] for r in s.conn.execute("SELECT id FROM reps WHERE role = 'rep' ORDER BY id LIMIT 3")]
    result = balance_territories(s, BalanceOptions(rep_ids=tuple(reps), tolerance_pct=3, seconds=4, stop_gap_pct=3))
    assert sorted(f.rep_id for f in result.reps) == sorted(reps)
    owned = {r[0] for r in s.conn.execute(
        f"SELECT id FROM accounts WHERE owner_id IN ({','.join('?' * len(reps))}) AND status != 'inactive'", reps)}
    assert set(result.problem.account_ids.tolist()) == owned
    assert all(frm in reps and to in reps for _a, frm, to in result.move_list())
    assert result.status == "balanced"


def test_a_rep_without_a_home_is_named(team):
    s, reps, _ids = team
    s.conn.execute("UPDATE reps SET home_lat = NULL WHERE id = ?", (reps[1],))
    with pytest.raises(ValueError, match="Rep 1 has no home location"):
        balance_territories(s, BalanceOptions(seconds=2))


def test_accounts_at_zero_zero_stay_put_and_are_reported(team):
    s, reps, ids = team
    s.conn.execute("UPDATE accounts SET lat = 0.001, lon = -0.002 WHERE id = ?", (ids[0],))
    result = balance_territories(s, BalanceOptions(tolerance_pct=5, seconds=5))
    assert ids[0] not in {m[0] for m in result.move_list()}
    assert any("0°, 0°" in r and "Account 0" in r for r in result.reasons)
    assert result.status == "balanced"
