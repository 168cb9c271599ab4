"""`fieldatlas --self-test`: prove an installed (or frozen) FieldAtlas works on this machine, then exit.

It writes a small demo database in a temporary folder, opens the main window on it, renders the
offline map (bundled Leaflet and boundaries, no network), solves a small visit route, and exits 0;
the first failure prints one line saying which step broke and exits 1. Installers run it on the
built bundle, so a missing asset or library shows up before a rep sees it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

# Pages the map must show: Leaflet loaded from the bundle, the county boundaries drawn as vectors,
# and account markers or clusters. Evaluated in the page, returns a small report object.
MAP_PROBE_JS = """(() => {
  const out = {leaflet: typeof L !== 'undefined', paths: document.querySelectorAll('path.leaflet-interactive').length,
               markers: document.querySelectorAll('.leaflet-marker-icon').length, remote: []};
  for (const el of document.querySelectorAll('script[src], link[href], img[src]')) {
    const url = el.src || el.href || '';
    if (/^https?:/i.test(url)) out.remote.push(url);
  }
  return JSON.stringify(out);
})()"""


class SelfTestFailed(Exception):
    """A step of the self-test did not work; the message names it."""


def _say(line: str) -> None:
    print(line, flush=True)  # flushed: the build script times start-up from these lines as they come


def run_self_test(*, out=_say, timeout_s: float = 90.0) -> int:
    """Run every step; 0 when all pass, 1 (and one line naming the step) when one fails."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="fieldatlas-self-test-"))
    try:
        steps = _Steps(folder, out, started, timeout_s)
        steps.run()
    except SelfTestFailed as exc:
        print(f"fieldatlas: self-test failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out(f"self-test passed in {time.monotonic() - started:.1f} s")
    return 0


class _Steps:
    def __init__(self, folder: Path, out: Callable[[str], None], started: float, timeout_s: float) -> None:
        self.folder = folder
        self.out = out
        self.started = started
        self.timeout_s = timeout_s
        self.failed_tasks: list[str] = []  # background work that failed, e.g. building the map page

    def say(self, message: str) -> None:
        self.out(f"[{time.monotonic() - self.started:5.1f} s] {message}")

    def run(self) -> None:
        store = self.demo_database()
        try:
            window = self.main_window(store)
            try:
                self.offline_map(window)
            finally:
                from desktop.app import dispose

                dispose(window)
            self.route(store)
        finally:
            store.close()

    def demo_database(self):
        from core.demo import DemoSpec, write_demo
        from core.storage.database import open_database

        path = self.folder / "self-test.sqlite"
        try:
            write_demo(path, DemoSpec(accounts=200, reps=3))
            store = open_database(path)
        except Exception as exc:  # reported as the step that broke, with its reason
            raise SelfTestFailed(f"demo database: {exc}") from exc
        count = store.conn.execute("SELECT count(*) FROM accounts WHERE deleted_at IS NULL").fetchone()[0]
        if count != 200:
            raise SelfTestFailed(f"demo database: expected 200 accounts, found {count}")
        self.say(f"demo database written ({count} accounts)")
        return store

    def main_window(self, store):
        from desktop.app import application

        app = application()
        from core import settings as settings_mod
        from desktop.context import AppContext
        from desktop.main_window import MainWindow

        ctx = AppContext(store, settings_mod.Settings(), persist_settings=False)
        ctx.tasks.finished.connect(self._note_failure)
        window = MainWindow(ctx)
        window.resize(1200, 800)
        window.show()
        app.processEvents()
        if not window.isVisible():
            raise SelfTestFailed("main window: it did not show")
        self.say(f"main window shown ({window.nav.count()} sections)")
        return window

    def offline_map(self, window) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        window.show_section("map")
        view = window.view("map")
        if not hasattr(view, "when_ready"):
            raise SelfTestFailed("map: the Map view has no page to render")
        loop = QEventLoop()
        ready: list[bool] = []
        view.when_ready(lambda: (ready.append(True), loop.quit()))
        timer = QTimer(singleShot=True, interval=int(self.remaining() * 1000))
        timer.timeout.connect(loop.quit)
        timer.start()
        if not ready:
            loop.exec()
        if self.failed_tasks:
            raise SelfTestFailed(f"map: {self.failed_tasks[0]}")
        if not ready:
            raise SelfTestFailed("map: the page did not finish loading in time")
        report = self._evaluate(view, MAP_PROBE_JS)
        import json

        try:
            probe = json.loads(report or "{}")
        except ValueError as exc:
            raise SelfTestFailed(f"map: unreadable page report {report!r}") from exc
        if not probe.get("leaflet"):
            raise SelfTestFailed("map: Leaflet did not load from the bundled assets")
        if probe.get("remote"):
            raise SelfTestFailed(f"map: the page asks the network for {probe['remote'][0]}")
        if not probe.get("paths"):
            raise SelfTestFailed("map: no boundaries were drawn")
        self.say(f"offline map rendered ({probe['paths']} shapes, {probe['markers']} markers or clusters)")

    def _note_failure(self, task) -> None:
        if task.error is not None:
            self.failed_tasks.append(f"{task.title.lower()} failed: {type(task.error).__name__}: {task.error}")

    def _evaluate(self, view, script: str):
        from PySide6.QtCore import QEventLoop, QTimer

        page = _web_page(view)
        if page is None:
            raise SelfTestFailed("map: no web page found in the Map view")
        loop = QEventLoop()
        answer: list = []
        page.runJavaScript(script, 0, lambda value: (answer.append(value), loop.quit()))
        QTimer.singleShot(int(min(10.0, self.remaining()) * 1000), loop.quit)
        if not answer:
            loop.exec()
        if not answer:
            raise SelfTestFailed("map: the page did not answer")
        return answer[0]

    def route(self, store) -> None:
        from core.routing import MaxRuntime, RoutingProblem, Shift, Stop, solve

        rep = store.conn.execute(
            "SELECT home_lat, home_lon FROM reps WHERE home_lat IS NOT NULL AND deleted_at IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
        if rep is None:
            raise SelfTestFailed("route: the demo database has no rep with a home base")
        home = (rep[0], rep[1])
        # The 8 accounts nearest the rep's home: a day any rep could drive.
        rows = store.conn.execute(
            "SELECT id, lat, lon FROM accounts WHERE lat IS NOT NULL AND deleted_at IS NULL "
            "ORDER BY (lat - ?) * (lat - ?) + (lon - ?) * (lon - ?) LIMIT 8", (*home[:1] * 2, *home[1:] * 2)
        ).fetchall()
        if len(rows) < 8:
            raise SelfTestFailed("route: the demo database has too few located accounts")
        stops = tuple(Stop(r[0], r[1], r[2], service_minutes=20) for r in rows)
        problem = RoutingProblem(stops, (Shift("day", start=home, start_min=480, end_min=1140),))
        result = solve(problem, stop=MaxRuntime(2.0))
        served = sum(len(r.visits) for r in result.routes)
        if served != len(stops):
            reasons = "; ".join(f"{u.stop_id}: {u.reason}" for u in result.unserved)
            raise SelfTestFailed(f"route: {served} of {len(stops)} stops planned ({reasons})")
        self.say(f"route solved ({served} stops)")

    def remaining(self) -> float:
        return max(1.0, self.timeout_s - (time.monotonic() - self.started))


def _web_page(widget):
    """The first QWebEnginePage under the Map view (its page object or a child web view's)."""
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    views = [widget] if isinstance(widget, QWebEngineView) else widget.findChildren(QWebEngineView)
    for view in views:
        page = view.page()
        if isinstance(page, QWebEnginePage):
            return page
    return None


def main() -> int:
    """Entry for `fieldatlas --self-test`: offscreen unless QT_QPA_PLATFORM says otherwise."""
    # A check, not a session: it must run on a build server with no screen and pop up nothing.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return run_self_test()
