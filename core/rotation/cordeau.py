"""Read periodic VRP instances in Cordeau's text format into a PeriodicProblem."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.rotation.periodic import PeriodicProblem


def pattern_days(code: int, days: int) -> tuple[int, ...]:
    """0-based days of a pattern code whose most significant bit is day 1 (t=5: 10 → (1, 3))."""
    return tuple(d for d in range(days) if code & (1 << (days - 1 - d)))


def read_instance(path: Path | str) -> tuple[PeriodicProblem, np.ndarray]:
    """(problem, coordinates) from a pNN/prNN file; raises ValueError naming the line that is wrong."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    try:
        kind, m, n, t = (int(v) for v in lines[0][:4])
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: line 1 must be 'type m n t'") from exc
    if kind != 1:
        raise ValueError(f"{path}: type {kind} is not a periodic VRP (type 1)")
    durations, capacities = [], []
    for i in range(t):
        d, q = (float(v) for v in lines[1 + i][:2])
        durations.append(d if d > 0 else None)
        capacities.append(q if q > 0 else None)
    coords = np.zeros((n + 1, 2))
    demand, service, patterns = [0.0] * (n + 1), [0.0] * (n + 1), [()] * (n + 1)
    for row in lines[1 + t: 2 + t + n]:
        i = int(row[0])
        coords[i] = float(row[1]), float(row[2])
        service[i], demand[i] = float(row[3]), float(row[4])
        if i == 0:
            continue
        a = int(row[6])
        codes = [int(v) for v in row[7: 7 + a]]
        patterns[i] = tuple(pattern_days(c, t) for c in codes)
    diff = coords[:, None, :] - coords[None, :, :]
    travel = np.sqrt((diff ** 2).sum(axis=2))
    problem = PeriodicProblem(
        travel=travel, demand=tuple(demand), service=tuple(service), patterns=tuple(patterns),
        vehicles=tuple([m] * t), capacity=tuple(capacities), max_duration=tuple(durations),
    )
    return problem, coords
