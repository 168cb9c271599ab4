"""Run PyVRP in a worker process that can really be stopped: killed at the deadline or on cancel, keeping its best plan.

PyVRP checks its stopping criterion only between iterations, and one LocalSearch call can run for
minutes (docs/notes/issue-14-planning.md has a demo instance where it never returns). A thread
cannot be interrupted inside C++, so the search runs in a child process that reports every new best
solution through a pipe; the parent waits until the child finishes, the deadline passes or the user
cancels, and then kills the child if it is still running. Linux uses a fork server (children fork
from a process that already imported PyVRP, ~20 ms each); other systems spawn.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

# Without a time budget in the criterion (e.g. only NoImprovement) the engine still gets cut off here.
HARD_CAP_SECONDS = 120.0
POLL_SECONDS = 0.05

_ctx_lock = threading.Lock()
_ctx: Any = None


@dataclass(frozen=True)
class EngineRun:
    """What the engine reported: routes as (vehicle type, [client index...]) of its last best solution."""

    routes: list[tuple[int, list[int]]] | None
    iterations: int
    stopped_by: str  # "limit", "deadline" (killed), "cancelled" (killed), "failed"
    error: str = ""
    startup: float = 0.0  # seconds spent starting the fork server (first call in a process), not searching


def _context() -> Any:
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            if sys.platform.startswith("linux") and not getattr(sys, "frozen", False):
                ctx = mp.get_context("forkserver")
                # Each child re-runs the parent's main module (multiprocessing's rule); importing it once in the
                # server first (by path, or by name for `python -m`) makes that re-run cheap instead of seconds.
                main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
                preload = ["__main__"] + ([main_spec.name] if getattr(main_spec, "name", None) else [])
                ctx.set_forkserver_preload(preload + ["pyvrp", "core.routing.engine"])
                _start_forkserver()
                # The server imports its preloads before it forks anything: wait for that here, once.
                probe = ctx.Process(target=_noop, daemon=True, name="fieldatlas-routing-warmup")
                probe.start()
                probe.join(60)
            else:
                ctx = mp.get_context("spawn")
            _ctx = ctx
        return _ctx


def process_context() -> Any:
    """The multiprocessing context solver children are made from (a fork server on Linux, else spawn)."""
    return _context()


def _start_forkserver() -> None:
    """Start the fork server with this process's sys.path: CPython's fork server ignores it (it imports the
    preloaded modules from its own default path), so a script that put a checkout first on sys.path would
    otherwise run the installed copy of this package in its workers."""
    from multiprocessing import forkserver

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        forkserver.ensure_running()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def in_process() -> bool:
    """Whether the engine must run in this process: a daemonic process cannot have children."""
    return bool(os.environ.get("FIELDATLAS_ENGINE_IN_PROCESS")) or mp.current_process().daemon


def _routes(solution: Any) -> list[tuple[int, list[int]]]:
    return [(r.vehicle_type(), [a.idx for a in r.schedule() if a.is_client()]) for r in solution.routes()]


def _search(data: Any, criterion: Callable[[float], bool], seed: int,
            report: Callable[[list[tuple[int, list[int]]]], None]) -> int:
    """PyVRP's solve with a callback that reports the initial and every new best solution; returns iterations."""
    import warnings

    from pyvrp import SolveParams, solve
    from pyvrp.IteratedLocalSearch import IteratedLocalSearchCallbacks, IteratedLocalSearchParams

    class Report(IteratedLocalSearchCallbacks):
        def on_start(self, ils: Any) -> None:
            report(_routes(ils.initial_solution))

        def on_best(self, best: Any) -> None:
            report(_routes(best))

    with warnings.catch_warnings():
        # Over-full days are normal here (optional stops); PyVRP's 'struggles to find feasible' note is noise.
        warnings.simplefilter("ignore")
        result = solve(data, criterion, seed=seed, collect_stats=False, display=False,
                       params=SolveParams(ils=IteratedLocalSearchParams(callbacks=Report())))
    report(_routes(result.best))
    return result.num_iterations


