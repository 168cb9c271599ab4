"""`fieldatlas demo`: write a deterministic demo database."""

from __future__ import annotations

import argparse
import time

from core.demo import DemoError, DemoSpec, write_demo
from desktop.cli.common import BarProgress, CliError, add_json_argument, emit, iso_date


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write a realistic demo database",
                       description="Write a deterministic demo database: reps in real cities, accounts at real "
                                   "ZIP centroids, three months of visits, trips, expenses and leads.")
    p.add_argument("--db", metavar="PATH", required=True, help="where to write it (must not exist)")
    p.add_argument("--accounts", type=int, default=1500, help="number of accounts (default 1500)")
    p.add_argument("--reps", type=int, default=8, help="number of field reps (default 8)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same data")
    p.add_argument("--region", default="TX", help="two-letter US state (default TX)")
    p.add_argument("--today", type=iso_date, default=None,
                   help="date the history ends (YYYY-MM-DD, default today)")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = DemoSpec(accounts=args.accounts, reps=args.reps, seed=args.seed, region=args.region, today=args.today)
    started = time.perf_counter()
    try:
        with BarProgress("Writing demo") as bar:
            path = write_demo(args.db, spec, progress=bar)
    except DemoError as exc:
        raise CliError(str(exc)) from exc
    seconds = time.perf_counter() - started
    emit(args, f"Wrote {path} ({spec.accounts:,} accounts, {spec.reps} reps, region {spec.region.upper()}) "
               f"in {seconds:.1f} s",
         {"db": str(path), "accounts": spec.accounts, "reps": spec.reps, "region": spec.region.upper(),
          "seed": spec.seed, "seconds": round(seconds, 3)})
    return 0
