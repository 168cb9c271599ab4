"""`fieldatlas map`: write a standalone map page that opens in any browser, offline."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from desktop.cli.common import BarProgress, CliError, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "map", help="write a map of accounts, territories and routes to an HTML page that works offline",
        description="Write a standalone map page. Its scripts, styles and fonts are copied into a folder "
                    "beside it (NAME_files/), so it opens in any browser with no network.")
    p.add_argument("--db", metavar="PATH", required=True, help="the FieldAtlas database file")
    p.add_argument("--out", metavar="FILE.html", required=True, help="where to write the page")
    p.add_argument("--territory", metavar="T", help="only this territory's accounts (id or exact name), highlighted")
    p.add_argument("--rep", metavar="R", help="only this rep's accounts and routes (id, email or name)")
    p.add_argument("--color-by", choices=("owner", "territory", "tier"), default="owner",
                   help="colour accounts by owner (default), territory or tier")
    p.add_argument("--tiles", metavar="URL", default=None,
                   help="online street tiles offered as an optional layer (default: OpenStreetMap; "
                        "'none' for a page with no online layer at all)")
    add_json_argument(p)
    p.set_defaults(func=run)


def _count(n: int, one: str, many: str | None = None) -> str:
    """'1 territory', '9 territories'."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def run(args: argparse.Namespace) -> int:
    from core.maps.layers import MapError, MapOptions
    from core.maps.page import OSM_TILE_URL, write_standalone

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise CliError(f"--out must be an .html file (got {args.out!r})")
    if out.parent and not out.parent.exists():
        raise CliError(f"the folder {out.parent} does not exist")
    tiles = args.tiles if args.tiles is not None else OSM_TILE_URL
    if tiles.lower() == "none":
        tiles = None
    elif not tiles.startswith(("http://", "https://")) or "{z}" not in tiles:
        raise CliError(f"--tiles must be an http(s) URL with {{z}}/{{x}}/{{y}} in it (got {tiles!r})")
    options = MapOptions(color_by=args.color_by, territory=args.territory, rep=args.rep, tile_url=tiles)
    store = open_store(args.db)
    started = time.perf_counter()
    try:
        with BarProgress("Drawing the map") as bar:
            result = write_standalone(store, out, options, progress=bar)
    except MapError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    seconds = time.perf_counter() - started
    emit(args,
         f"Wrote {result.html_path} ({_count(result.accounts, 'account')}, "
         f"{_count(result.territories, 'territory', 'territories')}, {_count(result.routes, 'route')}; {result.html_bytes / 1e6:.1f} MB) with its assets in {result.assets_dir}/ "
         f"in {seconds:.1f} s",
         {"out": str(result.html_path), "assets": str(result.assets_dir), "accounts": result.accounts,
          "territories": result.territories, "routes": result.routes, "html_bytes": result.html_bytes,
          "seconds": round(seconds, 3)})
    return 0
