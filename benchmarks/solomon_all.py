"""All 56 Solomon instances: the app's routing (core.routing) next to plain PyVRP at the same time limit.

    python benchmarks/solomon_all.py [--seconds 10] [--only C1,R101,...] [--out benchmarks/results/solomon.json]

Both plans are checked by solomon_check (distance recomputed from the routes; reported costs are never
trusted). Prints gap to the distance BKS and to PyVRP; writes JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.solomon import solve_instance  # noqa: E402
from benchmarks.solomon_check import Instance, check, read_instance  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "solomon"
if not DATA.exists():
    DATA = Path("/work/shared/bench/solomon")
SCALE = 1000


def pyvrp_direct(inst: Instance, seconds: float, seed: int = 1) -> list[list[int]]:
    """The reference: a plain pyvrp.Model, same integer scaling (durations rounded up) as core.routing."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    m = Model()
    m.add_vehicle_type(num_available=inst.vehicles, capacity=[inst.capacity], tw_early=int(inst.rows[0][4] * SCALE),
                       tw_late=int(inst.rows[0][5] * SCALE))
    locs = []
    for k, (cid, x, y, q, r, d, s) in enumerate(inst.rows):
        loc = m.add_location(x=x, y=y)
        locs.append(loc)
        if k == 0:
            m.add_depot(loc, tw_early=int(r * SCALE), tw_late=int(d * SCALE))
        else:
            m.add_client(loc, delivery=[q], service_duration=int(s * SCALE), tw_early=int(r * SCALE),
                         tw_late=int(d * SCALE))
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                e = inst.dist(i, j)
                m.add_edge(a, b, distance=int(round(e * SCALE)), duration=int(math.ceil(e * SCALE - 1e-9)))
    best = m.solve(MaxRuntime(seconds), seed=seed, display=False).best
    return [[act.idx + 1 for act in r.schedule() if act.is_client()] for r in best.routes()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--only", default="", help="comma-separated instance names or prefixes (default: all)")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "solomon.json"))
    args = ap.parse_args(argv)
    bks = {r["instance"]: float(r["distance"]) for r in csv.DictReader(open(Path(args.data) / "bks.csv"))
           if r["objective"] == "distance"}
    files = sorted(Path(args.data).glob("*.txt"))
    if args.only:
        wanted = [w.strip().upper() for w in args.only.split(",") if w.strip()]
        files = [f for f in files if any(f.stem.upper().startswith(w) for w in wanted)]
    rows = []
    print(f"{'inst':6} {'bks':>9} {'ours':>9} {'ok':>3} {'pyvrp':>9} {'ok':>3} {'gap bks':>8} {'vs pyvrp':>8}")
    for f in files:
        inst = read_instance(f)
        t0 = time.perf_counter()
        ours = check(inst, solve_instance(f, args.seconds))
        t1 = time.perf_counter()
        ref = check(inst, pyvrp_direct(inst, args.seconds))
        t2 = time.perf_counter()
        best = bks.get(f.stem.upper())
        row = {"instance": f.stem.upper(), "bks": best, "ours": ours["distance"], "ours_feasible": ours["feasible"],
               "ours_routes": ours["routes"], "ours_seconds": t1 - t0, "pyvrp": ref["distance"],
               "pyvrp_feasible": ref["feasible"], "pyvrp_routes": ref["routes"], "pyvrp_seconds": t2 - t1,
               "gap_bks_pct": 100 * (ours["distance"] / best - 1) if best else None,
               "pyvrp_gap_bks_pct": 100 * (ref["distance"] / best - 1) if best else None,
               "vs_pyvrp_pct": 100 * (ours["distance"] / ref["distance"] - 1),
               "problems": ours["problems"][:5]}
        rows.append(row)
        print(f"{row['instance']:6} {best or 0:9.2f} {row['ours']:9.2f} {'yes' if row['ours_feasible'] else 'NO':>3} "
              f"{row['pyvrp']:9.2f} {'yes' if row['pyvrp_feasible'] else 'NO':>3} "
              f"{row['gap_bks_pct'] or 0:7.2f}% {row['vs_pyvrp_pct']:7.2f}%", flush=True)
    n = len(rows)
    summary = {
        "instances": n, "seconds": args.seconds,
        "all_feasible": all(r["ours_feasible"] for r in rows),
        "mean_gap_bks_pct": sum(r["gap_bks_pct"] or 0 for r in rows) / n if n else None,
        "pyvrp_mean_gap_bks_pct": sum(r["pyvrp_gap_bks_pct"] or 0 for r in rows) / n if n else None,
        "mean_vs_pyvrp_pct": sum(r["vs_pyvrp_pct"] for r in rows) / n if n else None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_end": os.getloadavg()},
    }
    print(f"mean gap to BKS: ours {summary['mean_gap_bks_pct']:.2f}%, plain PyVRP {summary['pyvrp_mean_gap_bks_pct']:.2f}%; "
          f"ours vs PyVRP {summary['mean_vs_pyvrp_pct']:+.2f}%; all feasible: {summary['all_feasible']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 0 if summary["all_feasible"] else 1


if __name__ == "__main__":
    sys.exit(main())
