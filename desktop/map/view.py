"""The Map section: a folium page built on a worker, shown in QWebEngineView, talking back through QWebChannel."""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QCursor
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings, QWebEngineUrlRequestInterceptor
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QMenu, QVBoxLayout, QWidget,
)

from core import accounts as accounts_service
from core.maps import layers, live
from core.maps.layers import MapOptions
from core.maps.page import OSM_ATTRIBUTION, write_desktop_page
from core.reps import list_reps
from core.words import counted
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.map import actions, tiles
from desktop.map.bridge import MapBridge
from desktop.tasks import open_worker_store

log = logging.getLogger(__name__)

COLOR_CHOICES = (("owner", "Owner"), ("territory", "Territory"), ("tier", "Tier"))
# Changes to these tables are pushed into the live page (core.maps.live.diff), never reloaded.
UPDATE_TABLES = ("accounts", "territories", "routes", "route_stops", "reps")
_page_numbers = itertools.count(1)


class OfflineGuard(QWebEngineUrlRequestInterceptor):
    """Blocks every http(s) request a map page makes and remembers it: maps never touch the network.

    Online tiles arrive through fatiles://, which the tile cache answers; nothing else may go out.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []

    def interceptRequest(self, info) -> None:  # noqa: N802 (Qt override)
        url = info.requestUrl()
        if url.scheme() in ("http", "https", "ws", "wss", "ftp"):
            self.blocked.append(url.toString())
            info.block(True)


class MapPage(QWebEnginePage):
    """Forwards the page's console messages to the log (a broken page is then visible in logs)."""

    def javaScriptConsoleMessage(self, level, message, line, source) -> None:  # noqa: N802 (Qt override)
        log.debug("map page: %s (%s:%s)", message, source, line)


