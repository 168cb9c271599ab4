"""The one way to run background work: a pool of workers, progress, cancel, and errors routed to one place.

Widgets are only touched from the GUI thread: workers report through Qt signals, which Qt queues
back to the thread that owns the Task object.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.progress import Cancelled

log = logging.getLogger(__name__)


def open_worker_store(path):
    """A worker's own database connection (never the GUI's ctx.store); close it when the work is done.

    Sections call this rather than core.storage, so the import-linter contract can keep views off storage.
    """
    from core.storage.database import open_database

    return open_database(path)


class TaskProgress:
    """The core Progress protocol, bridged to a Task's signals; read by core code on the worker."""

    def __init__(self, task: "Task") -> None:
        self._task = task
        self._event = threading.Event()
        self.last: tuple[int, int, str] | None = None  # the latest report, for a listener that comes late

    def update(self, done: int, total: int, message: str = "") -> None:
        self.last = (int(done), int(total), str(message))
        self._task.progressed.emit(*self.last)

    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()


class Task(QObject):
    """A piece of background work; chain on_done/on_error/with_progress to hear how it went."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, title: str, fn: Callable[[TaskProgress], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.fn = fn
        self.progress = TaskProgress(self)
        self.handles_errors = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False

    def on_done(self, callback: Callable[[Any], None]) -> "Task":
        self.succeeded.connect(callback)
        return self

    def on_error(self, callback: Callable[[BaseException], None]) -> "Task":
        self.handles_errors = True
        self.failed.connect(callback)
        return self

    def on_cancel(self, callback: Callable[[], None]) -> "Task":
        self.cancelled.connect(callback)
        return self

    def with_progress(self, callback: Callable[[int, int, str], None]) -> "Task":
        """Hear progress; a report the worker sent before this was connected is heard at once (it starts in run)."""
        self.progressed.connect(callback)
        last = self.progress.last
        if last is not None and not self.done:
            callback(*last)  # may repeat one that is also queued: a progress report says where it is, so twice is harmless
        return self

    def cancel(self) -> None:
        self.progress.cancel()


class _Runnable(QRunnable):
    def __init__(self, task: Task, relay: "_Relay") -> None:
        super().__init__()
        self.task = task
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.task.fn(self.task.progress)
        except Cancelled:
            self.relay.cancelled.emit(self.task)
        except BaseException as exc:  # every error reaches the GUI; none is swallowed here
            exc.formatted_traceback = traceback.format_exc()  # type: ignore[attr-defined]
            self.relay.failed.emit(self.task, exc)
        else:
            self.relay.succeeded.emit(self.task, result)


class _Relay(QObject):
    """Lives in the GUI thread; its queued signals carry worker results back there."""

    succeeded = Signal(object, object)
    failed = Signal(object, object)
    cancelled = Signal(object)


class TaskRunner(QObject):
    """Starts tasks on a thread pool and reports unhandled errors through `error`."""

    error = Signal(str, object)   # task title, exception
    started = Signal(object)      # Task
    finished = Signal(object)     # Task

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.succeeded.connect(self._on_succeeded)
        self._relay.failed.connect(self._on_failed)
        self._relay.cancelled.connect(self._on_cancelled)
        self.active: list[Task] = []

    def run(self, title: str, fn: Callable[[TaskProgress], Any]) -> Task:
        """Run fn(progress) on a worker; connect handlers to the returned Task right away."""
        task = Task(title, fn, self)
        self.active.append(task)
        self.started.emit(task)
        self.pool.start(_Runnable(task, self._relay))
        return task

    def _finish(self, task: Task) -> None:
        task.done = True
        if task in self.active:
            self.active.remove(task)
        task.ended.emit()
        self.finished.emit(task)

    def _on_succeeded(self, task: Task, result: Any) -> None:
        task.result = result
        task.succeeded.emit(result)
        self._finish(task)

    def _on_failed(self, task: Task, exc: BaseException) -> None:
        task.error = exc
        log.error("task %r failed: %s", task.title, getattr(exc, "formatted_traceback", exc))
        if task.handles_errors:
            task.failed.emit(exc)
        else:
            self.error.emit(task.title, exc)
        self._finish(task)

    def _on_cancelled(self, task: Task) -> None:
        task.cancelled.emit()
        self._finish(task)

    def wait(self, msecs: int = -1) -> bool:
        """Block until workers finish — only for tests and shutdown, never in normal GUI flow."""
        return self.pool.waitForDone(msecs)
