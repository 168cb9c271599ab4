"""The periodic VRP itself: a problem (customers, day patterns, vehicles per day), a solution, its cost and checker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

EPS = 1e-6
UNSERVED_PENALTY = 1e7


@dataclass(frozen=True)
class PeriodicProblem:
    """Node 0 is the depot; nodes 1..n are customers.

    travel: (n+1)x(n+1) matrix, both the cost and the time used against max_duration.
    patterns[i]: the allowed day sets of customer i (each a tuple of 0-based day indices).
    vehicles/capacity/max_duration: one entry per day (None = unlimited).
    penalty[i]: cost of leaving customer i unserved (higher = more important).
    """

    travel: np.ndarray
    demand: tuple[float, ...]
    service: tuple[float, ...]
    patterns: tuple[tuple[tuple[int, ...], ...], ...]
    vehicles: tuple[int, ...]
    capacity: tuple[float | None, ...]
    max_duration: tuple[float | None, ...]
    penalty: tuple[float, ...] = ()
    names: tuple[str, ...] = ()
    # Weight of Σ_day load² (load = travel + service): > 0 spreads visits evenly over the days.
    balance_weight: float = 0.0

    @property
    def n(self) -> int:
        return len(self.demand) - 1

    @property
    def days(self) -> int:
        return len(self.vehicles)

    def customer_penalty(self, i: int) -> float:
        return self.penalty[i] if self.penalty else UNSERVED_PENALTY


@dataclass
class PeriodicSolution:
    """Routes per day (lists of customer ids, depot left out), chosen patterns, unserved customers."""

    routes: list[list[list[int]]]
    pattern: dict[int, int]
    unserved: list[int]
    cost: float
    iterations: int = 0
    seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)

    def day_cost(self, problem: PeriodicProblem, day: int) -> float:
        return sum(route_cost(problem.travel, r) for r in self.routes[day])


def route_cost(travel: np.ndarray, route: Sequence[int]) -> float:
    """Travel of a depot → route → depot tour."""
    if not route:
        return 0.0
    seq = [0, *route, 0]
    return float(sum(travel[a, b] for a, b in zip(seq, seq[1:])))


def route_duration(problem: PeriodicProblem, route: Sequence[int]) -> float:
    return route_cost(problem.travel, route) + sum(problem.service[c] for c in route)


_STATS: dict[int, tuple[PeriodicProblem, dict[tuple[int, ...], tuple[float, float, float]]]] = {}
_STATS_LIMIT = 100_000


def route_memo(problem: PeriodicProblem) -> dict[tuple[int, ...], tuple[float, float, float]]:
    """route_stats' memory for `problem` (route tuple -> figures): a caller pricing many routes reads it directly."""
    hit = _STATS.get(id(problem))
    if hit is None or hit[0] is not problem:
        _STATS.clear()  # one problem is solved at a time; do not keep old ones alive
        hit = _STATS[id(problem)] = (problem, {})
    return hit[1]


def route_stats(problem: PeriodicProblem, route: Sequence[int]) -> tuple[float, float, float]:
    """(travel, load, duration) of a route, remembered per problem.

    Why: the rotation search prices whole plans thousands of times a run while changing a few routes each time;
    on pr10 summing every route's travel again was a sixth of the run. Same sums as route_cost/route_duration.
    """
    memo = route_memo(problem)
    key = tuple(route)
    stats = memo.get(key)
    if stats is None:
        if len(memo) >= _STATS_LIMIT:
            memo.clear()
        cost = route_cost(problem.travel, key)
        stats = memo[key] = (cost, sum(problem.demand[c] for c in key),
                             cost + sum(problem.service[c] for c in key))
    return stats


def check_solution(problem: PeriodicProblem, sol: PeriodicSolution) -> list[str]:
    """Every broken rule as a sentence; empty when the plan is feasible (unserved customers aside)."""
    errors: list[str] = []
    visits: dict[int, set[int]] = {}
    for day, routes in enumerate(sol.routes):
        if len([r for r in routes if r]) > problem.vehicles[day]:
            errors.append(f"day {day}: {len(routes)} routes, {problem.vehicles[day]} vehicles")
        for r in routes:
            cap = problem.capacity[day]
            load = sum(problem.demand[c] for c in r)
            if cap is not None and load > cap + EPS:
                errors.append(f"day {day}: load {load} over capacity {cap}")
            dmax = problem.max_duration[day]
            if dmax is not None and route_duration(problem, r) > dmax + EPS:
                errors.append(f"day {day}: duration {route_duration(problem, r):.2f} over {dmax}")
            for c in r:
                if day in visits.setdefault(c, set()):
                    errors.append(f"customer {c} visited twice on day {day}")
                visits[c].add(day)
    for c in range(1, problem.n + 1):
        days = tuple(sorted(visits.get(c, ())))
        if c in sol.unserved:
            if days:
                errors.append(f"customer {c} reported unserved but visited")
            continue
        if days not in {tuple(sorted(p)) for p in problem.patterns[c]}:
            errors.append(f"customer {c} visited on days {days}, not an allowed pattern")
    return errors
