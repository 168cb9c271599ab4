"""Generated pages load only bundled assets: no CDN, every referenced file present, licences shipped."""

from __future__ import annotations

import re
from pathlib import Path

from core.maps import assets
from core.maps.layers import MapOptions
from core.maps.page import OSM_TILE_URL, external_urls, write_desktop_page, write_standalone
from core.storage import writes

SRC = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)\"""")
CSS_URL = re.compile(r"""url\(['"]?([^'")]+)['"]?\)""")


def test_standalone_page_references_no_network_and_every_asset_is_beside_it(demo_store, tmp_path):
    result = write_standalone(demo_store, tmp_path / "map.html", MapOptions(tile_url=None))
    html = result.html_path.read_text(encoding="utf-8")
    assert external_urls(html) == []
    refs = SRC.findall(html)
    assert len(refs) == len(assets.SCRIPTS) + len(assets.STYLES)
    for ref in refs:
        assert ref.startswith("map_files/"), ref
        assert (tmp_path / ref).is_file(), ref
    assert result.accounts == demo_store.scalar("SELECT count(*) FROM accounts WHERE lat IS NOT NULL")


def test_the_only_network_url_is_the_optional_tile_layer(demo_store, tmp_path):
    result = write_standalone(demo_store, tmp_path / "map.html", MapOptions(tile_url=OSM_TILE_URL))
    html = result.html_path.read_text(encoding="utf-8")
    assert set(external_urls(html)) <= {OSM_TILE_URL, "https://www.openstreetmap.org/copyright"}
    assert OSM_TILE_URL in html


def test_external_urls_catches_cdn_links():
    page = '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>' \
           '<link href="//netdna.bootstrapcdn.com/x.css">'
    assert len(external_urls(page)) == 2


def test_desktop_page_reads_assets_in_place_through_file_urls(demo_store, tmp_path):
    result = write_desktop_page(demo_store, tmp_path / "d.html", MapOptions(interactive=True,
                                                                           tile_url="fatiles://tile/{z}/{x}/{y}"))
    html = result.html_path.read_text(encoding="utf-8")
    assert external_urls(html, allowed=("https://www.openstreetmap.org/copyright",)) == []
    for ref in SRC.findall(html):
        if ref.startswith("qrc:"):
            continue
        assert ref.startswith("file://")
        assert Path(ref[len("file://"):]).is_file(), ref
    assert "qrc:///qtwebchannel/qwebchannel.js" in html


def test_bundled_assets_are_complete_with_fonts_images_and_licences():
    assert assets.missing() == []
    web = assets.web_dir()
    for css in web.rglob("*.css"):
        for url in CSS_URL.findall(css.read_text(encoding="utf-8")):
            if url.startswith(("data:", "#")):
                continue
            assert not url.startswith(("http:", "https:", "//")), (css, url)
            assert (css.parent / url.split("?")[0].split("#")[0]).is_file(), (css, url)
    readme = (web / "README.md").read_text(encoding="utf-8")
    for folder in sorted({p.split("/")[0] for _n, p in assets.SCRIPTS + assets.STYLES}):
        licences = [p for p in (web / folder).iterdir() if "LICEN" in p.name.upper()]
        assert licences, f"{folder} has no licence file"
        assert f"| {folder}/ |" in readme


def test_account_names_cannot_break_out_of_the_page_script(empty_store, tmp_path):
    with empty_store.atomic():
        writes.insert(empty_store, "accounts", {"name": "</script><script>alert(1)</script>", "lat": 30.0,
                                                "lon": -97.0, "state": "TX"})
    html = write_standalone(empty_store, tmp_path / "m.html", MapOptions(tile_url=None)).html_path.read_text()
    assert "</script><script>alert(1)" not in html
    assert html.count("<\\/script>") >= 1
