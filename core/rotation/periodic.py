"""A generic periodic VRP solver: pick each customer's visit-day pattern and route every day.

Used by call rotations (customers = accounts, days = working days of the cycle, one vehicle a
day = the rep) and by benchmarks/pvrp.py on Cordeau's instances, so both measure the same code.

How it works (engines and why):
- CP-SAT (OR-Tools) makes the first pattern assignment: it balances each day's estimated load
  and rewards near neighbours sharing days, which is a combinatorial choice CP-SAT handles well
  and routing libraries do not model at all.
- A large-neighbourhood search in Python then removes a few related customers and re-inserts
  each with the pattern whose days give the cheapest feasible insertion (capacity, duration and
  vehicles per day held), accepting by a decreasing threshold.
- PyVRP (iterated local search, warm-started from our routes) re-optimises every touched day;
  it is the strongest vehicle router available here (see the Solomon benchmark).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from core.progress import Progress, check_cancelled

EPS = 1e-6
# PyVRP wants integers: travel and service are scaled by this before rounding.
SCALE = 1000
UNSERVED_PENALTY = 1e7
# LNS settings (tuned on Cordeau's p08/p10 at 30 s): accept up to this much worse, decreasing to 0.
ACCEPT_THRESHOLD = 0.01
MAX_REMOVED = 15
# Granular neighbourhood of the quick per-iteration descents (PyVRP's default is 40).
DESCENT_NEIGHBOURS = 15
# With customers whose single visit may fall on several days, the run alternates CYCLE_ROUNDS times between
# the LNS (pattern choices) and a whole-cycle PyVRP search (moves visits between days), which gets this share.
CYCLE_ROUNDS = 2
CYCLE_SHARE = 0.6


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


class _State:
    """Mutable routes with per-route load and duration, and the pattern chosen per customer."""

    def __init__(self, problem: PeriodicProblem) -> None:
        self.p = problem
        self.routes: list[list[list[int]]] = [[] for _ in range(problem.days)]
        self.pattern: dict[int, int] = {}
        self.unserved: set[int] = set()

    def copy(self) -> "_State":
        s = _State.__new__(_State)
        s.p = self.p
        s.routes = [[list(r) for r in day] for day in self.routes]
        s.pattern = dict(self.pattern)
        s.unserved = set(self.unserved)
        return s

    def cost(self) -> float:
        travel = self.p.travel
        total = sum(route_cost(travel, r) for day in self.routes for r in day)
        if self.p.balance_weight:
            total += self.p.balance_weight * sum(self.day_load(d) ** 2 for d in range(self.p.days))
        return total + sum(self.p.customer_penalty(c) for c in self.unserved)

    def day_load(self, d: int) -> float:
        return sum(route_duration(self.p, r) for r in self.routes[d])

    def remove(self, c: int) -> None:
        if c in self.unserved:
            self.unserved.discard(c)
            return
        k = self.pattern.pop(c, None)
        if k is None:
            return
        for d in self.p.patterns[c][k]:
            for r in self.routes[d]:
                if c in r:
                    r.remove(c)
                    break
            self.routes[d] = [r for r in self.routes[d] if r]

    def best_insertion(self, c: int, d: int) -> tuple[float, int, int]:
        """(cost, route index or -1 for a new route, position); cost inf when nothing fits."""
        p = self.p
        travel = p.travel
        q, s = p.demand[c], p.service[c]
        cap, dmax = p.capacity[d], p.max_duration[d]
        best = (math.inf, -2, 0)
        for ri, r in enumerate(self.routes[d]):
            if cap is not None and sum(p.demand[x] for x in r) + q > cap + EPS:
                continue
            seq = np.fromiter((0, *r, 0), dtype=np.int64, count=len(r) + 2)
            a, b = seq[:-1], seq[1:]
            delta = travel[a, c] + travel[c, b] - travel[a, b]
            if dmax is not None:
                dur = route_duration(p, r)
                delta = np.where(dur + delta + s <= dmax + EPS, delta, np.inf)
            pos = int(np.argmin(delta))
            if delta[pos] < best[0]:
                best = (float(delta[pos]), ri, pos)
        if len(self.routes[d]) < p.vehicles[d]:
            cost = 2 * travel[0, c]
            fits = (cap is None or q <= cap + EPS) and (dmax is None or cost + s <= dmax + EPS)
            if fits and cost < best[0]:
                best = (float(cost), -1, 0)
        return best

    def insert(self, c: int, preferred: int | None = None, noise: float = 0.0,
               rng: random.Random | None = None) -> bool:
        """Insert c with its cheapest feasible pattern (or `preferred` when it fits); False = unserved."""
        options = []
        cache: dict[int, tuple[float, int, int]] = {}
        balance_cost: dict[int, float] = {}
        for k, days in enumerate(self.p.patterns[c]):
            total = 0.0
            for d in days:
                if d not in cache:
                    cache[d] = self.best_insertion(c, d)
                    if self.p.balance_weight and cache[d][0] < math.inf:
                        load = self.day_load(d)
                        grow = cache[d][0] + self.p.service[c]
                        extra = self.p.balance_weight * ((load + grow) ** 2 - load ** 2)
                        balance_cost[d] = extra
                total += cache[d][0] + balance_cost.get(d, 0.0)
                if total == math.inf:
                    break
            if total < math.inf:
                if noise and rng is not None:
                    total *= 1 + noise * (rng.random() - 0.5)
                options.append((total, k))
        if not options:
            self.unserved.add(c)
            return False
        if preferred is not None and any(k == preferred for _, k in options):
            k = preferred
        else:
            k = min(options)[1]
        self.pattern[c] = k
        for d in self.p.patterns[c][k]:
            _, ri, pos = cache[d]
            if ri == -1:
                self.routes[d].append([c])
            else:
                self.routes[d][ri].insert(pos, c)
        return True


def _day_data(problem: PeriodicProblem, day: int, clients: list[int]):
    """PyVRP data for one day's customers (client j of the data = clients[j])."""
    import pyvrp

    nodes = [0, *clients]
    sub = problem.travel[np.ix_(nodes, nodes)]
    dist = np.rint(sub * SCALE).astype(np.int64)
    dur = np.ceil(sub * SCALE - 1e-9).astype(np.int64)
    locations = [pyvrp.Location(0, 0) for _ in nodes]
    cap = problem.capacity[day]
    dem = [int(round(problem.demand[c])) for c in clients]
    capacity = int(cap) if cap is not None else max(1, sum(dem))
    dmax = problem.max_duration[day]
    vt_kwargs = {}
    if dmax is not None:
        vt_kwargs["shift_duration"] = int(math.floor(dmax * SCALE + 1e-6))
    customers = [pyvrp.Client(j + 1, delivery=[dem[j]],
                              service_duration=int(math.ceil(problem.service[c] * SCALE - 1e-9)))
                 for j, c in enumerate(clients)]
    vehicle = pyvrp.VehicleType(num_available=max(1, problem.vehicles[day]), capacity=[capacity], **vt_kwargs)
    return pyvrp.ProblemData(locations, customers, [pyvrp.Depot(0)], [vehicle], [dist], [dur])


