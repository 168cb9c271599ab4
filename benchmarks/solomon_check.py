"""Check a Solomon VRPTW plan from its routes alone: every customer once, capacity, time windows, horizon; recompute distance.

    python benchmarks/solomon_check.py INSTANCE.txt routes.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

TOL = 1e-6


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    # rows: (id, x, y, demand, ready, due, service); row 0 is the depot
    rows: tuple[tuple[int, float, float, int, float, float, float], ...]

    def dist(self, i: int, j: int) -> float:
        a, b = self.rows[i], self.rows[j]
        return math.hypot(a[1] - b[1], a[2] - b[2])


def read_instance(path: str | Path) -> Instance:
    """Parse the usual Solomon text format (VEHICLE section, then the CUSTOMER table)."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
    name = lines[0]
    vehicles = capacity = None
    rows = []
    for i, ln in enumerate(lines):
        if ln.upper().startswith("NUMBER") and vehicles is None:
            vehicles, capacity = (int(x) for x in lines[i + 1].split()[:2])
        parts = ln.split()
        if len(parts) == 7 and all(p.replace(".", "", 1).isdigit() for p in parts) and vehicles is not None:
            cid, x, y, q, r, d, s = parts
            rows.append((int(cid), float(x), float(y), int(float(q)), float(r), float(d), float(s)))
    rows.sort()
    if not rows or rows[0][0] != 0 or [r[0] for r in rows] != list(range(len(rows))):
        raise ValueError(f"{path}: customer ids must run 0..n")
    return Instance(name, vehicles, capacity, tuple(rows))


def check(inst: Instance, routes: list[list[int]]) -> dict:
    """Recompute distance and list every violation (empty list = feasible)."""
    problems = []
    seen: dict[int, int] = {}
    total = 0.0
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        problems.append(f"{len(used)} routes but only {inst.vehicles} vehicles")
    horizon = inst.rows[0][5]
    for k, route in enumerate(used):
        load, t, here = 0, 0.0, 0
        for c in route:
            if not 1 <= c < len(inst.rows):
                problems.append(f"route {k}: unknown customer {c}")
                continue
            seen[c] = seen.get(c, 0) + 1
            _, _, _, q, ready, due, service = inst.rows[c]
            d = inst.dist(here, c)
            total += d
            t = max(t + d, ready)
            if t > due + TOL:
                problems.append(f"route {k}: customer {c} starts at {t:.3f} after due {due:g}")
            t += service
            load += q
            here = c
        d = inst.dist(here, 0)
        total += d
        t += d
        if t > horizon + TOL:
            problems.append(f"route {k}: back at {t:.3f} after horizon {horizon:g}")
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} over capacity {inst.capacity}")
    for c in range(1, len(inst.rows)):
        if seen.get(c, 0) != 1:
            problems.append(f"customer {c} visited {seen.get(c, 0)} times")
    return {"instance": inst.name, "distance": total, "routes": len(used), "feasible": not problems,
            "problems": problems}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("routes")
    args = ap.parse_args(argv)
    report = check(read_instance(args.instance), json.loads(Path(args.routes).read_text())["routes"])
    print(json.dumps({k: v for k, v in report.items() if k != "problems"}), *report["problems"][:20], sep="\n")
    return 0 if report["feasible"] else 1


if __name__ == "__main__":
    sys.exit(main())
