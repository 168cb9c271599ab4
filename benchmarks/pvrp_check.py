"""Check a periodic VRP plan against its Cordeau instance: recompute cost and every rule from the raw file.

Deliberately independent of core/rotation: it parses the file itself and trusts nothing in the plan
but the routes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def read(path: Path | str) -> dict:
    """The raw instance: m, n, t, per-day (D, Q), and per node x, y, d, q, f, pattern codes."""
    rows = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    _, m, n, t = (int(v) for v in rows[0][:4])
    limits = [(float(r[0]), float(r[1])) for r in rows[1: 1 + t]]
    nodes = {}
    for r in rows[1 + t: 2 + t + n]:
        i = int(r[0])
        a = int(r[6])
        nodes[i] = {"x": float(r[1]), "y": float(r[2]), "d": float(r[3]), "q": float(r[4]),
                    "f": int(r[5]), "codes": [int(v) for v in r[7: 7 + a]]}
    return {"m": m, "n": n, "t": t, "limits": limits, "nodes": nodes}


def check(instance: dict, plan: dict) -> tuple[float, list[str]]:
    """(cost, problems): unrounded Euclidean cost over all days and every broken rule."""
    nodes, t, m = instance["nodes"], instance["t"], instance["m"]

    def dist(a: int, b: int) -> float:
        return math.hypot(nodes[a]["x"] - nodes[b]["x"], nodes[a]["y"] - nodes[b]["y"])

    problems: list[str] = []
    cost = 0.0
    days_of: dict[int, list[int]] = {i: [] for i in nodes if i != 0}
    per_day: dict[int, int] = {}
    for k, route in enumerate(plan.get("routes", [])):
        day, customers = int(route["day"]), [int(c) for c in route["customers"]]
        if not 1 <= day <= t:
            problems.append(f"route {k}: day {day} outside 1..{t}")
            continue
        if not customers:
            continue
        unknown = [c for c in customers if c not in days_of]
        if unknown:
            problems.append(f"route {k}: unknown customer {unknown[0]}")
            continue
        per_day[day] = per_day.get(day, 0) + 1
        seq = [0, *customers, 0]
        length = sum(dist(a, b) for a, b in zip(seq, seq[1:]))
        cost += length
        duration_limit, capacity = instance["limits"][day - 1]
        load = sum(nodes[c]["q"] for c in customers)
        if capacity > 0 and load > capacity + 1e-6:
            problems.append(f"route {k} (day {day}): load {load:g} over capacity {capacity:g}")
        duration = length + sum(nodes[c]["d"] for c in customers)
        if duration_limit > 0 and duration > duration_limit + 1e-6:
            problems.append(f"route {k} (day {day}): duration {duration:.3f} over {duration_limit:g}")
        for c in customers:
            days_of[c].append(day)
    for day, count in per_day.items():
        if count > m:
            problems.append(f"day {day}: {count} routes but {m} vehicles")
    for c, days in days_of.items():
        node = nodes[c]
        if len(days) != len(set(days)):
            problems.append(f"customer {c}: visited twice on one day ({sorted(days)})")
        code = sum(1 << (t - d) for d in set(days))
        if len(days) != node["f"]:
            problems.append(f"customer {c}: {len(days)} visits, frequency {node['f']}")
        elif code not in node["codes"]:
            problems.append(f"customer {c}: days {sorted(days)} are not an allowed pattern")
    return cost, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("instance")
    parser.add_argument("plan")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cost, problems = check(read(args.instance), json.loads(Path(args.plan).read_text()))
    if args.json:
        print(json.dumps({"cost": cost, "feasible": not problems, "problems": problems}))
    else:
        print(f"cost {cost:.2f}; " + ("feasible" if not problems else f"{len(problems)} problems:"))
        for p in problems[:20]:
            print("  " + p)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