class MapView(QWidget):
    """Accounts, territories, routes and potential on an offline map; click, drag and draw to act."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("map-view")
        self.ready = False
        self._ready_callbacks: list[Callable[[], None]] = []
        self._pending_js: list[str] = []
        self._update_again = False
        self.shown: dict | None = None      # the payload the live page holds (what updates diff against)
        self.updates_applied = 0
        self.loads = 0                      # pages loaded into the view (an update must not add one)
        self.page_path: Path | None = None
        self.last_result = None
        self.stats: dict[str, Any] = {}

        self.color_by = QComboBox()
        for key, title in COLOR_CHOICES:
            self.color_by.addItem(title, key)
        saved = (ctx.settings.extra or {}).get("map_color_by", "owner")
        self.color_by.setCurrentIndex(max(0, [k for k, _t in COLOR_CHOICES].index(saved)
                                          if saved in dict(COLOR_CHOICES) else 0))
        self.color_by.currentIndexChanged.connect(self._color_changed)
        self.street = QCheckBox("Street map (online, cached)")
        self.street.setChecked(bool((ctx.settings.extra or {}).get("map_street_tiles", False)))
        self.street.setToolTip("Show street tiles from " + (ctx.settings.tile_url or "OpenStreetMap")
                               + ". Tiles you have seen are kept on disk and shown offline.")
        self.street.toggled.connect(self._street_toggled)
        self.status = QLabel("Drawing the map…")
        self.status.setStyleSheet("color: #555;")
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 2)
        bar.addWidget(QLabel("Colour accounts by"))
        bar.addWidget(self.color_by)
        bar.addSpacing(16)
        bar.addWidget(self.street)
        bar.addStretch(1)
        bar.addWidget(self.status)
        # Only the newest build may load (an older one finishing late would show stale data), and
        # only into a view that still exists (the window may have closed while the worker ran).
        self.drawing = BackgroundWork(self, ctx.tasks, "Drawing the map", errors=self.status)
        self.updating = BackgroundWork(self, ctx.tasks, "Updating the map", errors=self.status)

        self.web = QWebEngineView()
        self.web.setObjectName("map-web")
        self.page = MapPage(self.web.page().profile(), self.web)
        self.web.setPage(self.page)
        self.guard = OfflineGuard(self.page)
        self.page.setUrlRequestInterceptor(self.guard)
        s = self.page.settings()
        s.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        s.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
        self.tile_cache = tiles.install(self.page.profile(), ctx.settings.data_dir(), ctx.settings.tile_url)
        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject("fieldatlas", self.bridge)
        self.page.setWebChannel(self.channel)
        self.bridge.account_clicked_signal.connect(self._account_clicked)
        self.bridge.account_moved_signal.connect(self._account_moved)
        self.bridge.area_selected_signal.connect(self._area_selected)
        self.web.loadFinished.connect(self._load_finished)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.web, 1)

        self._update_timer = QTimer(self, singleShot=True, interval=150, timeout=self.update_page)
        self._ready_poll = QTimer(self, interval=100, timeout=self._poll_ready)
        ctx.changed.connect(self._changed)
        ctx.settings_changed.connect(self._settings_changed)
        _remove_old_pages(ctx.settings.data_dir() / "maps")
        self.rebuild()

    # --- building the page ---------------------------------------------------------------
    def options(self, keep_view: tuple[float, float, int] | None = None) -> MapOptions:
        return MapOptions(color_by=self.color_by.currentData(), interactive=True,
                          tile_url=tiles.PAGE_TILE_URL, tile_attribution=self._attribution(), view=keep_view)

    def _attribution(self) -> str:
        if self.ctx.settings.tile_url:
            return "Tiles: " + self.ctx.settings.tile_url.split("/")[2]
        return OSM_ATTRIBUTION

    def rebuild(self, keep_view: tuple[float, float, int] | None = None) -> None:
        """Build the page on a worker (own database connection), then load it from its file."""
        self.ready = False
        self.status.setText("Drawing the map…")
        db_path = self.ctx.store.path
        folder = self.ctx.settings.data_dir() / "maps"
        out = folder / f"map-{os.getpid()}-{next(_page_numbers)}.html"
        options = self.options(keep_view)

        def build(progress):
            store = open_worker_store(db_path)
            try:
                return write_desktop_page(store, out, options, progress)
            finally:
                store.close()

        self.drawing.start(build, self._built, error="The map could not be drawn: {error}",
                           failed=self._build_failed)

    def _built(self, result) -> None:
        old = self.page_path
        self.page_path = result.html_path
        self.last_result = result
        self.shown = result.payload
        self.loads += 1
        self.web.load(QUrl.fromLocalFile(str(result.html_path)))
        if old is not None and old != result.html_path:
            # The old file stays until the new page has replaced it in the view.
            QTimer.singleShot(5000, lambda p=old: p.unlink(missing_ok=True))

    def _build_failed(self, exc: BaseException) -> None:
        log.error("map build failed: %s", getattr(exc, "formatted_traceback", exc))
        self._mark_ready()  # nothing more will come; a screenshot must not wait forever

    def _load_finished(self, ok: bool) -> None:
        if not ok:
            self.status.setText("The map page did not load.")
            self._mark_ready()
            return
        self._ready_poll.start()

    def _poll_ready(self) -> None:
        # Results cross as JSON text: PySide does not convert every JS object reliably.
        self.page.runJavaScript(
            "window.FieldAtlasMap && FieldAtlasMap.isReady() ? JSON.stringify(FieldAtlasMap.stats()) : ''",
            0, self._ready_answer)

    def _ready_answer(self, answer: Any) -> None:
        if not answer or self.ready:
            return
        self.stats = json.loads(answer)
        self._ready_poll.stop()
        if self.street.isChecked():
            self.page.runJavaScript("FieldAtlasMap.groups.tiles && FieldAtlasMap.map.addLayer(FieldAtlasMap.groups.tiles)")
        self._show_counts()
        self._mark_ready()
        for script in self._pending_js:
            self.page.runJavaScript(script)
        self._pending_js.clear()
        if self._update_again:
            # Something changed while the page was being built: catch up without another load.
            self._update_again = False
            self.update_page()

    def _show_counts(self) -> None:
        p = self.shown
        if p is None:
            return
        self.status.setText(f"{len(p['accounts']['id']):,} accounts · {len(p['territories']):,} territories · "
                            f"{len(p['routes']):,} routes"
                            "  —  click a pin to select it, drag to move it, draw an area to act on it")

    def _mark_ready(self) -> None:
        self.ready = True
        callbacks, self._ready_callbacks = self._ready_callbacks, []
        for callback in callbacks:
            callback()

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call back once the page has loaded and its markers are drawn (used by screenshots and tests)."""
        if self.ready:
            QTimer.singleShot(0, callback)
        else:
            self._ready_callbacks.append(callback)

    def run_js(self, script: str) -> None:
        """Run script in the page now, or as soon as the page is ready."""
        if self.ready:
            self.page.runJavaScript(script)
        else:
            self._pending_js.append(script)

    # --- reacting to the rest of the app ---------------------------------------------------
    def _changed(self, changes) -> None:
        if any(changes.touched(t) for t in UPDATE_TABLES):
            self._update_timer.start()  # debounced: an import or a multi-step undo arrives as several

    def update_page(self) -> None:
        """Read the map's data again on a worker and push what differs into the live page (no reload).

        Pins moved, territories recoloured, routes added, owners changed: the page patches itself
        (FieldAtlasMap.applyPatch), keeping the user's centre, zoom, open popups and layer choices.
        """
        if not self.ready or self.shown is None or self.updating.running:
            self._update_again = True   # picked up when the page or the running update is done
            return
        db_path, options, old = self.ctx.store.path, self.options(), self.shown

        def read(progress):
            store = open_worker_store(db_path)
            try:
                new = live.current_payload(store, options, progress)
            finally:
                store.close()
            return new, live.diff(old, new)

        self.updating.start(read, lambda result: self._updated(*result), error="The map could not be updated: {error}",
                            failed=lambda exc: log.error("map update failed: %s",
                                                         getattr(exc, "formatted_traceback", exc)))

    def _updated(self, new: dict, patch: dict) -> None:
        if not self.ready:  # a rebuild started meanwhile; it will show the newest data anyway
            return
        self.shown = new
        if patch:
            log.debug("map update: %s", live.summary(patch))
            script = "JSON.stringify(FieldAtlasMap.applyPatch(%s))" % _page_json(patch)
            self.page.runJavaScript(script, 0, self._patch_applied)
        else:
            self._after_update()

    def _patch_applied(self, answer: Any) -> None:
        if not shiboken6.isValid(self):
            return
        if not answer:
            # The page could not take the patch (a script error): drawing it afresh always works.
            log.warning("the map page refused an update; reloading it")
            self._reload_keeping_view()
            return
        self.updates_applied += 1
        self._show_counts()
        self._after_update()

    def _after_update(self) -> None:
        if self._update_again:
            self._update_again = False
            self.update_page()

    def _reload_keeping_view(self) -> None:
        if not self.ready:
            self.rebuild()
            return
        self.page.runJavaScript(
            "window.FieldAtlasMap && FieldAtlasMap.map ? JSON.stringify(FieldAtlasMap.view()) : ''", 0,
            lambda view: self.rebuild(tuple(json.loads(view)) if view else None))

    def _settings_changed(self, settings) -> None:
        self.tile_cache.set_tile_url(settings.data_dir(), settings.tile_url)

    def _color_changed(self) -> None:
        extra = dict(self.ctx.settings.extra or {})
        extra["map_color_by"] = self.color_by.currentData()
        self.ctx.update_settings(extra=extra)
        self.update_page()  # new colours and legend, same page

    def _street_toggled(self, on: bool) -> None:
        extra = dict(self.ctx.settings.extra or {})
        extra["map_street_tiles"] = bool(on)
        self.ctx.update_settings(extra=extra)
        verb = "addLayer" if on else "removeLayer"
        self.run_js(f"FieldAtlasMap.groups.tiles && FieldAtlasMap.map.{verb}(FieldAtlasMap.groups.tiles)")

    def show_on_map(self, request: dict) -> None:
        """Show what another view asked for: accounts, a territory, a scenario's moves, routes or a rep's book."""
        self.ctx.navigate.emit("map")
        if "account_ids" in request:
            self.run_js(f"FieldAtlasMap.showAccounts({json.dumps([int(a) for a in request['account_ids']])})")
        elif "territory_id" in request:
            self.run_js(f"FieldAtlasMap.showTerritory({int(request['territory_id'])})")
        elif "scenario_id" in request:
            ids = layers.scenario_account_ids(self.ctx.store, int(request["scenario_id"]))
            self.run_js(f"FieldAtlasMap.showAccounts({json.dumps(ids)})")
            self.status.setText(f"Scenario moves {len(ids):,} accounts (circled)")
        elif "route_ids" in request:
            self.run_js(f"FieldAtlasMap.showRoutes({json.dumps([int(r) for r in request['route_ids']])})")
        elif "rep_id" in request:
            ids = layers.rep_account_ids(self.ctx.store, int(request["rep_id"]))
            self.run_js(f"FieldAtlasMap.showAccounts({json.dumps(ids)})")

    # --- what the page tells us ---------------------------------------------------------
    def _account_clicked(self, account_id: int) -> None:
        self.ctx.select_accounts.emit([account_id])

    def _account_moved(self, account_id: int, lat: float, lon: float) -> None:
        try:
            actions.move_account(self.ctx, account_id, lat, lon)
        except accounts_service.ValidationError as exc:
            self.status.setText(f"Could not move the account: {exc}")
            self.run_js(f"FieldAtlasMap.resetAccount({int(account_id)})")
            return
        self.status.setText("Account moved (location is now manual). Edit ▸ Undo puts it back.")

    def _area_selected(self, ring: list) -> None:
        ids = layers.accounts_in_polygon(self.ctx.store, ring)
        self.area_menu(ids).popup(QCursor.pos())

    def area_menu(self, ids: list[int]) -> QMenu:
        """What the user can do with the accounts inside a drawn area."""
        menu = QMenu(self)
        n = len(ids)
        head = menu.addAction(f"{counted(n, 'account')} in this area")
        head.setEnabled(False)
        menu.addSeparator()
        select = menu.addAction("Select them in Accounts")
        select.triggered.connect(lambda: (self.ctx.select_accounts.emit(list(ids)), self.ctx.navigate.emit("accounts")))
        to_rep = menu.addMenu("Give them to rep")
        for rep in list_reps(self.ctx.store):
            if rep["role"] == "rep":
                to_rep.addAction(rep["name"]).triggered.connect(
                    lambda _=False, r=rep: actions.assign_to_rep(self.ctx, ids, r["id"], r["name"]))
        to_rep.addSeparator()
        to_rep.addAction("Nobody (unassign)").triggered.connect(
            lambda: actions.assign_to_rep(self.ctx, ids, None, "nobody"))
        to_plan = menu.addMenu("Plan visits to them for")
        for rep in list_reps(self.ctx.store):
            if rep["role"] == "rep":
                to_plan.addAction(rep["name"]).triggered.connect(
                    lambda _=False, r=rep: self.ctx.plan_accounts.emit(r["id"], list(ids)))
        to_terr = menu.addMenu("Put them in territory")
        for t in layers.territory_choices(self.ctx.store):
            to_terr.addAction(t["name"]).triggered.connect(
                lambda _=False, t=t: actions.assign_to_territory(self.ctx, ids, t["id"], t["name"]))
        for sub in (select, to_rep, to_plan, to_terr):
            sub.setEnabled(n > 0)
        menu.aboutToHide.connect(lambda: self.run_js("FieldAtlasMap.clearDrawn()"))
        return menu


def _page_json(value: Any) -> str:
    # "</" cannot end a script here, but the same escaping as the page keeps one rule for both.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def _remove_old_pages(folder: Path, max_age_s: float = 24 * 3600) -> None:
    """Pages left by earlier sessions (a crash, or the last page before quitting)."""
    if not folder.is_dir():
        return
    now = time.time()
    for page in folder.glob("map-*.html"):
        try:
            if now - page.stat().st_mtime > max_age_s:
                page.unlink()
        except OSError:
            pass  # another FieldAtlas window may be using it; it goes next time


def create_view(ctx: AppContext) -> QWidget:
    """The Map section."""
    return MapView(ctx)
