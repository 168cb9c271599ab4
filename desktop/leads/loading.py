"""Reading a section's figures on a worker: reloads coalesce, and when_ready() tells screenshots and tests it is drawn."""

from __future__ import annotations

from typing import Any, Callable

from desktop.territories.balance import if_alive


class LoadsOnWorker:
    """Mixin for a QWidget with `ctx`: implement _load_job() (a fn(progress) for the worker), _show(result), _show_error(exc)."""

    load_title = "Reading"

    def _init_loading(self) -> None:
        self._ready: list[Callable[[], None]] = []
        self._loading = False
        self._again = False
        self._loaded_once = False

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call back once the latest load has been drawn."""
        if self._loaded_once and not self._loading:
            callback()
        else:
            self._ready.append(callback)

    def reload(self) -> None:
        if self._loading:
            self._again = True  # one more load when this one lands: it may predate the change
            return
        self._loading = True
        task = self.ctx.tasks.run(self.load_title, self._load_job())
        task.on_done(if_alive(self, self._load_done)).on_error(if_alive(self, self._load_failed))

    def _load_done(self, result: Any) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.reload()
            return
        self._loaded_once = True
        self._show(result)
        self._fire_ready()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._show_error(exc)
        self._fire_ready()

    def _fire_ready(self) -> None:
        callbacks, self._ready = self._ready, []
        for cb in callbacks:
            cb()
