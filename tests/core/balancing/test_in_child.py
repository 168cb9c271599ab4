"""Balancing in a child process: the answer comes back, a crash of the solver is an error (not the app's
end), and Cancel stops it at once with nothing saved."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time

import pytest

from core.balancing import in_child
from core.balancing.model import BalanceOptions
from core.progress import Cancelled
from tests.fakes import RecordingProgress


Progress = RecordingProgress


def _scenarios(store) -> int:
    return store.scalar("SELECT count(*) FROM scenarios")


def test_the_child_balances_and_this_process_saves_the_scenario(demo_store):
    progress = Progress()
    scenario_id, status, reasons, deviation, moved, *_ = in_child.balance_and_save(
        str(demo_store.path), "balance", 0, BalanceOptions(seconds=3, tolerance_pct=3), progress)
    assert status == "balanced" and moved > 0 and deviation <= 3
    assert demo_store.scalar("SELECT status FROM scenarios WHERE id = ?", (scenario_id,)) == "draft"
    assert progress.reports, "progress travels up from the child"


def _child_pid(timeout: float = 30.0) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in mp.active_children():
            if p.name == "fieldatlas-balancing":
                return p.pid
        time.sleep(0.05)
    raise AssertionError("no balancing child started")


def _run_in_thread(demo_store, progress):
    outcome: list = []

    def work():
        try:
            outcome.append(in_child.balance_and_save(str(demo_store.path), "balance", 0,
                                                     BalanceOptions(seconds=30), progress))
        except BaseException as exc:  # the test reads it
            outcome.append(exc)

    t = threading.Thread(target=work)
    t.start()
    return t, outcome


def test_a_crash_inside_the_solver_is_an_error_here_and_nothing_is_saved(demo_store):
    before = _scenarios(demo_store)
    t, outcome = _run_in_thread(demo_store, Progress())
    os.kill(_child_pid(), signal.SIGSEGV)  # what the native solver did to the whole app before
    t.join(30)
    assert isinstance(outcome[0], in_child.SolverCrashed) and "stopped unexpectedly" in str(outcome[0])
    assert _scenarios(demo_store) == before


def test_cancel_stops_the_child_at_once(demo_store):
    before = _scenarios(demo_store)
    progress = Progress()
    t, outcome = _run_in_thread(demo_store, progress)
    pid = _child_pid()
    progress.stop = True
    started = time.monotonic()
    t.join(10)
    assert isinstance(outcome[0], Cancelled) and time.monotonic() - started < 2
    assert _scenarios(demo_store) == before
    with pytest.raises(ProcessLookupError):
        for _ in range(40):  # the child is gone, not left searching
            os.kill(pid, 0)
            time.sleep(0.05)
