"""Solve one periodic VRP instance (Cordeau's format) with the app's rotation solver and write the plan."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from core.rotation.cordeau import read_instance  # noqa: E402
from core.rotation.islands import EXCHANGES, run_islands  # noqa: E402
from core.rotation.periodic import check_solution  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("instance", help="a pNN.txt or prNN.txt file")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="plan JSON to write")
    parser.add_argument("--cpu", action="store_true",
                        help="the limit counts this process's CPU time, not wall time (to compare runs on a loaded "
                             "machine: a run that shares the cores then gets the same work done, only later)")
    parser.add_argument("--workers", type=int, default=1,
                        help="searches run at once, one process each (core/rotation/islands.py); 1 = one search "
                             "in this process. With --cpu each worker stops at its own CPU seconds")
    parser.add_argument("--exchanges", type=int, default=EXCHANGES,
                        help="with --workers > 1: times all workers go on from the best plan (0 = independent "
                             f"searches, best kept); default {EXCHANGES}")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    problem, _ = read_instance(args.instance)
    started, cpu_started = time.perf_counter(), time.process_time()
    run = run_islands(problem, seconds=args.seconds, seed=args.seed, workers=args.workers,
                      exchanges=args.exchanges, clock=time.process_time if args.cpu else time.perf_counter)
    solution = run.solution
    # The workers' CPU counts too: two workers at 20 CPU-s each are 40 CPU-s of work.
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started + sum(run.worker_cpu)
    routes = [{"day": d + 1, "customers": r} for d, day in enumerate(solution.routes) for r in day]
    Path(args.out).write_text(json.dumps({"routes": routes, "cost": solution.cost, "seconds": elapsed,
                                          "cpu_seconds": cpu, "load_average": os.getloadavg()[0],
                                          "iterations": solution.iterations, "unserved": solution.unserved,
                                          "workers": args.workers,
                                          "exchanges": args.exchanges if args.workers > 1 else 0,
                                          "segment_costs": run.segment_costs, "crashed_workers": run.crashed}))
    errors = check_solution(problem, solution)
    print(f"{Path(args.instance).stem}: cost {solution.cost:.2f} in {elapsed:.1f} s ({cpu:.1f} s CPU), "
          f"{solution.iterations} iterations, {args.workers} worker(s), {len(errors)} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
