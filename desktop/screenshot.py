"""Render a main-window section offscreen to a PNG, the way a person would see it."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from core import settings as settings_mod
from core.storage.database import Store

DEFAULT_SIZE = (1400, 860)
# Views inside a section: key -> (section, "module:function" that readies the section's widget and returns the
# widget to wait for, e.g. a tab with a solve running).
INNER_VIEWS = {"rotation": ("plan", "desktop.plan.rotation_tab:for_screenshot")}
# Sections that can be readied with options (e.g. --rep/--start/--days): key -> "module:function(widget, **options)".
OPTION_READIERS = {"plan": "desktop.plan.view:for_screenshot"}


def view_names() -> list[str]:
    """Every --view key: the sidebar sections and the views inside them."""
    from desktop.navigation import SECTION_BY_KEY

    return sorted({*SECTION_BY_KEY, *INNER_VIEWS})


def render_view(store: Store, view: str, out: Path, *, size: tuple[int, int] = DEFAULT_SIZE,
                timeout_s: float = 20.0, options: dict | None = None) -> Path:
    """Show `view` in a fresh main window, wait until it says it is ready, and save a PNG.

    options (e.g. rep/start/days for the plan) go to the view's readier in OPTION_READIERS.
    """
    from desktop.app import application

    app = application()
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.context import AppContext
    from desktop.main_window import MainWindow
    from desktop.navigation import SECTION_BY_KEY

    section, readier = INNER_VIEWS.get(view, (view, None))
    if options:
        if view not in OPTION_READIERS:
            raise ValueError(f"--view {view} takes no --rep/--start/--days")
        readier = OPTION_READIERS[view]
    if section not in SECTION_BY_KEY:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(view_names())}")
    ctx = AppContext(store, settings_mod.Settings(), persist_settings=False)
    window = MainWindow(ctx)
    window.resize(*size)
    window.show_section(section)
    window.show()
    widget = window.view(section)
    if readier:
        module, function = readier.split(":")
        widget = getattr(importlib.import_module(module), function)(widget, **(options or {}))
    loop = QEventLoop()
    # Views that load asynchronously (maps) expose when_ready(callback); others are ready at once.
    if hasattr(widget, "when_ready"):
        ready: list[bool] = []

        def on_ready() -> None:
            ready.append(True)
            loop.quit()

        # A view that is ready at once calls back before the loop runs, and quit() on a loop not yet
        # running does nothing: the empty Plan view waited out the whole timeout (20 s) that way.
        widget.when_ready(on_ready)
        if not ready:
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    image = window.grab()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out)):
        raise OSError(f"could not write {out}")
    from desktop.app import dispose

    dispose(window)
    return out
