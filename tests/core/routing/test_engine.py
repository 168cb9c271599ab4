"""The time limit holds whatever the engine does: a search that never ends is killed, Stop ends a solve in < 1 s."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from core.progress import NullProgress
from core.routing import Matrix, MaxRuntime, RoutingProblem, Shift, Stop, solve
from core.routing import engine

HANG = Path(__file__).resolve().parents[2] / "fixtures" / "routing" / "pyvrp_hang.json"
# What a loaded 2-core machine adds on top of the limit: starting the worker, timing passes, teardown.
MARGIN = 1.0


@pytest.fixture(autouse=True, scope="module")
def _engine_ready():
    """As the Plan view does on opening: start the worker server once, so the limits below are the search's."""
    engine.warm_up()


def _tuples(x):
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x


def hanging_problem() -> tuple[RoutingProblem, Matrix]:
    """A demo week on which PyVRP 0.14.1's LocalSearch never returned (docs/notes/issue-14-planning.md)."""
    d = json.loads(HANG.read_text())
    stops = tuple(Stop(**{k: _tuples(v) for k, v in s.items()}) for s in d["stops"])
    shifts = tuple(Shift(**{k: _tuples(v) for k, v in s.items()}) for s in d["shifts"])
    return RoutingProblem(stops, shifts, objective=d["objective"]), Matrix(_tuples(d["distance"]), _tuples(d["duration"]))


def test_solve_returns_within_the_limit_on_an_instance_where_the_engine_never_stops():
    problem, mx = hanging_problem()
    started = time.perf_counter()
    result = solve(problem, stop=MaxRuntime(2), matrix=mx)
    elapsed = time.perf_counter() - started
    assert elapsed < 2 + MARGIN, elapsed
    # The best plan the engine reported before it was stopped is kept, not thrown away.
    assert result.served
    assert result.feasible
    assert {*result.served, *(u.stop_id for u in result.unserved)} == {s.id for s in problem.stops}


class Stall:
    """A criterion that never comes back: what the engine looks like from outside when one call spins."""

    def __call__(self, best_cost: float) -> bool:
        time.sleep(3600)
        return True


def test_an_engine_stuck_between_checks_is_killed_at_the_deadline_and_its_best_plan_kept():
    from core.routing.schedule import Index
    from core.routing.solver import _build_model

    problem, mx = hanging_problem()
    data, clients = _build_model(problem, mx, Index(problem), list(problem.stops))
    started = time.perf_counter()
    run = engine.run(data, Stall(), 0, started + 1.0)
    assert time.perf_counter() - started < 1.0 + 0.5
    assert run.stopped_by == "deadline"
    # PyVRP reports its starting solution before the first check: that is what is kept.
    assert run.routes is not None and any(r for _, r in run.routes)


def test_cancel_ends_a_long_solve_within_a_second_and_keeps_a_plan():
    problem, mx = hanging_problem()
    progress = NullProgress()
    timer = threading.Timer(1.0, progress.cancel)
    timer.start()
    started = time.perf_counter()
    try:
        result = solve(problem, stop=MaxRuntime(60), progress=progress, matrix=mx)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 1.0 + 1.0
    assert result.stopped_by == "cancelled"
    assert result.served


def test_a_plan_is_built_by_insertion_when_the_engine_reports_nothing(monkeypatch):
    problem, mx = hanging_problem()
    monkeypatch.setattr(engine, "run", lambda *a, **k: engine.EngineRun(None, 0, "failed", "worker crashed"))
    result = solve(problem, stop=MaxRuntime(1), matrix=mx)
    assert result.engine == "insertion"
    assert result.stopped_by == "engine failed"
    assert len(result.served) >= len(problem.stops) // 2
    assert result.feasible


def test_the_engine_runs_in_a_worker_process_that_is_gone_afterwards():
    import multiprocessing as mp

    problem, mx = hanging_problem()
    solve(problem, stop=MaxRuntime(0.5), matrix=mx)
    assert not [p for p in mp.active_children() if p.name == "fieldatlas-routing"]


@pytest.mark.parametrize("seconds", [2.0])
def test_a_short_plan_returns_within_its_limit_for_every_demo_rep(demo_store, seconds):
    from datetime import date

    from core.planning import plan_week

    reps = [r[0] for r in demo_store.conn.execute("SELECT id FROM reps WHERE role = 'rep' AND deleted_at IS NULL")]
    assert len(reps) >= 5
    for rep_id in reps:
        started = time.perf_counter()
        plan = plan_week(demo_store, rep_id, date(2026, 11, 23), 5, seconds=seconds)
        elapsed = time.perf_counter() - started
        assert plan.result.runtime < seconds + MARGIN, (rep_id, plan.result.runtime)
        assert elapsed < seconds + MARGIN + 1.0, (rep_id, elapsed)
