"""Solve one periodic VRP instance (Cordeau's format) with the app's rotation solver and write the plan."""

from __future__ import annotations

import argparse
import json
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
    args = parser.parse_args(argv)
    problem, _ = read_instance(args.instance)
    started = time.perf_counter()
    solution = solve_periodic(problem, seconds=args.seconds, seed=args.seed)
    elapsed = time.perf_counter() - started
    routes = [{"day": d + 1, "customers": r} for d, day in enumerate(solution.routes) for r in day]
    Path(args.out).write_text(json.dumps({"routes": routes, "cost": solution.cost, "seconds": elapsed,
                                          "iterations": solution.iterations, "unserved": solution.unserved}))
    errors = check_solution(problem, solution)
    print(f"{Path(args.instance).stem}: cost {solution.cost:.2f} in {elapsed:.1f} s, "
          f"{solution.iterations} iterations, {len(errors)} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
