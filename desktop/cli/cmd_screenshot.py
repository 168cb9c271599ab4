"""`fieldatlas screenshot`: render a desktop view offscreen to a PNG."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from desktop.cli.common import CliError, add_json_argument, emit, iso_date, open_store
from desktop.screenshot import view_names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshot", help="render a view of the desktop to a PNG (works without a display)")
    p.add_argument("--db", metavar="PATH", required=True, help="the FieldAtlas database file")
    p.add_argument("--view", required=True, choices=view_names(), help="which view to render")
    p.add_argument("--out", metavar="FILE.png", required=True, help="where to write the PNG")
    p.add_argument("--size", default="1400x860", help="window size WIDTHxHEIGHT (default 1400x860)")
    p.add_argument("--rep", help="--view plan: solve a plan for this rep (id or name) and show it")
    p.add_argument("--start", type=iso_date, help="--view plan: first day of that plan (YYYY-MM-DD)")
    p.add_argument("--days", type=int, default=5, help="--view plan: days of that plan (default 5)")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise CliError(f"--size must look like 1400x860, got {args.size!r}") from None
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CliError("--out must be a .png file")
    # Offscreen unless the user has a display and asked for another platform.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    options = None
    if args.rep or args.start:
        if not (args.rep and args.start):
            raise CliError("--rep and --start go together (a plan needs both)")
        if not 1 <= args.days <= 14:
            raise CliError(f"--days: must be between 1 and 14 (got {args.days})")
        options = {"rep": args.rep, "start": args.start, "days": args.days}
    store = open_store(args.db)
    try:
        from desktop.screenshot import render_view

        try:
            render_view(store, args.view, out, size=(width, height), options=options)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    finally:
        store.close()
    emit(args, f"Wrote {out}", {"out": str(out), "view": args.view, "width": width, "height": height})
    return 0
