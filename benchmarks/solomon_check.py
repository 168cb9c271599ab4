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


FIELDS = ("customer id", "x coordinate", "y coordinate", "demand", "ready time", "due date", "service time")


def read_instance(path: str | Path) -> Instance:
    """Parse the usual Solomon text format (VEHICLE section, then the CUSTOMER table).

    Coordinates and times may be negative or decimal; a value that is not a number is reported with its
    line number and column name.
    """
    lines = Path(path).read_text().splitlines()
    name = lines[0].strip() if lines else ""
    vehicles = capacity = None
    rows = []
    in_table = False
    for i, raw in enumerate(lines):
        ln = raw.strip()
        if ln.upper().startswith("NUMBER") and vehicles is None:
            try:
                vehicles, capacity = (int(x) for x in lines[i + 1].split()[:2])
            except (ValueError, IndexError):
                raise ValueError(f"{path}, line {i + 2}: expected the number of vehicles and the capacity, "
                                 f"got {lines[i + 1].strip() if i + 1 < len(lines) else ''!r}") from None
            continue
        if ln.upper().startswith("CUST"):
            in_table = ln.upper().startswith("CUST NO") or in_table
            continue
        if not in_table or not ln:
            continue
        parts = ln.split()
        if len(parts) != 7:
            raise ValueError(f"{path}, line {i + 1}: expected 7 columns ({', '.join(FIELDS)}), got {len(parts)}")
        values = []
        for field_name, text in zip(FIELDS, parts):
            try:
                values.append(float(text))
            except ValueError:
                raise ValueError(f"{path}, line {i + 1}: {field_name} {text!r} is not a number") from None
        cid, x, y, q, r, d, s = values
        if cid != int(cid) or q != int(q):
            raise ValueError(f"{path}, line {i + 1}: customer id and demand must be whole numbers")
        rows.append((int(cid), x, y, int(q), r, d, s))
    if vehicles is None:
        raise ValueError(f"{path}: no VEHICLE section (NUMBER / CAPACITY)")
    rows.sort()
    if not rows or [r[0] for r in rows] != list(range(len(rows))):
        ids = [r[0] for r in rows]
        raise ValueError(f"{path}: customer ids must run 0..n (depot 0), got {ids[:3]}…{ids[-3:]}" if ids
                         else f"{path}: no customer rows after the CUST NO. header")
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
