"""One kind of background work a view runs: only its latest run counts, with optional progress bar, Stop and status.

Every view used to wire the same things by hand around `ctx.tasks.run`: show a progress bar and enable
a Stop button while it runs, hide and disable them after, drop the result of a run that a newer one
replaced, say what went wrong somewhere, and not touch its widgets once the view is gone. A
`BackgroundWork` does those once; the view keeps only what is its own (what a result means).
"""

from __future__ import annotations

from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QAbstractButton, QLabel, QMessageBox, QProgressBar, QPushButton, QWidget

from desktop.tasks import Task, TaskProgress, TaskRunner

ErrorPlace = QLabel | str | Callable[[str], None] | None


def alive(*objects: QObject | None) -> bool:
    """True while every given Qt object is there and not yet deleted."""
    return all(o is not None and shiboken6.isValid(o) for o in objects)


class BackgroundWork(QObject):
    """Runs one kind of work for `owner` through `tasks.run`; a newer start cancels the older run and drops its result.

    - `progress`: a QProgressBar (or True to make one, as `.progress`): shown and busy while a run is
      going, filled by its progress reports (message as text and tooltip), hidden after.
    - `stop`: a button (or its text, to make one, as `.stop`): enabled while a run is going, cancels
      it; disabled after (hidden after, with `hide_stop`). `stopping` is put in the status when pressed.
    - `status`: a QLabel (or True to make one, as `.status`): `start(message=...)` goes there; so do
      progress messages when there is no bar.
    - `errors`: where a failure is said: a QLabel, "dialog" (a warning box over the owner), or a
      callable given the text. Default: the status label; with neither, the app's own task-error
      handler (the status bar and a message box), as for any task.
    - `one_at_a_time`: a newer start waits until the cancelled older run has ended instead of
      running beside it (for reads a burst of changes would otherwise stack up on the workers).

    Results, errors and progress of a replaced run, or of any run once the owner is deleted, are dropped.
    Deleting the owner cancels the running work. `ended` fires once the work is idle again, after
    the outcome's callback.
    """

    ended = Signal()

    def __init__(self, owner: QWidget, tasks: TaskRunner, title: str, *,
                 progress: QProgressBar | bool | None = None, stop: QAbstractButton | str | None = None,
                 status: QLabel | bool | None = None, errors: ErrorPlace = None, stopping: str | None = None,
                 hide_stop: bool = False, one_at_a_time: bool = False) -> None:
        super().__init__(owner)
        self.owner = owner
        self.tasks = tasks
        self.title = title
        self.progress: QProgressBar | None = QProgressBar() if progress is True else (progress or None)
        self.stop: QAbstractButton | None = QPushButton(stop) if isinstance(stop, str) else stop
        self.status: QLabel | None = QLabel() if status is True else (status or None)
        if status is True:
            self.status.setWordWrap(True)
        self.errors = errors if errors is not None else self.status
        self.stopping = stopping
        self.hide_stop = hide_stop
        self.one_at_a_time = one_at_a_time
        self.task: Task | None = None          # the current run, None when idle
        self._waiting: tuple | None = None     # (args, kwargs) of a start waiting for the older run to end
        self._idle_callbacks: list[Callable[[], None]] = []
        self._runs: list[Task] = []            # a plain list, so cancel-on-delete needs nothing of self
        runs = self._runs
        owner.destroyed.connect(lambda *_: [t.cancel() for t in runs if not t.done])
        if self.progress is not None:
            self.progress.hide()
        if self.stop is not None:
            self.stop.clicked.connect(self.cancel)
            self._show_stop(False)

    # --- what a view asks -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None or self._waiting is not None

    def start(self, fn: Callable[[TaskProgress], Any], done: Callable[[Any], None] | None = None, *,
              title: str | None = None, message: str | None = None,
              error: str | Callable[[BaseException], str] = "{error}",
              failed: Callable[[BaseException], None] | None = None,
              cancelled: Callable[[], None] | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> Task | None:
        """Run fn(progress) on a worker; `done(result)` when it succeeds, unless a newer start replaced it.

        `error` is the text said in the error place (`{error}` is the exception); `failed(exc)` is called
        besides, for what the view itself must do. Returns the Task (None while it waits its turn).
        """
        older = self.task
        if self.one_at_a_time and (older is not None or self._waiting is not None):
            if older is not None:  # its result is dropped from now on; the newest start runs once it ends
                older.cancel()
                older.ended.connect(self._start_waiting)
                self.task = None
            self._waiting = ((fn, done), dict(title=title, message=message, error=error, failed=failed,
                                              cancelled=cancelled, progress=progress))
            self._busy(True, message)
            return None
        if older is not None:
            older.cancel()
        self._busy(True, message)
        task = self.tasks.run(title or self.title, fn)
        self.task = task
        self._runs[:] = [t for t in self._runs if not t.done] + [task]
        task.with_progress(lambda d, t, m, task=task: self._progressed(task, d, t, m, progress))
        task.on_done(lambda result, task=task: self._finish(task, done, result))
        task.on_error(lambda exc, task=task: self._failed(task, exc, error, failed))
        task.on_cancel(lambda task=task: self._finish(task, cancelled))
        return task

    def cancel(self) -> None:
        """Stop the current run (the worker notices at its next progress check)."""
        if self.task is None:
            if self._waiting is not None:
                self._waiting = None
                self._idle()
            return
        self.task.cancel()
        if alive(self.stop):
            self.stop.setEnabled(False)
        if self.stopping and alive(self.status):
            self.status.setText(self.stopping)

    def drop(self) -> None:
        """Cancel the current run and ignore whatever it still reports (its answer is no longer wanted)."""
        task, self.task, self._waiting = self.task, None, None
        if task is None:
            return
        task.cancel()
        self._busy(False)
        self._idle()

    @classmethod
    def once(cls, owner: QWidget, tasks: TaskRunner, title: str, fn: Callable[[TaskProgress], Any],
             done: Callable[[Any], None] | None = None, *, errors: ErrorPlace = None, **options) -> Task | None:
        """One run of its own (e.g. an export: a second one must not cancel the first); the helper goes when it ends."""
        work = cls(owner, tasks, title, errors=errors)
        work.ended.connect(work.deleteLater)
        return work.start(fn, done, **options)

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call back once no run is going (at once when none is)."""
        if self.running:
            self._idle_callbacks.append(callback)
        else:
            callback()

    # --- the runs' reports (GUI thread) -----------------------------------------------------------
    def _current(self, task: Task) -> bool:
        return task is self.task and alive(self, self.owner)

    def _start_waiting(self) -> None:
        if not alive(self, self.owner) or self._waiting is None:
            return
        args, kwargs = self._waiting
        self._waiting = None
        self.start(*args, **kwargs)

    def _progressed(self, task: Task, done: int, total: int, message: str, callback) -> None:
        if not self._current(task):
            return
        bar = self.progress
        if alive(bar):
            bar.setRange(0, max(total, 1))
            bar.setValue(done)
            bar.setFormat(message or "%p%")
            bar.setToolTip(message)
        elif message and alive(self.status):
            self.status.setText(message)
        if callback is not None:
            callback(done, total, message)

    def _failed(self, task: Task, exc: BaseException, error, failed) -> None:
        if not self._current(task):
            return
        text = error(exc) if callable(error) else error.format(error=exc)
        place = self.errors
        if place is None and failed is None:
            self.tasks.error.emit(task.title, exc)  # nobody here says it: the app's handler does
        self._finish(task, failed, exc, say=text if place is not None else None)

    def _finish(self, task: Task, callback, *args, say: str | None = None) -> None:
        if not self._current(task):
            return
        self.task = None
        self._busy(False)
        if say is not None:
            self._say_error(say)
        if callback is not None:
            callback(*args)
        if self.task is None and alive(self, self.owner):  # the callback may have started another run
            self._idle()

    def _idle(self) -> None:
        callbacks, self._idle_callbacks = self._idle_callbacks, []
        for callback in callbacks:
            callback()
        self.ended.emit()

    def _say_error(self, text: str) -> None:
        place = self.errors
        if isinstance(place, QLabel):
            if alive(place):
                place.setText(text)
        elif place == "dialog":
            QMessageBox.warning(self.owner, self.title, text)
        elif callable(place):
            place(text)

    # --- the widgets ------------------------------------------------------------------------------
    def _busy(self, on: bool, message: str | None = None) -> None:
        if alive(self.progress):
            if on:
                self.progress.setRange(0, 0)
                self.progress.setToolTip("")
                self.progress.show()
            else:
                self.progress.hide()
        self._show_stop(on)
        if on and message is not None and alive(self.status):
            self.status.setText(message)

    def _show_stop(self, on: bool) -> None:
        if not alive(self.stop):
            return
        self.stop.setEnabled(on)
        if self.hide_stop:
            self.stop.setVisible(on)