def optimise_day(problem: PeriodicProblem, day: int, routes: list[list[int]], *, iterations: int | None = None,
                 seconds: float | None = None, seed: int = 0) -> list[list[int]]:
    """Re-route one day with PyVRP warm-started from `routes`; returns the better feasible of the two."""
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    routes = [r for r in routes if r]
    clients = [c for r in routes for c in r]
    if len(clients) <= 1:
        return routes
    index = {c: j for j, c in enumerate(clients)}
    data = _day_data(problem, day, clients)
    criteria = []
    if iterations is not None:
        criteria.append(MaxIterations(iterations))
    if seconds is not None:
        criteria.append(MaxRuntime(seconds))
    stop = MultipleCriteria(criteria) if len(criteria) > 1 else criteria[0]
    init = pyvrp.Solution(data, [[index[c] for c in r] for r in routes])
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, initial_solution=init)
    best = result.best
    return _better_of(problem, day, routes, clients, best)


def descend_day(problem: PeriodicProblem, day: int, routes: list[list[int]], seed: int = 0) -> list[list[int]]:
    """One exhaustive PyVRP local-search descent from `routes` (a few ms); keeps the better feasible plan."""
    import pyvrp
    from pyvrp.search import OPERATORS, LocalSearch, NeighbourhoodParams, compute_neighbours

    routes = [r for r in routes if r]
    clients = [c for r in routes for c in r]
    if len(clients) <= 2:
        return routes
    index = {c: j for j, c in enumerate(clients)}
    data = _day_data(problem, day, clients)
    neighbours = compute_neighbours(data, NeighbourhoodParams(num_neighbours=DESCENT_NEIGHBOURS))
    ls = LocalSearch(data, pyvrp.RandomNumberGenerator(seed=seed), neighbours)
    for op in OPERATORS:
        if op.supports(data):
            ls.add_operator(op(data))
    evaluator = pyvrp.CostEvaluator([1e6], 1e6, 1e6)
    init = pyvrp.Solution(data, [[index[c] for c in r] for r in routes])
    best = ls(init, evaluator, exhaustive=True)
    return _better_of(problem, day, routes, clients, best)


