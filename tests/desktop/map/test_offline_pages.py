"""Pages render with no network: a standalone page asks for nothing remote; seen tiles come back offline."""

from __future__ import annotations

import base64
import json

import pytest

from tests.fakes import FakeHandler, serving

import desktop.map  # noqa: F401  (declares fatiles:// before the first web view exists)
from core.maps.layers import MapOptions
from core.maps.page import OSM_TILE_URL, write_standalone

pytestmark = pytest.mark.webengine

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def run_js(qtbot, page, expression: str):
    box: list = []
    page.runJavaScript(f"JSON.stringify({expression})", 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return json.loads(box[0]) if box[0] else None


class RecordingGuard:
    """An interceptor that records (and blocks) every request that is not a local file or Qt resource."""

    def __new__(cls, parent):
        from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor

        class _Guard(QWebEngineUrlRequestInterceptor):
            def __init__(self, parent=None):
                super().__init__(parent)
                self.remote: list[str] = []

            def interceptRequest(self, info):  # noqa: N802
                url = info.requestUrl()
                if url.scheme() not in ("file", "qrc", "data"):
                    self.remote.append(url.toString())
                    info.block(True)

        return _Guard(parent)


def test_standalone_page_draws_with_no_network_request(qtbot, demo_store, tmp_path):
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    result = write_standalone(demo_store, tmp_path / "map.html", MapOptions(tile_url=OSM_TILE_URL, color_by="tier"))
    view = QWebEngineView()
    qtbot.addWidget(view)
    guard = RecordingGuard(view)
    view.page().setUrlRequestInterceptor(guard)
    view.resize(1000, 700)
    view.show()
    view.load(QUrl.fromLocalFile(str(result.html_path)))
    qtbot.waitUntil(lambda: run_js(qtbot, view.page(), "!!(window.FieldAtlasMap && FieldAtlasMap.isReady())"),
                    timeout=30_000)
    assert run_js(qtbot, view.page(), "typeof L.markerClusterGroup + typeof L.heatLayer + typeof L.Control.Draw") \
        == "functionfunctionfunction"
    stats = run_js(qtbot, view.page(), "FieldAtlasMap.stats()")
    assert stats["accounts"] == result.accounts and stats["drawn"] > 5 and not stats["bridge"]
    # Font Awesome's font file was found (the legend's house icon has a real glyph width).
    assert run_js(qtbot, view.page(), "document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
    assert guard.remote == []


class _TileServer(FakeHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.reply(PNG_1PX, "image/png")


def _load_tile_page(qtbot, profile, html_path):
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    view = QWebEngineView()
    qtbot.addWidget(view)
    view.setPage(QWebEnginePage(profile, view))
    view.load(QUrl.fromLocalFile(str(html_path)))
    qtbot.waitUntil(lambda: run_js(qtbot, view.page(), "window.done || null") is not None, timeout=15_000)
    return run_js(qtbot, view.page(), "window.done")


def test_tiles_seen_once_are_served_from_disk_when_offline(qtbot, tmp_path):
    from PySide6.QtWebEngineCore import QWebEngineProfile

    from desktop.map import tiles

    _TileServer.hits = []
    page = tmp_path / "tiles.html"
    page.write_text('<img src="fatiles://tile/5/7/12" onload="window.done=\'loaded\'" '
                    'onerror="window.done=\'failed\'">', encoding="utf-8")
    data_dir = tmp_path / "data"
    with serving(_TileServer) as address:
        url = f"http://{address}/{{z}}/{{x}}/{{y}}.png"
        online = QWebEngineProfile()  # off the record: nothing written to the home folder
        first = tiles.install(online, data_dir, url)
        assert _load_tile_page(qtbot, online, page) == "loaded"
        assert _TileServer.hits == ["/5/7/12.png"]
        assert first.tile_path(5, 7, 12).read_bytes() == PNG_1PX
    # The server is gone (offline): a fresh browser profile still gets the tile, from disk.
    offline = QWebEngineProfile()
    second = tiles.install(offline, data_dir, url)
    assert _load_tile_page(qtbot, offline, page) == "loaded"
    assert second.served_from_cache == 1 and _TileServer.hits == ["/5/7/12.png"]
    # A tile never seen cannot appear offline; the page gets an error, not a hang.
    page.write_text('<img src="fatiles://tile/5/8/12" onload="window.done=\'loaded\'" '
                    'onerror="window.done=\'failed\'">', encoding="utf-8")
    assert _load_tile_page(qtbot, offline, page) == "failed"
