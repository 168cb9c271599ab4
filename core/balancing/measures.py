"""Figures of a plan (rep index per account): per-rep books, deviation from target, travel, moves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.balancing.problem import BalanceOptions, BalanceProblem


@dataclass(frozen=True)
class RepFigures:
    """One rep's book under a plan."""

    rep_id: int
    name: str
    accounts: int
    workload_hours: float
    target_hours: float
    capacity_hours: float
    deviation_pct: float
    potential_cents: int
    target_potential_cents: int
    potential_deviation_pct: float
    travel_hours: float

    def as_dict(self) -> dict[str, Any]:
        # Money as integer cents only (no float dollars beside them); workload = visit hours + travel hours.
        return {"rep_id": self.rep_id, "name": self.name, "accounts": self.accounts,
                "workload_hours": self.workload_hours, "visit_hours": round(self.workload_hours - self.travel_hours, 1),
                "travel_hours": self.travel_hours, "target_hours": self.target_hours,
                "capacity_hours": self.capacity_hours, "deviation_pct": self.deviation_pct,
                "potential_cents": self.potential_cents, "target_potential_cents": self.target_potential_cents,
                "potential_deviation_pct": self.potential_deviation_pct}


def rep_figures(problem: BalanceProblem, assign: np.ndarray) -> list[RepFigures]:
    """Per-rep figures for an assignment (rep index per account; -1 = nobody)."""
    m = problem.m
    idx = np.arange(problem.n)
    owned = assign >= 0
    a, r = idx[owned], assign[owned]
    work = np.bincount(r, weights=problem.work[a, r], minlength=m)
    travel = np.bincount(r, weights=problem.travel[a, r], minlength=m)
    count = np.bincount(r, minlength=m)
    pot = np.bincount(r, weights=problem.potential_cents[a], minlength=m)
    frac = problem.share / problem.share.sum()
    target = frac * work.sum()
    target_pot = frac * pot.sum()
    out = []
    for k in range(m):
        dev = (work[k] / target[k] - 1) * 100 if target[k] > 0 else 0.0
        pdev = (pot[k] / target_pot[k] - 1) * 100 if target_pot[k] > 0 else 0.0
        out.append(RepFigures(int(problem.rep_ids[k]), problem.rep_names[k], int(count[k]),
                              round(work[k] / 60, 1), round(target[k] / 60, 1),
                              round(float(problem.capacity_hours[k]), 1), round(dev, 2), int(pot[k]),
                              int(round(target_pot[k])), round(pdev, 2), round(travel[k] / 60, 1)))
    return out


def max_deviation(problem: BalanceProblem, assign: np.ndarray, by: str = "workload") -> float:
    """The largest |deviation| from target in percent, over the balanced measures."""
    figs = rep_figures(problem, assign)
    devs = []
    if by in ("workload", "both"):
        devs += [abs(f.deviation_pct) for f in figs]
    if by in ("potential", "both"):
        devs += [abs(f.potential_deviation_pct) for f in figs]
    return max(devs) if devs else 0.0


def travel_minutes(problem: BalanceProblem, assign: np.ndarray) -> int:
    owned = assign >= 0
    return int(problem.travel[np.arange(problem.n)[owned], assign[owned]].sum())


def objective_minutes(problem: BalanceProblem, options: BalanceOptions, assign: np.ndarray) -> int:
    """What the model minimises: travel, plus the move penalty for each moved account when one is set."""
    return travel_minutes(problem, assign) + options.move_penalty_minutes * moves(problem, assign)


def moves(problem: BalanceProblem, assign: np.ndarray) -> int:
    """Accounts whose rep differs from today (an unowned account that gets a rep counts)."""
    return int((assign != problem.current).sum())


# --- baselines ---------------------------------------------------------------------------
def nearest_rep(problem: BalanceProblem) -> np.ndarray:
    """Every movable account to the rep with the least travel (fixed accounts stay)."""
    assign = np.argmin(problem.travel, axis=1).astype(np.int64) if problem.m else np.zeros(problem.n, np.int64)
    assign[problem.fixed] = problem.current[problem.fixed]
    return assign


def move_limit(problem: BalanceProblem, options: BalanceOptions) -> int:
    """How many accounts may change rep under the options' move limit."""
    return int(math.floor(options.max_moves_pct / 100 * problem.n + 1e-9))


