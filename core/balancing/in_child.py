"""Balancing in a child process: a crash inside the native solver ends the child, not the app, and Cancel is at once.

CP-SAT has crashed the desktop app in the field of a long session (docs/notes/session-4-lead.md),
and a crash there took the whole window with it. The route engine already searches in a child
process (core/routing/engine.py); balancing goes the same way, through core/routing/child.py:
the child only reads (its own connection) and sends the result back; this process saves the
scenario, so a killed child can leave nothing half-written.
"""

from __future__ import annotations

from typing import Any

from core.balancing.flows import plan_new_rep, plan_rep_leaving
from core.balancing.model import BalanceOptions, balance_territories
from core.balancing.scenarios import save_scenario
from core.progress import Progress
from core.routing import child

# The error a crashed child gives (kept here too: callers of balancing catch it from this module).
SolverCrashed = child.SolverCrashed


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


def run(path: str, flow: str, rep_id: int, options: BalanceOptions, progress: Progress | None = None):
    """balance() in a child process, with its progress reported here and Cancel killing it."""
    return child.run_in_child(balance, str(path), flow, rep_id, options, progress=progress,
                              what="the balancing solver", name="fieldatlas-balancing")
