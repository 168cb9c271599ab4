"""Run benchmarks/pvrp.py on Cordeau's instances, check each plan, print the gap to the best known.

Writes benchmarks/results/pvrp_all.json (or --out). Each instance runs in its own subprocess so a crash in
one cannot hide the others; --jobs N runs N of them at once (one per core on a quiet machine: the 14 large
instances at 60 s take ~8 minutes on 2 cores instead of 14). Each row reports the CPU seconds its process got.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pvrp_check  # noqa: E402

DATA = HERE.parent.parent / "shared" / "bench" / "pvrp"
SMALL = ["p01", "p03", "p04", "p06", "p07", "p09", "p14", "p15", "p16", "p17", "p24", "p25", "p26", "pr01"]
MEDIUM = ["p02", "p05", "p08", "p10", "p18", "p19", "p21", "p22", "p27", "p28", "p29", "pr02", "pr07"]
LARGE = ["p12", "p13", "p20", "p23", "p30", "p31", "p32", "pr03", "pr04", "pr05", "pr06", "pr08", "pr09", "pr10"]
GROUPS = {"small": SMALL, "medium": MEDIUM, "large": LARGE}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--instances", default="small,medium",
                        help="comma list of names or groups (small, medium, large); default small,medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu", action="store_true", help="each instance's limit counts its CPU time (see pvrp.py)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="instances solved at once, each in its own process (at most one per free core)")
    parser.add_argument("--workers", type=int, default=1,
                        help="searches per instance, one process each, exchanging their best (pvrp.py --workers); "
                             "--jobs × --workers processes run at once")
    parser.add_argument("--exchanges", type=int, default=2,
                        help="with --workers > 1: hand-overs of the best plan per run (0 = independent, best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "pvrp_all.json")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    print(f"{args.seconds:g} s {'CPU' if args.cpu else 'wall'} per instance, seed {args.seed}, {args.jobs} job(s), "
          f"{args.workers} worker(s) each" + (f", {args.exchanges} exchange(s)" if args.workers > 1 else ""))
    names: list[str] = []
    for part in args.instances.split(","):
        names.extend(GROUPS.get(part.strip(), [part.strip()]))
    with open(args.data / "bks.csv", newline="") as fh:
        bks = {row["instance"]: float(row["best_known"]) for row in csv.DictReader(fh)}
    print(f"{'instance':<9}{'bks':>11}{'cost':>11}{'gap %':>8}{'feasible':>10}{'s':>7}{'cpu s':>7}{'load':>6}")
    with tempfile.TemporaryDirectory(prefix="pvrp_all_") as tmp:
        def run(name: str) -> dict:
            return _run_one(args, name, Path(tmp), bks)

        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            # Threads only wait on the subprocesses; rows print as they finish, the JSON keeps the given order.
            futures = {pool.submit(run, name): name for name in names}
            done = {}
            for future in concurrent.futures.as_completed(futures):
                row = future.result()
                done[row["instance"]] = row
                gap_text = "-" if row["gap_pct"] is None else f"{row['gap_pct']:.2f}"
                cost_text = "-" if row["cost"] is None else f"{row['cost']:.2f}"
                print(f"{row['instance']:<9}{row['bks'] or 0:>11.2f}{cost_text:>11}{gap_text:>8}"
                      f"{str(row['feasible']):>10}{row['seconds']:>7.0f}{row.get('cpu_seconds', 0):>7.1f}"
                      f"{row.get('load_average', 0):>6.1f}", flush=True)
        rows = [done[name] for name in names]
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    mean = sum(gaps) / len(gaps) if gaps else None
    feasible = sum(r["feasible"] for r in rows)
    print(f"mean gap {mean:.2f}% over {len(gaps)} instances; {feasible}/{len(rows)} feasible" if gaps else "no results")
    summary = {"seconds_per_instance": args.seconds, "clock": "cpu" if args.cpu else "wall", "seed": args.seed,
               "jobs": args.jobs, "workers": args.workers, "exchanges": args.exchanges if args.workers > 1 else 0,
               "instances": rows,
               "mean_gap_pct": None if mean is None else round(mean, 2), "feasible": feasible, "count": len(rows),
               "machine_note": "2-core machine shared with other engineers; timings are noisy"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    return 0 if feasible == len(rows) else 1


def _run_one(args: argparse.Namespace, name: str, tmp: Path, bks: dict[str, float]) -> dict:
    """Solve one instance in a subprocess and check its plan independently; the result row."""
    instance = args.data / f"{name}.txt"
    plan_path = tmp / f"{name}.json"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "pvrp.py"), str(instance), "--seconds",
                           str(args.seconds), "--seed", str(args.seed), "--out", str(plan_path),
                           "--workers", str(args.workers), "--exchanges", str(args.exchanges),
                           *(["--cpu"] if args.cpu else [])],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or not plan_path.exists():
        return {"instance": name, "bks": bks.get(name), "cost": None, "gap_pct": None, "feasible": False,
                "seconds": round(elapsed, 1), "problems": [proc.stderr.strip().splitlines()[-1:]]}
    plan = json.loads(plan_path.read_text())
    cost, problems = pvrp_check.check(pvrp_check.read(instance), plan)
    gap = 100 * (cost - bks[name]) / bks[name] if name in bks else None
    # CPU seconds and the load average at the end say how much of the machine the run really had.
    return {"instance": name, "bks": bks.get(name), "cost": round(cost, 2),
            "gap_pct": None if gap is None else round(gap, 2), "feasible": not problems,
            "seconds": round(elapsed, 1), "cpu_seconds": round(plan.get("cpu_seconds", 0.0), 1),
            "load_average": round(plan.get("load_average", 0.0), 1), "workers": plan.get("workers", 1),
            "segment_costs": plan.get("segment_costs"), "problems": problems[:5]}


if __name__ == "__main__":
    sys.exit(main())
