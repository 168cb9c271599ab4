"""Balancing in a child process: a crash inside the native solver ends the child, not the app, and Cancel is at once.

CP-SAT has crashed the desktop app in the field of a long session (docs/notes/session-4-lead.md),
and a crash there took the whole window with it. The route engine already searches in a child
process (core/routing/engine.py); balancing goes the same way, through the same process context:
the child only reads (its own connection) and sends the result back; this process saves the
scenario, so a killed child can leave nothing half-written.
"""

from __future__ import annotations

from typing import Any

from core.balancing.flows import plan_new_rep, plan_rep_leaving
from core.balancing.model import BalanceOptions, balance_territories
from core.balancing.scenarios import save_scenario
from core.progress import Cancelled, Progress
from core.routing import engine

POLL_SECONDS = 0.1


class SolverCrashed(RuntimeError):
    """The child process ended without an answer (the solver crashed); nothing was saved."""


def balance(path: str, flow: str, rep_id: int, options: BalanceOptions, progress: Progress | None = None):
    """Balance (or plan a new rep / a leaving rep) reading the database at `path`; the BalanceResult."""
    from core.storage.database import open_database

    store = open_database(path, migrate=False)  # the child only reads
    try:
        if flow == "add_rep":
            return plan_new_rep(store, rep_id, options, progress)
        if flow == "remove_rep":
            return plan_rep_leaving(store, rep_id, options, progress)
        return balance_territories(store, options, progress)
    finally:
        store.close()


def balance_and_save(path: str, flow: str, rep_id: int, options: BalanceOptions,
                     progress: Progress | None = None) -> tuple[Any, ...]:
    """run() the balance in a child, then save the scenario here; (scenario id, status, reasons,
    max deviation %, accounts moved, seconds, gap %)."""
    from core.storage.database import open_database

    result = run(path, flow, rep_id, options, progress)
    store = open_database(path)
    try:
        scenario_id, _ = save_scenario(store, result, kind=flow)
    finally:
        store.close()
    return (scenario_id, result.status, list(result.reasons), result.max_deviation_pct, result.moved,
            result.seconds, result.gap_pct)


class _PipeProgress:
    """The Progress protocol in the child: reports travel up the pipe; the parent kills the child to cancel."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def update(self, done: int, total: int, message: str = "") -> None:
        self.conn.send(("progress", (int(done), int(total), str(message))))

    def cancelled(self) -> bool:
        return False


def _child(conn: Any, path: str, flow: str, rep_id: int, options: BalanceOptions) -> None:
    try:
        conn.send(("done", balance(path, flow, rep_id, options, _PipeProgress(conn))))
    except Exception as exc:  # the parent raises it again with the same words
        conn.send(("error", (type(exc).__name__, str(exc))))
    finally:
        conn.close()


def run(path: str, flow: str, rep_id: int, options: BalanceOptions, progress: Progress | None = None):
    """balance() in a child process, with its progress reported here and Cancel killing it."""
    if engine.in_process():
        return balance(path, flow, rep_id, options, progress)
    ctx = engine.process_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, str(path), flow, rep_id, options), daemon=True,
                       name="fieldatlas-balancing")
    proc.start()
    child.close()
    try:
        while True:
            if progress is not None and progress.cancelled():
                raise Cancelled()
            try:
                if not parent.poll(POLL_SECONDS):
                    if not proc.is_alive() and not parent.poll(0):
                        raise EOFError
                    continue
                kind, value = parent.recv()
            except (EOFError, OSError):
                proc.join(1.0)
                raise SolverCrashed(f"the balancing solver stopped unexpectedly (exit code {proc.exitcode}); "
                                    "nothing was saved — run it again") from None
            if kind == "progress":
                if progress is not None:
                    progress.update(*value)
            elif kind == "done":
                proc.join(10.0)  # let it close its connection itself; a kill is for Cancel and hangs
                return value
            else:
                name, text = value
                raise (ValueError(text) if name == "ValueError" else RuntimeError(f"{name}: {text}"))
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1.0)
        parent.close()