def _child(conn: Any, payload: bytes, wall_deadline: float) -> None:
    """Worker process body: search, sending ('best', routes) as it goes and ('done', iterations) at the end."""
    data, criterion, seed = pickle.loads(payload)
    from core.routing.stop import FirstOf, MaxRuntime

    # Stop on our own a little before the parent would kill us, so a normal run ends cleanly.
    remaining = max(0.0, wall_deadline - time.time() - 2 * POLL_SECONDS)
    stop = FirstOf(criterion, MaxRuntime(remaining))
    try:
        iterations = _search(data, stop, seed, lambda routes: conn.send(("best", routes)))
        conn.send(("done", iterations))
    except Exception as exc:  # reported to the parent, which falls back to its own construction
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run(data: Any, criterion: Callable[[float], bool], seed: int, deadline: float,
        cancel: Callable[[], bool] = lambda: False) -> EngineRun:
    """Search `data` (a pyvrp ProblemData) until the criterion says stop, `deadline` (time.perf_counter())
    passes or cancel() is true — whichever comes first; returns within ~POLL_SECONDS of the deadline or cancel.
    The first call in a process also starts the fork server (~0.5 s), and the deadline moves by that much.

    cancel() is called every poll, so it may also report progress.
    """
    budget = deadline - time.perf_counter()
    if in_process():
        return _run_here(data, criterion, seed, budget, cancel)
    try:
        payload = pickle.dumps((data, criterion, seed))
    except Exception:  # an unpicklable custom criterion: run here, stoppable only between iterations
        return _run_here(data, criterion, seed, budget, cancel)
    first = time.perf_counter()
    ctx = _context()
    # Starting the fork server (once per process, it imports PyVRP) is not the search's time: it moves the deadline.
    startup = time.perf_counter() - first
    deadline += startup
    budget = deadline - time.perf_counter()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, payload, time.time() + budget), daemon=True,
                       name="fieldatlas-routing")
    try:
        proc.start()
    except Exception as exc:
        parent.close()
        child.close()
        return EngineRun(None, 0, "failed", f"could not start the routing worker: {exc}")
    child.close()
    best: list[tuple[int, list[int]]] | None = None
    iterations, stopped_by, error = 0, "", ""
    try:
        while not stopped_by:
            try:
                if parent.poll(POLL_SECONDS):
                    kind, value = parent.recv()
                    if kind == "best":
                        best = value
                    elif kind == "done":
                        iterations, stopped_by = value, "limit"
                    else:
                        stopped_by, error = "failed", value
                    continue
            except (EOFError, OSError):
                stopped_by, error = "failed", f"the routing worker ended unexpectedly (exit code {proc.exitcode})"
                break
            if cancel():
                stopped_by = "cancelled"
            elif time.perf_counter() >= deadline:
                stopped_by = "deadline"
        # Take whatever best solutions are already in the pipe before the worker goes.
        while True:
            try:
                if not parent.poll(0):
                    break
                kind, value = parent.recv()
            except (EOFError, OSError):
                break
            if kind == "best":
                best = value
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1.0)
        parent.close()
    return EngineRun(best, iterations, stopped_by, error, startup)


def _run_here(data: Any, criterion: Callable[[float], bool], seed: int, budget: float,
              cancel: Callable[[], bool]) -> EngineRun:
    """The old in-process path, for where no child process can be made (stoppable only between iterations)."""
    from core.routing.stop import FirstOf, MaxRuntime

    best: list[Any] = [None]
    state = {"cancelled": False}

    def cancelled(_cost: float) -> bool:
        state["cancelled"] = state["cancelled"] or cancel()
        return state["cancelled"]

    def keep(routes: list[tuple[int, list[int]]]) -> None:
        best[0] = routes

    try:
        iterations = _search(data, FirstOf(criterion, MaxRuntime(max(0.0, budget)), cancelled), seed, keep)
    except Exception as exc:
        return EngineRun(best[0], 0, "failed", f"{type(exc).__name__}: {exc}")
    return EngineRun(best[0], iterations, "cancelled" if state["cancelled"] else "limit")


def warm_up() -> None:
    """Start the fork server (imports PyVRP once) so the first plan does not wait for it; safe to call twice."""
    if not in_process():
        _context()


def _noop() -> None:
    pass
