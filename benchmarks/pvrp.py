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
from core.rotation.periodic import check_solution, solve_periodic  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("instance", help="a pNN.txt or prNN.txt file")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="plan JSON to write")
    parser.add_argument("--cpu", action="store_true",
                        help="the limit counts this process's CPU time, not wall time (to compare runs on a loaded "
                             "machine: a run that shares the cores then gets the same work done, only later)")
    args = parser.parse_args(argv)
    problem, _ = read_instance(args.instance)
    started, cpu_started = time.perf_counter(), time.process_time()
    solution = solve_periodic(problem, seconds=args.seconds, seed=args.seed,
                              clock=time.process_time if args.cpu else time.perf_counter)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    routes = [{"day": d + 1, "customers": r} for d, day in enumerate(solution.routes) for r in day]
    Path(args.out).write_text(json.dumps({"routes": routes, "cost": solution.cost, "seconds": elapsed,
                                          "cpu_seconds": cpu, "load_average": os.getloadavg()[0],
                                          "iterations": solution.iterations, "unserved": solution.unserved}))
    errors = check_solution(problem, solution)
    print(f"{Path(args.instance).stem}: cost {solution.cost:.2f} in {elapsed:.1f} s ({cpu:.1f} s CPU), "
          f"{solution.iterations} iterations, {len(errors)} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
