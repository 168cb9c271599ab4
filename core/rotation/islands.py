"""Several periodic-VRP searches at once, one per core, that go on from the best plan among them now and then."""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from core.progress import Cancelled, Progress
from core.rotation.periodic import PeriodicProblem, PeriodicSolution, solve_periodic

# Times the workers stop and all go on from the best plan among them (at 1/3 and 2/3 of the time). Why: one run
# settles in the basin its start puts it in (p12 ran 4.8-9.9 % over four seeds); two runs side by side find a
# better basin more often, and handing the better plan to both spends the rest of the time of both on it.
EXCHANGES = 2
POLL_SECONDS = 0.05
# After should_stop (or a worker's limit passing) answers are awaited this long before the worker is killed.
STOP_WAIT_SECONDS = 3.0
# Clocks that read the same in every process: the workers' segments end at the caller's instants. Any other
# clock (time.process_time for the CPU-limited benchmarks) counts each worker's own time from its own start.
_SHARED_CLOCKS = (time.perf_counter, time.monotonic, time.time)


@dataclass
class IslandsRun:
    """The best plan and how the workers got there: each segment's cost per worker (None: no answer)."""

    solution: PeriodicSolution
    segment_costs: list[list[float | None]] = field(default_factory=list)
    crashed: list[int] = field(default_factory=list)
    worker_cpu: list[float] = field(default_factory=list)  # CPU seconds each worker used (0 when not reported)


def score(problem: PeriodicProblem, sol: PeriodicSolution) -> float:
    """What the search minimises: travel plus the penalty of every customer left out."""
    return sol.cost + sum(problem.customer_penalty(c) for c in sol.unserved)


def solve_islands(problem: PeriodicProblem, *, seconds: float, seed: int = 0, workers: int = 2,
                  clock: Callable[[], float] = time.perf_counter, progress: Progress | None = None,
                  should_stop: Callable[[], bool] | None = None, exchanges: int = EXCHANGES) -> PeriodicSolution:
    """Best plan of `workers` solve_periodic searches run in parallel processes; workers=1 is solve_periodic itself.

    See run_islands for the rules.
    """
    return run_islands(problem, seconds=seconds, seed=seed, workers=workers, clock=clock, progress=progress,
                       should_stop=should_stop, exchanges=exchanges).solution


def run_islands(problem: PeriodicProblem, *, seconds: float, seed: int = 0, workers: int = 2,
                clock: Callable[[], float] = time.perf_counter, progress: Progress | None = None,
                should_stop: Callable[[], bool] | None = None, exchanges: int = EXCHANGES,
                _crash_worker: int | None = None) -> IslandsRun:
    """solve_islands with what each worker found; `_crash_worker` (tests) kills that worker in its first segment.

    The time is cut into exchanges + 1 segments; after each, every worker goes on (with its own seed) from the
    best plan any worker returned; exchanges=0 runs independent searches and keeps the best. Each worker is a
    process of the route engine's context (a fork server on Linux, so no OR-Tools threads are forked). A worker
    that dies leaves the others running; Cancel (progress.cancelled()) kills them all and raises Cancelled;
    should_stop makes them return their best at once. `clock` is the limit: with time.process_time each worker
    stops at its own CPU seconds (so two workers use twice the CPU of one).
    """
    if workers <= 1:
        sol = solve_periodic(problem, seconds=seconds, seed=seed, clock=clock, progress=progress,
                             should_stop=should_stop)
        return IslandsRun(sol, [[score(problem, sol)]], [], [])
    from core.routing import engine

    ctx = engine.process_context()
    stop_event = ctx.Event()
    shared = clock in _SHARED_CLOCKS
    started = clock()
    segments = max(1, exchanges + 1)
    procs: list[Any] = []
    conns: list[Any] = []
    for i in range(workers):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, problem, clock, stop_event, i == _crash_worker),
                           daemon=True, name=f"fieldatlas-island-{i}")
        proc.start()
        child.close()
        procs.append(proc)
        conns.append(parent)
    alive = set(range(workers))
    crashed: list[int] = []
    best: PeriodicSolution | None = None
    best_score = float("inf")
    segment_costs: list[list[float | None]] = []
    iterations = 0
    cpu = [0.0] * workers
    try:
        for k in range(segments):
            if stop_event.is_set():
                break
            if progress is not None:
                progress.update(int(1000 * k / segments), 1000,
                                "searching" if best is None else f"improving: {best.cost:,.1f}")
            # Shared clock: the segment ends at the caller's instant (start-up and hand-over count); else each
            # worker gets its share of its own clock.
            until = started + seconds * (k + 1) / segments if shared else None
            share = seconds / segments
            for i in sorted(alive):
                try:
                    conns[i].send(("solve", best, until, share, seed + 7919 * i + 104729 * k))
                except OSError:
                    alive.discard(i)
                    crashed.append(i)
            answers = _collect(conns, procs, alive, crashed, stop_event, should_stop, progress,
                               deadline=None if until is None else until + STOP_WAIT_SECONDS)
            row: list[float | None] = [None] * workers
            for i, sol in answers.items():
                row[i] = score(problem, sol)
                iterations += sol.iterations
                if row[i] < best_score:
                    best, best_score = sol, row[i]
            segment_costs.append(row)
            if not alive:
                break
        for i in sorted(alive):
            try:
                conns[i].send(("quit",))
                if conns[i].poll(1.0):
                    cpu[i] = float(conns[i].recv()[1])
            except (OSError, EOFError):
                pass
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for proc, conn in zip(procs, conns):
            proc.join(1.0)
            conn.close()
    if best is None:
        from core.routing.child import SolverCrashed

        raise SolverCrashed("every rotation search stopped unexpectedly; nothing was saved — run it again")
    if progress is not None:
        progress.update(1000, 1000, "done")
    best.iterations = iterations
    best.seconds = clock() - started if shared else seconds
    best.history = [(seconds * (k + 1) / segments, min(c for c in row if c is not None))
                    for k, row in enumerate(segment_costs) if any(c is not None for c in row)]
    return IslandsRun(best, segment_costs, sorted(crashed), cpu)


