"""BackgroundWork on its own: latest run wins, Stop, errors to one place, a deleted owner, progress, one at a time."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QWidget

from core.progress import check_cancelled
from desktop.background import BackgroundWork
from desktop.tasks import TaskRunner


@pytest.fixture
def runner(qtbot):
    tasks = TaskRunner()
    yield tasks
    for task in list(tasks.active):
        task.cancel()
    tasks.wait(10_000)


@pytest.fixture
def owner(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def held(gate: threading.Event, value, reports=()):
    """Work that reports `reports` as progress, then waits for `gate` (or a cancel), then returns `value`."""
    def work(progress):
        while True:  # reports again and again: one sent before the view connected to the task is not heard
            for done, total, message in reports:
                progress.update(done, total, message)
            if gate.wait(0.01):
                return value
            check_cancelled(progress)
    return work


def test_a_newer_start_cancels_the_older_run_and_only_its_result_counts(qtbot, runner, owner):
    work = BackgroundWork(owner, runner, "Reading")
    got = []
    gate = threading.Event()
    first = work.start(held(gate, "old"), got.append)
    second = work.start(lambda progress: "new", got.append)
    assert first.progress.cancelled() and work.task is second
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: first.done, timeout=5000)
    qtbot.wait(50)
    assert got == ["new"]


def test_stop_cancels_and_the_bar_and_button_go_back_to_idle(qtbot, runner, owner):
    bar, label = QProgressBar(), QLabel()
    work = BackgroundWork(owner, runner, "Solving", progress=bar, stop="Stop", status=label, stopping="Stopping…")
    assert work.stop.text() == "Stop" and not work.stop.isEnabled()
    heard = []
    task = work.start(held(threading.Event(), None), heard.append, message="Solving…",
                      cancelled=lambda: heard.append("cancelled"))
    assert work.running and work.stop.isEnabled() and not bar.isHidden() and label.text() == "Solving…"
    work.stop.click()
    assert task.progress.cancelled() and not work.stop.isEnabled() and label.text() == "Stopping…"
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert heard == ["cancelled"] and bar.isHidden() and not work.stop.isEnabled()


def test_a_hidden_stop_button_shows_only_while_running(qtbot, runner, owner):
    work = BackgroundWork(owner, runner, "Checking", progress=True, stop="Stop checking", hide_stop=True)
    assert work.stop.isHidden() and work.progress.isHidden()
    work.start(lambda progress: 1)
    assert not work.stop.isHidden() and not work.progress.isHidden()
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert work.stop.isHidden() and work.progress.isHidden()


def boom(progress):
    raise ValueError("the file is empty")


def test_errors_go_to_the_status_line_with_the_caller_s_words(qtbot, runner, owner):
    label = QLabel()
    work = BackgroundWork(owner, runner, "Reading", status=label)
    seen = []
    work.start(boom, error="Could not read: {error}", failed=seen.append)
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert label.text() == "Could not read: the file is empty"
    assert [str(e) for e in seen] == ["the file is empty"]


def test_errors_can_go_to_a_message_box_or_a_callable(qtbot, runner, owner, monkeypatch):
    boxes = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: boxes.append((parent, title, text)))
    work = BackgroundWork(owner, runner, "Export", errors="dialog")
    work.start(boom, error="Nothing was written: {error}")
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert boxes == [(owner, "Export", "Nothing was written: the file is empty")]

    said = []
    work = BackgroundWork(owner, runner, "Export", errors=said.append)
    work.start(boom, error=lambda exc: f"{type(exc).__name__}: {exc}")
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert said == ["ValueError: the file is empty"]


def test_with_no_place_for_errors_the_app_s_handler_hears_them(qtbot, runner, owner):
    heard = []
    runner.error.connect(lambda title, exc: heard.append((title, str(exc))))
    work = BackgroundWork(owner, runner, "Sync")
    work.start(boom)
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert heard == [("Sync", "the file is empty")]


def test_a_deleted_owner_cancels_its_run_and_hears_nothing_after(qtbot, runner):
    owner = QWidget()
    label = QLabel(owner)
    bar = QProgressBar(owner)
    work = BackgroundWork(owner, runner, "Drawing", progress=bar, status=label)
    got = []
    gate = threading.Event()
    task = work.start(held(gate, "late"), got.append, failed=got.append, cancelled=lambda: got.append("c"))
    shiboken6.delete(owner)
    assert task.progress.cancelled()
    gate.set()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    qtbot.wait(50)
    assert got == []


def test_progress_fills_the_bar_or_else_the_status_line(qtbot, runner, owner):
    bar = QProgressBar()
    work = BackgroundWork(owner, runner, "Importing", progress=bar)
    gate = threading.Event()
    seen = []
    work.start(held(gate, None, [(3, 10, "Reading rows")]), progress=lambda d, t, m: seen.append((d, t, m)))
    assert bar.maximum() == 0  # busy until the first report
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert (bar.maximum(), bar.value(), bar.format(), bar.toolTip()) == (10, 3, "Reading rows", "Reading rows")
    gate.set()
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert bar.isHidden()

    label = QLabel()
    work = BackgroundWork(owner, runner, "Balancing", status=label)
    work.start(held(threading.Event(), None, [(1, 2, "Round 1 of 2")]))
    qtbot.waitUntil(lambda: label.text() == "Round 1 of 2", timeout=5000)
    work.cancel()
    qtbot.waitUntil(lambda: not work.running, timeout=5000)


def test_one_at_a_time_runs_only_the_newest_start_after_the_running_one_ends(qtbot, runner, owner):
    work = BackgroundWork(owner, runner, "Updating", one_at_a_time=True)
    got, ran = [], []
    gate = threading.Event()

    def slow(progress):  # ignores cancel: a read that cannot stop halfway
        gate.wait(5)
        return "first"

    first = work.start(slow, got.append)
    assert work.start(lambda p: ran.append("second") or "second", got.append) is None
    assert work.start(lambda p: ran.append("third") or "third", got.append) is None
    assert work.running and len(runner.active) == 1  # nothing runs beside the first
    gate.set()
    qtbot.waitUntil(lambda: not work.running, timeout=5000)
    assert first.done and got == ["third"] and ran == ["third"]


def test_when_idle_and_ended_come_after_the_outcome(qtbot, runner, owner):
    work = BackgroundWork(owner, runner, "Loading")
    order = []
    work.ended.connect(lambda: order.append("ended"))
    work.when_idle(lambda: order.append("idle at once"))
    work.start(lambda p: 1, lambda r: order.append(("done", work.running)))
    work.when_idle(lambda: order.append("idle"))
    qtbot.waitUntil(lambda: "ended" in order, timeout=5000)
    assert order == ["idle at once", ("done", False), "idle", "ended"]


def test_drop_forgets_the_run_at_once(qtbot, runner, owner):
    work = BackgroundWork(owner, runner, "Loading saved plan", progress=True)
    got, idle = [], []
    gate = threading.Event()
    task = work.start(held(gate, "saved"), got.append)
    work.when_idle(lambda: idle.append(True))
    work.drop()
    assert not work.running and idle == [True] and work.progress.isHidden() and task.progress.cancelled()
    gate.set()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    qtbot.wait(50)
    assert got == []


def test_once_runs_beside_another_and_says_its_own_error(qtbot, runner, owner):
    said, got = [], []
    gate = threading.Event()
    first = BackgroundWork.once(owner, runner, "Export ICS", held(gate, "a.ics"), got.append, errors=said.append)
    BackgroundWork.once(owner, runner, "Export ICS", boom, errors=said.append, error="Could not write: {error}")
    qtbot.waitUntil(lambda: bool(said), timeout=5000)
    assert not first.progress.cancelled()
    gate.set()
    qtbot.waitUntil(lambda: got == ["a.ics"], timeout=5000)
    assert said == ["Could not write: the file is empty"]
