"""Build a map page with folium, pointed at the bundled assets, and write it to disk (standalone or for the desktop)."""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from importlib import resources as _resources
from pathlib import Path
from typing import Any

from core.maps import assets, boundaries
from core.maps.layers import MapData, MapOptions, load_map_data
from core.progress import Progress, check_cancelled
from core.storage.database import Store

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
# http(s) or protocol-relative URLs with a real host name; JSON-escaped quotes end a URL.
URL_PATTERN = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>)\\]*""")


def _text(name: str) -> str:
    return _resources.files("core.maps").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _layers_element() -> type:
    """The element that starts our layers once folium's map exists (made on first use: folium, branca and
    pandas take 1-2 s to import, which the app's views and the CLI should pay only when they draw a map)."""
    from branca.element import MacroElement
    from jinja2 import Template

    class Layers(MacroElement):
        _template = Template("""
{% macro script(this, kwargs) %}
FieldAtlasMap.start({{ this._parent.get_name() }}, __FIELDATLAS_PAYLOAD__);
{% endmacro %}
""")

        def __init__(self) -> None:
            super().__init__()
            self._name = "FieldAtlasLayers"

    return Layers


def _json(value: Any) -> str:
    # "</" would close the surrounding <script> element early.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def payload(data: MapData, options: MapOptions) -> dict[str, Any]:
    """The JSON the page's script reads (also handy for tests)."""
    if data.bounds:
        s, w, n, e = data.bounds
        pad = 4.0
        nearby = [code for code, b in boundaries.state_bounds().items()
                  if _overlaps(b, (s - pad, w - pad, n + pad, e + pad))]
    else:
        nearby = list(data.states)
    states_fc = boundaries.states_geojson(sorted(set(nearby) | set(data.states)))
    # Every state that holds accounts gets its county lines (simplified, flat arrays); the page
    # draws a state's lines only once it is in view close enough to read them.
    county_lines = {s: boundaries.county_lines(s) for s in data.states}
    tiles = None
    if options.tile_url:
        tiles = {"url": options.tile_url, "attribution": options.tile_attribution or OSM_ATTRIBUTION, "on": False}
    return {
        "title": data.title,
        "categories": [c.__dict__ for c in data.categories],
        "accounts": data.accounts,
        "reps": data.reps,
        "territories": data.territories,
        "noTerritory": data.no_territory,
        "routes": data.routes,
        "showRoutes": bool(options.route_ids or options.rep is not None),
        "states": data.states,
        "base": {"states": states_fc, "counties": county_lines},
        "bounds": data.bounds,
        "view": list(options.view) if options.view else None,
        "highlight": data.highlight,
        "tiles": tiles,
        "interactive": options.interactive,
    }


def _overlaps(a: tuple | None, b: tuple) -> bool:
    return a is not None and not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def render_html(data: MapData, options: MapOptions, asset_base: str, page_payload: dict | None = None) -> str:
    """The page as HTML; scripts and styles come from `asset_base` (relative folder or file:// URL)."""
    import folium
    from branca.element import Element

    scripts, styles = assets.urls(asset_base)
    fmap = folium.Map(location=[31.0, -99.0], zoom_start=6, tiles=None, control_scale=True,
                      prefer_canvas=False, zoom_snap=0.25, max_zoom=18, min_zoom=3)
    # folium's own defaults point at CDNs; these instance attributes replace them for this page.
    fmap.default_js = scripts
    fmap.default_css = styles
    header = fmap.get_root().header
    header.add_child(Element(f"<title>FieldAtlas map — {data.title}</title>"), name="fa_title")
    header.add_child(Element(f"<style>{_text('map.css')}</style>"), name="fa_css")
    if options.interactive:
        header.add_child(Element(f'<script src="{assets.QWEBCHANNEL_JS}"></script>'), name="fa_qwebchannel")
    header.add_child(Element(f"<script>{_text('map.js')}</script>"), name="fa_js")
    fmap.add_child(_layers_element()())
    # The data goes in after folium has rendered: branca re-parses rendered HTML as a Jinja
    # template, and tokenising megabytes of JSON would take seconds for 100,000 accounts.
    html = fmap.get_root().render()
    head, marker, tail = html.partition("__FIELDATLAS_PAYLOAD__")
    if not marker:
        raise RuntimeError("the map page template lost its data placeholder")
    return head + _json(page_payload if page_payload is not None else payload(data, options)) + tail


def external_urls(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Network URLs a page references (http(s) or protocol-relative), apart from the allowed prefixes."""
    found = []
    for match in URL_PATTERN.finditer(html):
        url = match.group(0)
        if url.startswith(allowed):
            continue
        found.append(url)
    return found


@dataclass(frozen=True)
class PageResult:
    """What was written: the page, its asset folder, and figures worth reporting."""

    html_path: Path
    assets_dir: Path | None
    html_bytes: int
    accounts: int
    territories: int
    routes: int
    # The data inside the page (desktop pages only): what later live updates are diffed against.
    payload: dict | None = field(default=None, repr=False, compare=False)


def _write_atomic(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)


def write_standalone(store: Store, out: Path | str, options: MapOptions = MapOptions(),
                     progress: Progress | None = None) -> PageResult:
    """A page that opens in any browser offline: out.html plus its assets in out_files/ beside it."""
    out = Path(out)
    data = load_map_data(store, options, progress)
    check_cancelled(progress)
    # Beside the page: map.html + map_files/ (the browser "save page as" convention).
    folder = out.with_name(out.stem + "_files")
    assets.copy_assets(folder)
    html = render_html(data, options, folder.name + "/")
    size = _write_atomic(out, html)
    return PageResult(out, folder, size, len(data.accounts["id"]), len(data.territories), len(data.routes))


def write_desktop_page(store: Store, out: Path | str, options: MapOptions = MapOptions(),
                       progress: Progress | None = None) -> PageResult:
    """The desktop's page: assets read in place from the installed resources folder via file:// URLs."""
    out = Path(out)
    data = load_map_data(store, options, progress)
    check_cancelled(progress)
    page_payload = payload(data, options)
    html = render_html(data, options, assets.local_base_url(), page_payload)
    size = _write_atomic(out, html)
    return PageResult(out, None, size, len(data.accounts["id"]), len(data.territories), len(data.routes),
                      page_payload)
