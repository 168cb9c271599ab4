"""Two rotation searches at once (core/rotation/islands.py): they hand over their best, survive a crashed worker,
stop and cancel promptly; one worker is solve_periodic itself; solve_periodic goes on from a given plan."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.progress import Cancelled
from core.rotation import islands, periodic
from core.rotation.cordeau import read_instance
from core.rotation.periodic import check_solution, solve_periodic
from tests.fakes import RecordingProgress

P01 = Path(__file__).resolve().parents[3].parent / "shared" / "bench" / "pvrp" / "p01.txt"
pytestmark = pytest.mark.skipif(not P01.exists(), reason="Cordeau's p01 is not in ../shared/bench/pvrp")


@pytest.fixture(scope="module")
def p01():
    return read_instance(P01)[0]


def test_every_worker_goes_on_from_the_best_plan_and_the_answer_is_the_best_of_all(p01):
    run = islands.run_islands(p01, seconds=3.0, seed=0, workers=2, exchanges=2)
    assert run.crashed == []
    assert len(run.segment_costs) == 3 and all(len(row) == 2 and None not in row for row in run.segment_costs)
    for before, after in zip(run.segment_costs, run.segment_costs[1:]):
        # Each worker starts its next segment from the best plan of the last one, and a search never ends
        # worse than its start: without the hand-over the worse worker would carry on from its own plan.
        assert max(after) <= min(before) + 1e-6
    assert islands.score(p01, run.solution) == pytest.approx(min(min(row) for row in run.segment_costs))
    assert check_solution(p01, run.solution) == []
    assert run.solution.unserved == []
    assert all(cpu > 0 for cpu in run.worker_cpu)


def test_a_crashed_worker_leaves_the_other_workers_plan(p01):
    run = islands.run_islands(p01, seconds=1.5, seed=0, workers=2, _crash_worker=0)
    assert run.crashed == [0]
    assert run.segment_costs[0][0] is None and run.segment_costs[0][1] is not None
    assert check_solution(p01, run.solution) == [] and run.solution.unserved == []


def test_should_stop_ends_the_workers_at_once_with_their_best(p01):
    asked: list[float] = []
    began = time.perf_counter()

    def should_stop() -> bool:
        if time.perf_counter() - began > 1.0:
            asked.append(time.perf_counter())
            return True
        return False

    # 20 s: CP-SAT's first assignment (5 % of the time, not interruptible) then takes at most 1 s.
    sol = islands.solve_islands(p01, seconds=20.0, seed=0, workers=2, should_stop=should_stop)
    assert asked and time.perf_counter() - asked[0] < 1.5
    assert check_solution(p01, sol) == []


def test_cancel_kills_the_workers_and_raises_cancelled(p01):
    import multiprocessing as mp

    began = time.perf_counter()

    class Cancelling(RecordingProgress):
        def cancelled(self) -> bool:
            return time.perf_counter() - began > 1.0

    progress = Cancelling()
    with pytest.raises(Cancelled):
        islands.solve_islands(p01, seconds=60.0, seed=0, workers=2, progress=progress)
    assert time.perf_counter() - began < 2.5
    assert not [p for p in mp.active_children() if p.name.startswith("fieldatlas-island")]


def test_one_worker_is_solve_periodic_in_this_process(p01, monkeypatch):
    calls = []
    marker = periodic.PeriodicSolution(routes=[[] for _ in range(p01.days)], pattern={}, unserved=[], cost=1.0)

    def fake(problem, **kwargs):
        calls.append((problem, kwargs))
        return marker

    monkeypatch.setattr(islands, "solve_periodic", fake)
    stop = lambda: False  # noqa: E731
    assert islands.solve_islands(p01, seconds=7.0, seed=5, workers=1, clock=time.process_time,
                                 should_stop=stop) is marker
    assert calls == [(p01, {"seconds": 7.0, "seed": 5, "clock": time.process_time, "progress": None,
                            "should_stop": stop})]


def test_solve_periodic_goes_on_from_a_given_plan(p01, monkeypatch):
    first = solve_periodic(p01, seconds=0.5, seed=0)

    def no_cpsat(*args, **kwargs):
        raise AssertionError("a start plan needs no CP-SAT assignment")

    monkeypatch.setattr(periodic, "assign_patterns_cpsat", no_cpsat)
    again = solve_periodic(p01, seconds=0.5, seed=1, start=first)
    assert check_solution(p01, again) == [] and again.unserved == []
    assert again.cost <= first.cost + 1e-6
    assert again.history[0][1] == pytest.approx(first.cost)  # the search began at the given plan