def _collect(conns: list[Any], procs: list[Any], alive: set[int], crashed: list[int], stop_event: Any,
             should_stop: Callable[[], bool] | None, progress: Progress | None,
             deadline: float | None) -> dict[int, PeriodicSolution]:
    """Each living worker's answer to this segment; dead workers leave `alive`, Cancel raises Cancelled."""
    answers: dict[int, PeriodicSolution] = {}
    waiting = set(alive)
    kill_at = None if deadline is None else deadline
    while waiting:
        if progress is not None and progress.cancelled():
            raise Cancelled()
        if should_stop is not None and not stop_event.is_set() and should_stop():
            stop_event.set()  # the workers' clocks now read "over": they return their best at once
            kill_at = time.perf_counter() + STOP_WAIT_SECONDS
        ready = multiprocessing.connection.wait([conns[i] for i in waiting], POLL_SECONDS)
        for conn in ready:
            i = conns.index(conn)
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                kind, value = "died", None
            waiting.discard(i)
            if kind == "done":
                answers[i] = value
            else:
                alive.discard(i)
                crashed.append(i)
                procs[i].kill()
        now = time.perf_counter()
        if kill_at is not None and now > kill_at:
            # A worker past its limit and the grace (stuck in native code): its plan is given up, not the others'.
            for i in waiting:
                alive.discard(i)
                crashed.append(i)
                procs[i].kill()
            waiting.clear()
    return answers


def _worker(conn: Any, problem: PeriodicProblem, clock: Callable[[], float], stop_event: Any, crash: bool) -> None:
    """A worker process: solve a segment per request, from the given plan or from scratch, until told to quit."""
    def limited() -> float:
        # Once the caller says stop, every time limit in the search (ours and PyVRP's) reads as passed.
        return float("inf") if stop_event.is_set() else clock()

    origin = clock()
    used = 0.0  # own-clock seconds handed out so far
    try:
        while True:
            message = conn.recv()
            if message[0] == "quit":
                conn.send(("cpu", time.process_time()))
                return
            _, start, until, share, seed = message
            if crash:
                os.kill(os.getpid(), signal.SIGKILL)
            used += share
            seconds = (until - clock()) if until is not None else (origin + used - clock())
            sol = solve_periodic(problem, seconds=max(0.05, seconds), seed=seed, start=start, clock=limited)
            conn.send(("done", sol))
    except (EOFError, OSError, KeyboardInterrupt):
        return
    except Exception as exc:  # the parent counts this worker out and keeps the others' plans
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
