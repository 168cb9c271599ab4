"""The registry of bundled web assets a map page loads, and how pages point at them (no CDN ever)."""

from __future__ import annotations

import shutil
from pathlib import Path

import resources

WEB_FOLDER = "web"

# (name, path under resources/web) in load order; names match folium's so its templates agree.
SCRIPTS: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/leaflet.js"),
    ("jquery", "jquery/jquery.min.js"),
    ("bootstrap", "bootstrap/js/bootstrap.bundle.min.js"),
    ("awesome_markers", "awesome-markers/leaflet.awesome-markers.js"),
    ("markerclusterjs", "markercluster/leaflet.markercluster.js"),
    ("leaflet_draw_js", "leaflet-draw/leaflet.draw.js"),
    ("leaflet-heat.js", "leaflet-heat/leaflet-heat.js"),
)
STYLES: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/leaflet.css"),
    ("bootstrap_css", "bootstrap/css/bootstrap.min.css"),
    ("awesome_markers_font_css", "fontawesome/css/all.min.css"),
    ("awesome_markers_css", "awesome-markers/leaflet.awesome-markers.css"),
    ("markerclustercss", "markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", "markercluster/MarkerCluster.Default.css"),
    ("leaflet_draw_css", "leaflet-draw/leaflet.draw.css"),
)
# Loaded only inside the desktop, from Qt's own resources.
QWEBCHANNEL_JS = "qrc:///qtwebchannel/qwebchannel.js"


def web_dir() -> Path:
    """The installed resources/web folder."""
    return resources.path(WEB_FOLDER)


def local_base_url() -> str:
    """A file:// URL (with trailing slash) of the installed assets, for pages the desktop shows."""
    return web_dir().resolve().as_uri() + "/"


def urls(base: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(scripts, styles) as (name, URL) pairs under `base` (a relative folder or a file:// URL)."""
    if base and not base.endswith("/"):
        base += "/"
    return ([(n, base + p) for n, p in SCRIPTS], [(n, base + p) for n, p in STYLES])


def copy_assets(target: Path) -> Path:
    """Copy the bundled assets into `target` (a folder beside a standalone page); returns it."""
    shutil.copytree(web_dir(), target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
    return target


def missing() -> list[str]:
    """Assets listed here but absent from the installed package (empty when all is well)."""
    base = web_dir()
    return [p for _n, p in SCRIPTS + STYLES if not (base / p).is_file()]
