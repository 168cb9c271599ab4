"""Reading a section's figures on a worker: reloads coalesce, and when_ready() tells screenshots and tests it is drawn."""

from __future__ import annotations

from typing import Any, Callable

from desktop.background import BackgroundWork


class LoadsOnWorker:
    """Mixin for a QWidget with `ctx`: implement _load_job() (a fn(progress) for the worker), _show(result), _show_error(exc)."""

    load_title = "Reading"

    def _init_loading(self) -> None:
        self._ready: list[Callable[[], None]] = []
        self._loaded_once = False
        # A reload while one runs waits for it and replaces it: the running one may predate the change.
        self.loads = BackgroundWork(self, self.ctx.tasks, self.load_title, one_at_a_time=True)

    @property
    def _loading(self) -> bool:
        return self.loads.running

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call back once the latest load has been drawn."""
        if self._loaded_once and not self._loading:
            callback()
        else:
            self._ready.append(callback)

    def reload(self) -> None:
        self.loads.start(self._load_job(), self._load_done, failed=self._load_failed)

    def _load_done(self, result: Any) -> None:
        self._loaded_once = True
        self._show(result)
        self._fire_ready()

    def _load_failed(self, exc: BaseException) -> None:
        self._show_error(exc)
        self._fire_ready()

    def _fire_ready(self) -> None:
        callbacks, self._ready = self._ready, []
        for cb in callbacks:
            cb()
