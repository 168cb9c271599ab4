"""The optional online tile layer through a `fatiles://` scheme: served from a disk cache, fetched only when online.

OpenStreetMap's tile policy forbids bulk downloads, so only tiles the user has looked at are
cached (and reused offline); nothing is pre-fetched. Pages ask for fatiles://tile/{z}/{x}/{y};
the handler maps that to Settings.tile_url (OpenStreetMap when empty).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QObject, QUrl
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWebEngineCore import (
    QWebEngineProfile, QWebEngineUrlRequestJob, QWebEngineUrlScheme, QWebEngineUrlSchemeHandler,
)

log = logging.getLogger(__name__)

SCHEME = b"fatiles"
PAGE_TILE_URL = "fatiles://tile/{z}/{x}/{y}"
USER_AGENT = b"FieldAtlas/0.1 (desktop field-sales app; tiles cached on disk, no bulk download)"
# OSM asks clients to keep tiles at least 7 days; after that, refresh when online, else reuse.
FRESH_SECONDS = 7 * 24 * 3600
_TILE_PATH = re.compile(r"^/(\d{1,2})/(\d{1,8})/(\d{1,8})$")


def register_scheme() -> None:
    """Declare fatiles:// to QtWebEngine; must run before the first web view or profile is made."""
    if QWebEngineUrlScheme.schemeByName(SCHEME).name() == SCHEME:
        return
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Path)
    # A local scheme may be loaded by file:// pages (the map page is a file).
    scheme.setFlags(QWebEngineUrlScheme.Flag.LocalScheme | QWebEngineUrlScheme.Flag.LocalAccessAllowed)
    QWebEngineUrlScheme.registerScheme(scheme)


def _osm_tile_url() -> str:
    # Imported when needed: this package is imported at every start of the app (the sidebar asks
    # whether desktop.map.view exists), and core.maps.page is the map's page builder.
    from core.maps.page import OSM_TILE_URL

    return OSM_TILE_URL


def cache_dir_for(data_dir: Path, tile_url: str) -> Path:
    """Tiles of one server live apart from another's (a team server vs OpenStreetMap)."""
    key = hashlib.sha1(tile_url.encode("utf-8")).hexdigest()[:12]
    return Path(data_dir) / "tiles" / key


class TileCache(QWebEngineUrlSchemeHandler):
    """Answers fatiles:// requests from disk, fetching (and keeping) tiles it does not have yet."""

    def __init__(self, data_dir: Path, tile_url: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tile_url = tile_url or _osm_tile_url()
        self.folder = cache_dir_for(data_dir, self.tile_url)
        self.network = QNetworkAccessManager(self)
        self.online = True
        self.fetched = 0
        self.served_from_cache = 0
        self._jobs: dict[int, QWebEngineUrlRequestJob] = {}

    def set_tile_url(self, data_dir: Path, tile_url: str) -> None:
        self.tile_url = tile_url or _osm_tile_url()
        self.folder = cache_dir_for(data_dir, self.tile_url)

    def tile_path(self, z: int, x: int, y: int) -> Path:
        return self.folder / str(z) / str(x) / f"{y}.png"

    def remote_url(self, z: int, x: int, y: int) -> str:
        return self.tile_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)).replace(
            "{s}", "abc"[(x + y) % 3])

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 (Qt override)
        match = _TILE_PATH.match(job.requestUrl().path())
        if job.requestUrl().host() != "tile" or not match:
            job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
            return
        z, x, y = (int(v) for v in match.groups())
        path = self.tile_path(z, x, y)
        if path.is_file() and (not self.online or time.time() - path.stat().st_mtime < FRESH_SECONDS):
            self.served_from_cache += 1
            self._reply(job, path.read_bytes())
            return
        if not self.online:
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        request = QNetworkRequest(QUrl(self.remote_url(z, x, y)))
        request.setRawHeader(b"User-Agent", USER_AGENT)
        reply = self.network.get(request)
        key = id(reply)
        self._jobs[key] = job
        reply.finished.connect(lambda: self._fetched(key, reply, path))

    def _fetched(self, key: int, reply: QNetworkReply, path: Path) -> None:
        job = self._jobs.pop(key, None)
        reply.deleteLater()
        body = bytes(reply.readAll().data()) if reply.error() == QNetworkReply.NetworkError.NoError else b""
        if body:
            self.fetched += 1
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(body)
            tmp.replace(path)
        if job is None:
            return
        try:
            if body:
                self._reply(job, body)
            elif path.is_file():
                # Offline or the server failed: a stale tile beats a hole in the map.
                self._reply(job, path.read_bytes())
            else:
                job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
        except RuntimeError:
            pass  # the page went away (scrolled off or reloaded) while the tile was fetched

    @staticmethod
    def _reply(job: QWebEngineUrlRequestJob, body: bytes) -> None:
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(b"image/png", buffer)


_installed: dict[int, TileCache] = {}


def install(profile: QWebEngineProfile, data_dir: Path, tile_url: str) -> TileCache:
    """The profile's tile handler (one per profile), pointed at this server and cache."""
    handler = _installed.get(id(profile))
    if handler is None:
        handler = TileCache(data_dir, tile_url, parent=profile)
        profile.installUrlSchemeHandler(SCHEME, handler)
        _installed[id(profile)] = handler
    else:
        handler.set_tile_url(data_dir, tile_url)
    return handler
