"""The plain progress-and-cancel protocol that long-running core functions accept."""

from __future__ import annotations

import threading
from typing import Protocol


class Cancelled(Exception):
    """Raised inside core work when the user asked to stop."""


class Progress(Protocol):
    """What core work reports to: a GUI task, a CLI bar or nothing at all."""

    def update(self, done: int, total: int, message: str = "") -> None: ...

    def cancelled(self) -> bool: ...


class NullProgress:
    """Progress that shows nothing and is cancelled only through its event."""

    def __init__(self, cancel_event: threading.Event | None = None) -> None:
        self._cancel = cancel_event or threading.Event()

    def update(self, done: int, total: int, message: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


def check_cancelled(progress: Progress | None) -> None:
    """Raise Cancelled when the progress says the user gave up."""
    if progress is not None and progress.cancelled():
        raise Cancelled()


def seconds_text(seconds: float) -> str:
    """How long some work took, for a summary line ('2.4 s', or 'under 0.1 s' rather than '0.0 s')."""
    return f"{seconds:.1f} s" if seconds >= 0.1 else "under 0.1 s"