def _better_of(problem: PeriodicProblem, day: int, routes: list[list[int]], clients: list[int],
               best) -> list[list[int]]:
    """PyVRP's answer for one day when it is feasible, fits the day and is cheaper; else the routes we had."""
    if not best.is_feasible() or not best.is_complete():
        return routes
    new = [[clients[a.idx] for a in r if a.is_client()] for r in best.routes()]
    new = [r for r in new if r]
    if len(new) > problem.vehicles[day] or not _routes_ok(problem, day, new):
        return routes
    old_cost = sum(route_cost(problem.travel, r) for r in routes)
    new_cost = sum(route_cost(problem.travel, r) for r in new)
    return new if new_cost < old_cost - EPS else routes


def flexible_share(problem: PeriodicProblem) -> float:
    """Share of customers visited once whose day is free among several: the part a whole-cycle route search moves."""
    if not problem.n:
        return 0.0
    free = sum(1 for c in range(1, problem.n + 1)
               if problem.patterns[c] and len(problem.patterns[c][0]) == 1 and len(problem.patterns[c]) > 1)
    return free / problem.n


def optimise_cycle(problem: PeriodicProblem, routes: list[list[list[int]]], pattern: dict[int, int], *,
                   seconds: float, seed: int = 0) -> tuple[list[list[list[int]]], dict[int, int]] | None:
    """Route the whole cycle as one PyVRP problem, warm-started from `routes`; None unless it is better.

    A day-by-day search cannot move a visit to another day; here every vehicle-day is one vehicle type
    and each day is a separate stretch of time, so PyVRP's search moves visits between days too. A customer
    visited once whose allowed days are one consecutive run gets a time window over those days (free to
    change day); visits of customers seen several times (or on scattered days) keep their day, because
    PyVRP cannot keep a customer's visits on one pattern. Capacity, duration and vehicles per day hold.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    t = problem.days
    served = [c for c in range(1, problem.n + 1) if c in pattern]
    if not served or seconds <= 0:
        return None
    # One stretch of time per day, longer than any route can last.
    longest = float(problem.travel.max()) * 2 * (len(served) + 1) + sum(problem.service) + 1
    if any(d is not None for d in problem.max_duration):
        longest = min(longest, max(d for d in problem.max_duration if d is not None) + 1)
    span = int(math.ceil(longest * SCALE)) + 10
    visits: list[tuple[int, tuple[int, int]]] = []  # (customer, (first day, last day) it may take)
    slot_of: dict[tuple[int, int], int] = {}
    for c in served:
        days = problem.patterns[c][pattern[c]]
        allowed = sorted({p[0] for p in problem.patterns[c]}) if len(days) == 1 else []
        if allowed and allowed == list(range(allowed[0], allowed[-1] + 1)):
            slot_of[(c, days[0])] = len(visits)
            visits.append((c, (allowed[0], allowed[-1])))
            continue
        for d in days:
            slot_of[(c, d)] = len(visits)
            visits.append((c, (d, d)))
    nodes = [0, *[c for c, _ in visits]]
    sub = problem.travel[np.ix_(nodes, nodes)]
    dist = np.rint(sub * SCALE).astype(np.int64)
    dur = np.ceil(sub * SCALE - 1e-9).astype(np.int64)
    locations = [pyvrp.Location(0, 0) for _ in nodes]
    clients = [pyvrp.Client(j + 1, delivery=[int(round(problem.demand[c]))],
                            service_duration=int(math.ceil(problem.service[c] * SCALE - 1e-9)),
                            tw_early=lo * span, tw_late=hi * span + span - 1)
               for j, (c, (lo, hi)) in enumerate(visits)]
    total_demand = max(1, int(sum(problem.demand[c] * len(problem.patterns[c][pattern[c]]) for c in served)))
    types, day_of_type = [], []
    for d in range(t):
        if not problem.vehicles[d]:
            continue
        cap = problem.capacity[d]
        kwargs = {}
        if problem.max_duration[d] is not None:
            kwargs["shift_duration"] = int(math.floor(problem.max_duration[d] * SCALE + 1e-6))
        types.append(pyvrp.VehicleType(num_available=problem.vehicles[d],
                                       capacity=[int(cap) if cap is not None else total_demand],
                                       tw_early=d * span, start_late=d * span, tw_late=d * span + span - 1,
                                       **kwargs))
        day_of_type.append(d)
    type_of_day = {d: k for k, d in enumerate(day_of_type)}
    data = pyvrp.ProblemData(locations, clients, [pyvrp.Depot(0)], types, [dist], [dur])
    try:
        init = pyvrp.Solution(data, [pyvrp.Route(data, [slot_of[(c, d)] for c in r], type_of_day[d])
                                     for d in range(t) for r in routes[d] if r])
    except (KeyError, RuntimeError):
        return None
    result = pyvrp.solve(data, MaxRuntime(seconds), seed=seed, collect_stats=False, initial_solution=init)
    best = result.best
    if not best.is_feasible() or not best.is_complete():
        return None
    new_routes: list[list[list[int]]] = [[] for _ in range(t)]
    days_of: dict[int, list[int]] = {}
    for r in best.routes():
        d = day_of_type[r.vehicle_type()]
        route = [visits[a.idx][0] for a in r if a.is_client()]
        if route:
            new_routes[d].append(route)
            for c in route:
                days_of.setdefault(c, []).append(d)
    new_pattern = {}
    for c in served:
        days = tuple(sorted(days_of.get(c, ())))
        k = next((k for k, p in enumerate(problem.patterns[c]) if tuple(sorted(p)) == days), None)
        if k is None:
            return None
        new_pattern[c] = k
    for d in range(t):
        if len(new_routes[d]) > problem.vehicles[d] or not _routes_ok(problem, d, new_routes[d]):
            return None
    old = sum(route_cost(problem.travel, r) for day in routes for r in day)
    new = sum(route_cost(problem.travel, r) for day in new_routes for r in day)
    return (new_routes, new_pattern) if new < old - EPS else None


def _routes_ok(problem: PeriodicProblem, day: int, routes: list[list[int]]) -> bool:
    cap, dmax = problem.capacity[day], problem.max_duration[day]
    for r in routes:
        if cap is not None and sum(problem.demand[c] for c in r) > cap + EPS:
            return False
        if dmax is not None and route_duration(problem, r) > dmax + EPS:
            return False
    return True


def assign_patterns_cpsat(problem: PeriodicProblem, seconds: float = 5.0, neighbours: int = 5,
                          seed: int = 0) -> dict[int, int] | None:
    """CP-SAT first assignment: balanced daily load, near neighbours on the same days; None if none found."""
    from ortools.sat.python import cp_model

    n, t = problem.n, problem.days
    travel = problem.travel
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    on: dict[tuple[int, int], list] = {}
    # Load of a visit: its service plus an estimate of the travel it brings (half its two nearest links).
    customers = [c for c in range(1, n + 1) if problem.patterns[c]]
    if not customers:
        return {}
    nodes = np.array(customers)
    sub = travel[np.ix_(nodes, nodes)].astype(float).copy()
    np.fill_diagonal(sub, np.inf)
    order = np.argsort(sub, axis=1)
    near_cost = np.sort(sub, axis=1)[:, :2].mean(axis=1) if len(customers) > 2 else np.zeros(len(customers))
    scale = 100.0 / max(1e-9, float(np.nanmax(np.where(np.isfinite(sub), sub, 0))) or 1.0)
    load = {}
    for j, c in enumerate(customers):
        load[c] = int(round((problem.service[c] + near_cost[j]) * scale)) + 1
        vars_ = []
        for k, days in enumerate(problem.patterns[c]):
            v = model.NewBoolVar(f"x{c}_{k}")
            x[c, k] = v
            vars_.append(v)
            for d in days:
                on.setdefault((c, d), []).append(v)
        model.AddExactlyOne(vars_)
    day_terms: dict[int, list[tuple]] = {d: [] for d in range(t)}
    for (c, d), vs in on.items():
        day_terms[d].extend((v, c) for v in vs)
    LinearExpr = cp_model.LinearExpr
    # Hard necessary capacity per day (sum of demand within vehicles × capacity).
    for d in range(t):
        terms = day_terms[d]
        cap = problem.capacity[d]
        if problem.vehicles[d] == 0:
            for v, _ in terms:
                model.Add(v == 0)
        elif cap is not None and terms:
            model.Add(LinearExpr.WeightedSum([v for v, _ in terms], [int(round(problem.demand[c])) for _, c in terms])
                      <= int(cap * problem.vehicles[d]))
    total_load = sum(load.values()) * t
    vehicles = max(1, sum(problem.vehicles))
    peak = model.NewIntVar(0, total_load, "peak")
    for d in range(t):
        terms = day_terms[d]
        if problem.vehicles[d] and terms:
            # Balance: no vehicle-day much above the mean.
            model.Add(LinearExpr.WeightedSum([v for v, _ in terms], [load[c] for _, c in terms])
                      <= peak * problem.vehicles[d])
    together = []
    seen = set()
    for j, c in enumerate(customers):
        for jj in order[j, :neighbours]:
            c2 = customers[int(jj)]
            if (c2, c) in seen or not np.isfinite(sub[j, jj]):
                continue
            seen.add((c, c2))
            w = int(round(100 * scale / (1 + sub[j, jj] * scale)))  # nearer pairs matter more
            for d in range(t):
                if (c, d) in on and (c2, d) in on:
                    y = model.NewBoolVar("")
                    model.Add(y <= LinearExpr.Sum(on[c, d]))
                    model.Add(y <= LinearExpr.Sum(on[c2, d]))
                    together.append(w * y)
    mean = sum(load[c] * len(problem.patterns[c][0]) for c in customers) // vehicles
    model.Maximize(LinearExpr.Sum(together) - 20 * (peak - mean))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {c: k for (c, k), v in x.items() if solver.Value(v)}


def solve_periodic(problem: PeriodicProblem, *, seconds: float = 10.0, seed: int = 0,
                   progress: Progress | None = None, use_cpsat: bool = True, use_cycle: bool = True,
                   should_stop: Callable[[], bool] | None = None) -> PeriodicSolution:
    """Best plan found within `seconds`: always returns routes; customers that cannot fit are unserved.

    Without a balance weight and with customers whose one visit may fall on several days, part of the time
    goes to optimise_cycle (one PyVRP search over the whole cycle); see CYCLE_ROUNDS and CYCLE_SHARE.
    """
    started = time.perf_counter()
    deadline = started + seconds
    rng = random.Random(seed)
    n, t = problem.n, problem.days
    customers = [c for c in range(1, n + 1)]

    def time_left() -> float:
        return deadline - time.perf_counter()

    def report(done_frac: float, message: str) -> None:
        if progress is not None:
            progress.update(int(1000 * min(1.0, done_frac)), 1000, message)
        check_cancelled(progress)

    report(0.0, "assigning visit days")
    preferred = None
    if use_cpsat and n > 0:
        preferred = assign_patterns_cpsat(problem, seconds=min(2.0, 0.05 * seconds), seed=seed)

    state = _State(problem)
    for c in customers:
        if not problem.patterns[c]:
            state.unserved.add(c)
    # Hard-to-place customers first: most frequent, largest demand, fewest options.
    order = sorted((c for c in customers if problem.patterns[c]),
                   key=lambda c: (-len(problem.patterns[c][0]), -problem.demand[c] - problem.service[c],
                                  len(problem.patterns[c]), -problem.customer_penalty(c)))
    for k, c in enumerate(order):
        state.insert(c, preferred=(preferred or {}).get(c))
        if k % 50 == 0:
            check_cancelled(progress)
    report(0.1, "routing each day")
    for d in range(t):
        check_cancelled(progress)
        if time_left() <= 0:
            break
        state.routes[d] = optimise_day(problem, d, state.routes[d], iterations=100, seconds=max(0.05, time_left() / 4),
                                       seed=seed)
    # Routed days are shorter than the insertion built them: try the customers left out once more.
    for c in sorted(c for c in state.unserved if problem.patterns[c]):
        state.unserved.discard(c)
        state.insert(c)
    current = state
    current_cost = current.cost()
    best = current.copy()
    best_cost = current_cost
    history = [(time.perf_counter() - started, best_cost)]

    # Nearest-neighbour lists for related removal.
    travel = problem.travel
    near = np.argsort(travel[1:, 1:], axis=1) + 1 if n > 1 else np.zeros((n, 0), dtype=int)
    cycle = use_cycle and not problem.balance_weight and flexible_share(problem) > 0 and n > 1
    final_share = 0.0 if cycle else 0.15
    search_end = started + seconds * (1 - final_share)
    iteration = 0
    total_search = max(1e-9, search_end - started)
    polish_every = max(1.0, total_search / 6)
    next_polish = started + polish_every
    # Cycle mode: each round is LNS until lns_end, then the whole-cycle search until the round ends.
    round_length = max(0.0, search_end - time.perf_counter()) / CYCLE_ROUNDS
    round_end = time.perf_counter() + round_length
    lns_end = round_end - CYCLE_SHARE * round_length
    while time.perf_counter() < search_end and n > 1:
        if cycle and time.perf_counter() >= lns_end:
            report(0.1 + 0.8 * (time.perf_counter() - started) / total_search, f"routing the cycle: {best_cost:,.1f}")
            out = optimise_cycle(problem, best.routes, best.pattern, seconds=max(0.1, round_end - time.perf_counter()),
                                 seed=rng.randint(0, 10**6))
            if out is not None:
                best.routes, best.pattern = out
                best_cost = best.cost()
                history.append((time.perf_counter() - started, best_cost))
            current, current_cost = best.copy(), best_cost
            round_end = time.perf_counter() + round_length
            lns_end = round_end - CYCLE_SHARE * round_length
            continue
        if should_stop is not None and should_stop():
            break
        iteration += 1
        frac = (time.perf_counter() - started) / total_search
        if iteration % 5 == 0:
            report(0.1 + 0.75 * frac, f"improving: {best_cost:,.1f}")
        cand = current.copy()
        k = rng.randint(2, max(2, min(MAX_REMOVED, n // 4)))
        if rng.random() < 0.7:
            seed_c = rng.randint(1, n)
            pool = [seed_c, *[int(x) for x in near[seed_c - 1, : 2 * k]]]
            removed = [pool[0], *rng.sample(pool[1:], min(k - 1, len(pool) - 1))]
        else:
            removed = rng.sample(customers, min(k, n))
        # Customers still left out get another try every iteration (a few at a time).
        if cand.unserved:
            waiting = sorted(c for c in cand.unserved if problem.patterns[c])
            removed += rng.sample(waiting, min(3, len(waiting)))
        removed = list(dict.fromkeys(removed))
        days_touched: set[int] = set()
        for c in removed:
            if c in cand.pattern:
                days_touched.update(problem.patterns[c][cand.pattern[c]])
            cand.remove(c)
        rng.shuffle(removed)
        if rng.random() < 0.5:
            removed.sort(key=lambda c: -len(problem.patterns[c][0]) if problem.patterns[c] else 0)
        for c in removed:
            if not problem.patterns[c]:
                cand.unserved.add(c)
                continue
            if cand.insert(c, noise=0.1 if rng.random() < 0.3 else 0.0, rng=rng):
                days_touched.update(problem.patterns[c][cand.pattern[c]])
        for d in days_touched:
            cand.routes[d] = descend_day(problem, d, cand.routes[d], seed=rng.randint(0, 10**6))
        cand_cost = cand.cost()
        threshold = ACCEPT_THRESHOLD * max(0.0, 1 - frac)
        if cand_cost < current_cost * (1 + threshold) - EPS or cand_cost < current_cost - EPS:
            current, current_cost = cand, cand_cost
            if cand_cost < best_cost - EPS:
                best, best_cost = cand.copy(), cand_cost
                history.append((time.perf_counter() - started, best_cost))
        # Now and then polish the best plan's days with a short PyVRP search and restart from it.
        if not cycle and time.perf_counter() >= next_polish:
            for d in range(t):
                best.routes[d] = optimise_day(problem, d, best.routes[d], iterations=100,
                                              seed=rng.randint(0, 10**6))
            best_cost = best.cost()
            current, current_cost = best.copy(), best_cost
            next_polish = time.perf_counter() + polish_every

    report(0.9, "final routing")
    for d in range(t):
        check_cancelled(progress)
        left = time_left()
        if left <= 0.05:
            break
        best.routes[d] = optimise_day(problem, d, best.routes[d], seconds=left / max(1, t - d), seed=seed + d)
    report(1.0, "done")
    return PeriodicSolution(
        routes=[[list(r) for r in day if r] for day in best.routes],
        pattern=dict(best.pattern),
        unserved=sorted(best.unserved),
        cost=sum(route_cost(problem.travel, r) for day in best.routes for r in day),
        iterations=iteration,
        seconds=time.perf_counter() - started,
        history=history,
    )


def first_fit(problem: PeriodicProblem, route_iterations: int = 200) -> PeriodicSolution:
    """The baseline a planner might do by hand: each customer on its first allowed pattern whose days have room.

    Days are then routed with PyVRP like the real solve, so a comparison measures the day assignment.
    """
    started = time.perf_counter()
    state = _State(problem)
    for c in range(1, problem.n + 1):
        for k, days in enumerate(problem.patterns[c]):
            if all(state.best_insertion(c, d)[0] < math.inf for d in days):
                state.insert(c, preferred=k)
                break
        else:
            state.unserved.add(c)
    for d in range(problem.days):
        state.routes[d] = optimise_day(problem, d, state.routes[d], iterations=route_iterations)
    return PeriodicSolution(routes=[[list(r) for r in day if r] for day in state.routes], pattern=dict(state.pattern),
                            unserved=sorted(state.unserved),
                            cost=sum(route_cost(problem.travel, r) for day in state.routes for r in day),
                            seconds=time.perf_counter() - started)
