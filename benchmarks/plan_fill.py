"""How full the planned days are: share of working hours filled per day for every demo rep, and the day spread.

    python benchmarks/plan_fill.py [--db DEMO.sqlite] [--start YYYY-MM-DD] [--days 5] [--seconds 3]

For each rep: plan_week (due accounts, then accounts pulled forward to fill the days) and read each
day's leave-to-back time against the working hours (target >= 85 % where the rep has enough
accounts), why a short day stays short, and longest - shortest day. Then the same for a plan over
chosen accounts (the rep's 30 nearest-due) with and without day balancing: the spread it leaves.
Writes benchmarks/results/plan_fill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.demo import DemoSpec, write_demo  # noqa: E402
from core.planning import PlanOptions, plan_week  # noqa: E402
from core.planning.week import FULL_DAY, coming_due, due_accounts  # noqa: E402
from core.routing.solver import day_length  # noqa: E402
from core.storage import open_database  # noqa: E402


def spread(plan) -> float:
    lengths = [day_length(r) for r in plan.result.routes]
    return max(lengths) - min(lengths) if lengths else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="")
    ap.add_argument("--start", default="2026-11-23", help="a Monday after the demo's history")
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "plan_fill.json"))
    args = ap.parse_args(argv)
    start = date.fromisoformat(args.start)
    path = args.db
    if not path:
        path = os.path.join(tempfile.mkdtemp(prefix="plan-fill-"), "demo.sqlite")
        write_demo(path, DemoSpec(today=date(2026, 11, 20)))
    store = open_database(Path(path))
    reps = store.conn.execute("SELECT id, name FROM reps WHERE role = 'rep' AND deleted_at IS NULL ORDER BY name").fetchall()
    rows = []
    print(f"{'rep':<16} {'accts':>5} {'visits':>6}  fill per day                    {'mean':>5} {'spread':>6}  why short")
    for rep_id, name in reps:
        plan = plan_week(store, rep_id, start, args.days, seconds=args.seconds)
        fills = [plan.fill(r.shift_id) for r in plan.result.routes]
        accounts = store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ? AND deleted_at IS NULL "
                                "AND status = 'active'", (rep_id,))
        notes = sorted(set(plan.notes.values()))
        # "Enough accounts": the pool of due and coming-due accounts was not used up.
        enough = not any("nothing else is due" in n or "every account" in n for n in notes)
        row = {"rep": name, "accounts": accounts, "visits": len(plan.result.served), "fill": [round(f, 3) for f in fills],
               "mean_fill": round(statistics.mean(fills), 3) if fills else 0.0,
               "days_at_target": sum(f >= FULL_DAY for f in fills), "days": len(fills),
               "spread_minutes": round(spread(plan)), "enough_accounts": enough, "why_short": notes,
               "runtime_s": round(plan.result.runtime, 2), "engine": plan.result.engine}
        rows.append(row)
        print(f"{name:<16} {accounts:5} {row['visits']:6}  {' '.join(f'{f:4.0%}' for f in fills):<30} "
              f"{row['mean_fill']:5.0%} {row['spread_minutes']:5}m  {'; '.join(notes)[:70]}")
    # Chosen accounts over the days: balancing on vs off.
    chosen_rows = []
    print(f"\nChosen accounts (30 per rep) over {args.days} days: longest - shortest day, minutes")
    print(f"{'rep':<16} {'balanced':>8} {'unbalanced':>10} {'drive bal':>9} {'drive unbal':>11}")
    for rep_id, name in reps:
        ids = [a["id"] for a in due_accounts(store, rep_id, start, args.days)]
        ids += [a["id"] for a in coming_due(store, rep_id, start, args.days, exclude=ids)]
        ids = ids[:30]
        on = plan_week(store, rep_id, start, args.days, seconds=args.seconds, account_ids=ids)
        off = plan_week(store, rep_id, start, args.days, seconds=args.seconds, account_ids=ids,
                        options=replace(PlanOptions(), balance=0.0))
        chosen_rows.append({"rep": name, "accounts": len(ids), "spread_balanced": round(spread(on)),
                            "spread_unbalanced": round(spread(off)), "drive_balanced": round(on.result.drive_minutes),
                            "drive_unbalanced": round(off.result.drive_minutes),
                            "served_balanced": len(on.result.served), "served_unbalanced": len(off.result.served)})
        c = chosen_rows[-1]
        print(f"{name:<16} {c['spread_balanced']:8} {c['spread_unbalanced']:10} {c['drive_balanced']:9} "
              f"{c['drive_unbalanced']:11}")
    enough = [r for r in rows if r["enough_accounts"]]
    summary = {
        "start": args.start, "days": args.days, "seconds": args.seconds, "target_fill": FULL_DAY,
        "reps_with_enough_accounts": len(enough),
        "mean_fill_enough": round(statistics.mean(r["mean_fill"] for r in enough), 3) if enough else None,
        "min_day_fill_enough": min((f for r in enough for f in r["fill"]), default=None),
        "share_days_at_target_enough": round(sum(r["days_at_target"] for r in enough)
                                             / max(1, sum(r["days"] for r in enough)), 3),
        "mean_spread_minutes": round(statistics.mean(r["spread_minutes"] for r in rows)),
        "chosen_mean_spread_balanced": round(statistics.mean(c["spread_balanced"] for c in chosen_rows)),
        "chosen_mean_spread_unbalanced": round(statistics.mean(c["spread_unbalanced"] for c in chosen_rows)),
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }
    print(f"\nreps with enough accounts: {len(enough)}; their mean fill {summary['mean_fill_enough']}, "
          f"days at >= {FULL_DAY:.0%}: {summary['share_days_at_target_enough']:.0%}; "
          f"chosen-account spread {summary['chosen_mean_spread_balanced']} min balanced vs "
          f"{summary['chosen_mean_spread_unbalanced']} unbalanced; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "reps": rows, "chosen": chosen_rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
