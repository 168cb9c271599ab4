"""How full the planned days are: share of working hours filled per day for every demo rep, and the day spread.

    python benchmarks/plan_fill.py [--db DEMO.sqlite] [--start YYYY-MM-DD] [--days 5] [--seconds 3] [--chosen]

For each rep: plan_week (due accounts, then accounts pulled forward to fill the days) and read each
day's leave-to-back time against the working hours (target >= 85 % where the rep has enough
accounts), visits a day, driving minutes per visit, why a short day stays short, and longest -
shortest day; each twice: "search" is the route engine's plan alone (PlanOptions(fill_slack=False)),
"filled" adds core.planning.fill (visits moved to the day that passes them, time left filled).
With --chosen, also a plan over chosen accounts (the rep's 30 nearest-due) with and without day
balancing: the spread it leaves. Writes benchmarks/results/plan_fill.json.
"""

from __future__ import annotations

import argparse
import json
import time
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
    ap.add_argument("--chosen", action="store_true", help="also the chosen-accounts balancing comparison")
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
    print(f"{'rep':<16} {'accts':>5} {'mode':<6} {'visits':>6} {'v/day':>5} {'drv/v':>5}  fill per day"
          f"{'':<19} {'mean':>5} {'>=85%':>5} {'cpu s':>5}  why short")
    for rep_id, name in reps:
        accounts = store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ? AND deleted_at IS NULL "
                                "AND status = 'active'", (rep_id,))
        row = {"rep": name, "accounts": accounts}
        for mode, fill_slack in (("search", False), ("filled", True)):
            cpu = time.process_time()
            plan = plan_week(store, rep_id, start, args.days, seconds=args.seconds,
                             options=replace(PlanOptions(), fill_slack=fill_slack))
            cpu = time.process_time() - cpu
            fills = [plan.fill(r.shift_id) for r in plan.result.routes]
            visits = len(plan.result.served)
            notes = sorted(set(plan.notes.values()))
            # "Enough accounts": the pool of due and coming-due accounts was not used up.
            enough = not any("nothing else is due" in n or "every account" in n for n in notes)
            part = {"visits": visits, "fill": [round(f, 3) for f in fills],
                    "mean_fill": round(statistics.mean(fills), 3) if fills else 0.0,
                    "days_at_target": sum(f >= FULL_DAY for f in fills), "days": len(fills),
                    "visits_per_day": round(visits / max(1, len(fills)), 2),
                    "drive_minutes": round(plan.result.drive_minutes),
                    "drive_per_visit": round(plan.result.drive_minutes / max(1, visits), 1),
                    "not_planned": len(plan.result.unserved),
                    "spread_minutes": round(spread(plan)), "enough_accounts": enough, "why_short": notes,
                    "runtime_s": round(plan.result.runtime, 2), "cpu_s": round(cpu, 2), "engine": plan.result.engine,
                    "iterations": plan.result.iterations, "stopped_by": plan.result.stopped_by}
            row[mode] = part
            print(f"{name if mode == 'search' else '':<16} {accounts if mode == 'search' else '':>5} {mode:<6} "
                  f"{visits:6} {part['visits_per_day']:5.1f} {part['drive_per_visit']:5.1f}  "
                  f"{' '.join(f'{f:4.0%}' for f in fills):<30} {part['mean_fill']:5.0%} "
                  f"{part['days_at_target']:>2}/{part['days']:<2} {cpu:5.2f}  {'; '.join(notes)[:60]}")
        row.update(row["filled"])  # the top-level figures are the plan as the app makes it
        rows.append(row)
    # Chosen accounts over the days: balancing on vs off.
    chosen_rows = []
    if args.chosen:
        print(f"\nChosen accounts (30 per rep) over {args.days} days: longest - shortest day, minutes")
        print(f"{'rep':<16} {'balanced':>8} {'unbalanced':>10} {'drive bal':>9} {'drive unbal':>11}")
    for rep_id, name in (reps if args.chosen else []):
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

    def figures(mode: str) -> dict:
        parts = [r[mode] for r in rows]
        enough = [p for p in parts if p["enough_accounts"]]
        return {
            "reps_with_enough_accounts": len(enough),
            "mean_fill_enough": round(statistics.mean(p["mean_fill"] for p in enough), 3) if enough else None,
            "min_day_fill_enough": min((f for p in enough for f in p["fill"]), default=None),
            "share_days_at_target_enough": round(sum(p["days_at_target"] for p in enough)
                                                 / max(1, sum(p["days"] for p in enough)), 3),
            "visits": sum(p["visits"] for p in parts),
            "mean_visits_per_day": round(statistics.mean(p["visits_per_day"] for p in parts), 2),
            "drive_per_visit": round(sum(p["drive_minutes"] for p in parts) / max(1, sum(p["visits"] for p in parts)), 1),
            "mean_spread_minutes": round(statistics.mean(p["spread_minutes"] for p in parts)),
            "cpu_s": round(sum(p["cpu_s"] for p in parts), 2),
        }

    summary = {
        "start": args.start, "days": args.days, "seconds": args.seconds, "target_fill": FULL_DAY,
        "search": figures("search"), "filled": figures("filled"),
        "chosen_mean_spread_balanced": round(statistics.mean(c["spread_balanced"] for c in chosen_rows))
        if chosen_rows else None,
        "chosen_mean_spread_unbalanced": round(statistics.mean(c["spread_unbalanced"] for c in chosen_rows))
        if chosen_rows else None,
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }
    print()
    for mode in ("search", "filled"):
        f = summary[mode]
        print(f"{mode:<6}: {f['visits']} visits, {f['mean_visits_per_day']:.1f} a day, {f['drive_per_visit']:.1f} min "
              f"driving a visit; reps with enough accounts: {f['reps_with_enough_accounts']}, their mean fill "
              f"{f['mean_fill_enough']}, days at >= {FULL_DAY:.0%}: {f['share_days_at_target_enough']:.0%} "
              f"(lowest day {f['min_day_fill_enough']}); CPU {f['cpu_s']:.1f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times are under that load)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "reps": rows, "chosen": chosen_rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
