"""Solving in a child process (core.routing.child): the answer and progress come back, the child's own error is
raised here as itself, a child that dies is SolverCrashed, and Cancel ends it within a second."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from core.progress import Cancelled
from tests.fakes import RecordingProgress
from core.routing import child


Progress = RecordingProgress


def add(a: int, b: int, progress=None) -> tuple[int, int]:
    progress.update(1, 2, "half way")
    return a + b, os.getpid()


def refuse(what: str, progress=None) -> None:
    raise ValueError(f"{what}: not a number")


def spin(progress=None) -> None:
    while True:
        progress.update(0, 1, "searching")
        time.sleep(0.01)


def test_the_answer_and_the_progress_come_back_from_another_process():
    progress = Progress()
    total, pid = child.run_in_child(add, 2, 3, progress=progress)
    assert total == 5 and pid != os.getpid()
    assert (1, 2, "half way") in progress.reports


def test_an_error_in_the_child_is_raised_here_as_itself():
    with pytest.raises(ValueError, match="row 3: not a number"):
        child.run_in_child(refuse, "row 3")


def _run_in_thread(progress, name):
    outcome: list = []

    def work():
        try:
            outcome.append(child.run_in_child(spin, progress=progress, what="the test solver", name=name))
        except BaseException as exc:  # the test reads it
            outcome.append(exc)

    t = threading.Thread(target=work)
    t.start()
    return t, outcome


def _child_pid(name: str, timeout: float = 30.0) -> int:
    import multiprocessing as mp

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in mp.active_children():
            if p.name == name:
                return p.pid
        time.sleep(0.02)
    raise AssertionError(f"no {name} child started")


def test_a_child_killed_by_a_segfault_is_a_clear_error():
    progress = Progress()
    t, outcome = _run_in_thread(progress, "fieldatlas-test-crash")
    os.kill(_child_pid("fieldatlas-test-crash"), signal.SIGSEGV)
    t.join(10)
    assert isinstance(outcome[0], child.SolverCrashed)
    assert str(outcome[0]) == ("the test solver stopped unexpectedly (killed by SIGSEGV); nothing was saved — "
                               "run it again")


def test_cancel_ends_the_child_within_a_second():
    progress = Progress()
    t, outcome = _run_in_thread(progress, "fieldatlas-test-cancel")
    pid = _child_pid("fieldatlas-test-cancel")
    while not progress.reports:
        time.sleep(0.01)
    progress.stop = True
    started = time.monotonic()
    t.join(5)
    assert isinstance(outcome[0], Cancelled) and time.monotonic() - started < 1.0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
