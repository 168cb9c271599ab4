"""Any solve in a child process: a crash in a native solver (CP-SAT, PyVRP) ends the child, not the app, and Cancel is at once.

CP-SAT has crashed the desktop app with a segmentation fault when one solve ran after another in the
same process (docs/notes/session-4-lead.md); a thread cannot be stopped inside C++ either. So the
balancing and the rotation solves run their whole computation in a child made from the route engine's
process context (core/routing/engine.py): the child gets its input, reports progress up a pipe and
sends back the answer; the caller saves. A child that dies (or is killed for Cancel) therefore leaves
nothing half-written, and the caller gets SolverCrashed or Cancelled instead of losing its window.
"""

from __future__ import annotations

import pickle
import signal
import time
from typing import Any, Callable

from core.progress import Cancelled, Progress
from core.routing import engine

POLL_SECONDS = 0.1
# Progress reports are sent at most this often: the rotation's search reports every iteration.
REPORT_SECONDS = 0.05


class SolverCrashed(RuntimeError):
    """The child process ended without an answer (the solver crashed); nothing was saved."""


class _PipeProgress:
    """The Progress protocol in the child: reports travel up the pipe; the parent kills the child to cancel."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.last = 0.0

    def update(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - self.last >= REPORT_SECONDS or done >= total:
            self.last = now
            self.conn.send(("progress", (int(done), int(total), str(message))))

    def cancelled(self) -> bool:
        return False


def _child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        conn.send(("done", fn(*args, progress=_PipeProgress(conn), **kwargs)))
    except Exception as exc:  # the parent raises it again: the same exception when it pickles, else its words
        try:
            blob: bytes | None = pickle.dumps(exc)
        except Exception:
            blob = None
        conn.send(("error", (blob, type(exc).__name__, str(exc))))
    finally:
        conn.close()


def _exception(blob: bytes | None, exc_name: str, text: str) -> Exception:
    """The child's exception again (one with its own __init__ may not unpickle: then a RuntimeError with its words)."""
    if blob is not None:
        try:
            exc = pickle.loads(blob)
            if isinstance(exc, Exception):
                return exc
        except Exception:
            pass
    return RuntimeError(f"{exc_name}: {text}")


def _ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"


def run_in_child(fn: Callable[..., Any], *args: Any, progress: Progress | None = None,
                 what: str = "the solver", name: str = "fieldatlas-solver", **kwargs: Any) -> Any:
    """fn(*args, progress=..., **kwargs) in a child process; its answer, with its progress reported here.

    fn must be a module-level function and args picklable. Cancel (progress.cancelled()) kills the child
    within POLL_SECONDS and raises Cancelled; a child that dies raises SolverCrashed naming `what`; an
    exception inside fn is raised here again. Where no child can be made (a daemonic process, or
    FIELDATLAS_ENGINE_IN_PROCESS set) fn runs in this process.
    """
    if engine.in_process():
        return fn(*args, progress=progress, **kwargs)
    ctx = engine.process_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True, name=name)
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
                raise SolverCrashed(f"{what} stopped unexpectedly ({_ended(proc.exitcode)}); "
                                    "nothing was saved — run it again") from None
            if kind == "progress":
                if progress is not None:
                    progress.update(*value)
            elif kind == "done":
                proc.join(10.0)  # let it close its connection itself; a kill is for Cancel and hangs
                return value
            else:
                raise _exception(*value)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1.0)
        parent.close()
