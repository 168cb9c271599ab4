"""Solve one Solomon VRPTW instance with the app's own routing code (core.routing) and write the routes.

    python benchmarks/solomon.py INSTANCE.txt --seconds S --out routes.json

Distance objective, Euclidean double distances (travel time = distance), service times, time windows,
capacity and fleet size from the file; every customer required. Output: {"routes": [[ids...], ...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.solomon_check import Instance, read_instance  # noqa: E402
from core.routing import MaxRuntime, PlaneMatrix, RoutingProblem, Shift, Stop, solve  # noqa: E402


def build_problem(inst: Instance) -> RoutingProblem:
    """The instance as a core RoutingProblem: one shift type with the file's fleet and capacity."""
    depot = inst.rows[0]
    stops = [Stop(id=cid, lat=x, lon=y, service_minutes=s, windows=((r, d),), demand=q, required=True)
             for cid, x, y, q, r, d, s in inst.rows[1:]]
    fleet = Shift(id="fleet", start=(depot[1], depot[2]), start_min=depot[4], end_min=depot[5],
                  capacity=inst.capacity, count=inst.vehicles)
    return RoutingProblem(tuple(stops), (fleet,), matrix=PlaneMatrix(), objective="distance")


def solve_instance(path: str | Path, seconds: float, seed: int = 1) -> list[list[int]]:
    result = solve(build_problem(read_instance(path)), stop=MaxRuntime(seconds), seed=seed)
    return [r.stop_ids for r in result.routes if r.visits]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Solve a Solomon instance with core.routing.")
    ap.add_argument("instance")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    routes = solve_instance(args.instance, args.seconds, args.seed)
    Path(args.out).write_text(json.dumps({"routes": routes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
