"""PyVRP routing for the periodic solver: one day re-routed (a quick descent or a short search), or the whole cycle.

PyVRP has no periodic model, so each day is its own VRP; optimise_cycle turns the whole cycle into one VRP
(one vehicle type and one stretch of time per day) so that its search can move a visit to another day.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from core.rotation.pvrp_model import EPS, PeriodicProblem, route_cost, route_stats

# PyVRP wants integers: travel and service are scaled by this before rounding.
SCALE = 1000
# Loads are scaled too. PyVRP's penalty per unit of excess load is capped (PenaltyParams.max_penalty, 1e5), so
# with unscaled loads one unit over capacity cost at most 100 units of (scaled) distance: on Cordeau's p30-p32
# (capacity 20, routes ~1500 long) the whole-cycle search then lived among overloaded routes and rarely returned
# a feasible improvement. Scaled by 1000, a unit over capacity can cost up to 100,000 distance units.
LOAD_SCALE = 1000
# Granular neighbourhood of the quick per-iteration descents (PyVRP's default is 40).
DESCENT_NEIGHBOURS = 15


class Until:
    """A PyVRP stopping criterion: true once `clock` has run `seconds` (wall time, or CPU time for fair runs)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.end = clock() + seconds

    def __call__(self, best_cost: float) -> bool:
        return self.clock() >= self.end


def _day_data(problem: PeriodicProblem, day: int, clients: list[int], vehicles: int | None = None):
    """PyVRP data for one day's customers (client j of the data = clients[j]); `vehicles` defaults to the day's."""
    import pyvrp

    nodes = [0, *clients]
    sub = problem.travel[np.ix_(nodes, nodes)]
    dist = np.rint(sub * SCALE).astype(np.int64)
    dur = np.ceil(sub * SCALE - 1e-9).astype(np.int64)
    locations = [pyvrp.Location(0, 0) for _ in nodes]
    cap = problem.capacity[day]
    dem = [int(round(problem.demand[c] * LOAD_SCALE)) for c in clients]
    capacity = int(math.floor(cap * LOAD_SCALE + 1e-6)) if cap is not None else max(1, sum(dem))
    dmax = problem.max_duration[day]
    vt_kwargs = {}
    if dmax is not None:
        vt_kwargs["shift_duration"] = int(math.floor(dmax * SCALE + 1e-6))
    customers = [pyvrp.Client(j + 1, delivery=[dem[j]],
                              service_duration=int(math.ceil(problem.service[c] * SCALE - 1e-9)))
                 for j, c in enumerate(clients)]
    available = problem.vehicles[day] if vehicles is None else vehicles
    vehicle = pyvrp.VehicleType(num_available=max(1, available), capacity=[capacity], **vt_kwargs)
    return pyvrp.ProblemData(locations, customers, [pyvrp.Depot(0)], [vehicle], [dist], [dur])


def optimise_day(problem: PeriodicProblem, day: int, routes: list[list[int]], *, iterations: int | None = None,
                 seconds: float | None = None, seed: int = 0,
                 clock: Callable[[], float] = time.perf_counter) -> list[list[int]]:
    """Re-route one day with PyVRP warm-started from `routes`; returns the better feasible of the two."""
    import pyvrp
    from pyvrp.stop import MaxIterations, MultipleCriteria

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
        criteria.append(Until(seconds, clock))
    stop = MultipleCriteria(criteria) if len(criteria) > 1 else criteria[0]
    init = pyvrp.Solution(data, [[index[c] for c in r] for r in routes])
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, initial_solution=init)
    best = result.best
    return _better_of(problem, day, routes, clients, best)


def descend_day(problem: PeriodicProblem, day: int, routes: list[list[int]], seed: int = 0,
                vehicles: int | None = None, lam: list[float] | None = None) -> list[list[int]]:
    """One exhaustive PyVRP local-search descent from `routes` (well under a ms); keeps the better feasible plan.

    `routes` may be a part of the day; `vehicles` then says how many routes that part may use. With `lam`
    ([price per unit over capacity, per unit over duration]) routes may stay over, and the cheaper plan at those
    prices is kept.
    """
    routes = [r for r in routes if r]
    clients = [c for r in routes for c in r]
    if len(clients) <= 2:
        return routes
    fleet = problem.vehicles[day] if vehicles is None else vehicles
    return _descent(problem, day, fleet).descend(routes, clients, seed, fleet, lam)


class _DayDescent:
    """A PyVRP local search made once per problem and day limits, reused by every descent of that day.

    Why: built per call (problem data for the day's customers, PyVRP's neighbour computation, the operators)
    a descent of 50 customers cost ~3 ms of which the search itself was ~0.35 ms; the LNS runs one per
    touched day every iteration (on pr06 that overhead was a quarter of the run). Here every customer is an
    optional client (prize 0, at its own node, so the matrices are made once); a descent plans only the
    given customers and never adds others (no optional-client operators), and the granular neighbourhood —
    the nearest DESCENT_NEIGHBOURS among the given customers, by travel — is set per call.
    """

    def __init__(self, problem: PeriodicProblem, day: int, fleet: int) -> None:
        import pyvrp
        from pyvrp.search import OPERATORS, LocalSearch

        self.problem = problem
        n = problem.n
        dist = np.rint(problem.travel * SCALE).astype(np.int64)
        dur = np.ceil(problem.travel * SCALE - 1e-9).astype(np.int64)
        cap = problem.capacity[day]
        dem = [int(round(problem.demand[c] * LOAD_SCALE)) for c in range(n + 1)]
        capacity = int(math.floor(cap * LOAD_SCALE + 1e-6)) if cap is not None else max(1, sum(dem))
        dmax = problem.max_duration[day]
        vt_kwargs = {}
        if dmax is not None:
            vt_kwargs["shift_duration"] = int(math.floor(dmax * SCALE + 1e-6))
        clients = [pyvrp.Client(c, delivery=[dem[c]], required=False,
                                service_duration=int(math.ceil(problem.service[c] * SCALE - 1e-9)))
                   for c in range(1, n + 1)]
        # The routes this descent may use (a part of a day gets fewer than the day's fleet).
        vehicle = pyvrp.VehicleType(num_available=max(1, fleet), capacity=[capacity], **vt_kwargs)
        self.data = pyvrp.ProblemData([pyvrp.Location(0, 0) for _ in range(n + 1)], clients, [pyvrp.Depot(0)],
                                      [vehicle], [dist], [dur])
        # The operators a day of required customers gets (_day_data): none that adds or drops a customer.
        required = _day_data(problem, day, [1, min(2, n)] if n >= 2 else [1])
        self.operators = [op for op in OPERATORS if op.supports(required)]
        self.activity = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, j) for j in range(n)]
        self.no_neighbours = {a: [] for a in self.activity}
        self.ls = None
        self.LocalSearch = LocalSearch
        self.evaluator = pyvrp.CostEvaluator([1e6], 1e6, 1e6)
        self.day = day

    def descend(self, routes: list[list[int]], clients: list[int], seed: int, fleet: int,
                lam: list[float] | None = None) -> list[list[int]]:
        import pyvrp

        nodes = np.asarray(clients)
        sub = self.problem.travel[np.ix_(nodes, nodes)].astype(float)
        np.fill_diagonal(sub, np.inf)
        k = min(DESCENT_NEIGHBOURS, len(clients) - 1)
        nearest = np.argpartition(sub, k - 1, axis=1)[:, :k] if k < len(clients) - 1 else \
            np.argsort(sub, axis=1)[:, :k]
        act = self.activity
        neighbours = dict(self.no_neighbours)  # PyVRP wants every client listed
        neighbours.update({act[c - 1]: [act[clients[j] - 1] for j in row]
                           for c, row in zip(clients, nearest.tolist())})
        if self.ls is None:
            self.ls = self.LocalSearch(self.data, pyvrp.RandomNumberGenerator(seed=seed), neighbours)
            for op in self.operators:
                self.ls.add_operator(op(self.data))
        else:
            self.ls.neighbours = neighbours
        init = pyvrp.Solution(self.data, [[c - 1 for c in r] for r in routes])
        if lam is not None:
            # PyVRP's prices are per scaled unit: loads and times are both scaled like distances (×1000).
            best = self.ls(init, pyvrp.CostEvaluator([lam[0] * SCALE / LOAD_SCALE], lam[1], 0), exhaustive=True)
            new = [[a.idx + 1 for a in r if a.is_client()] for r in best.routes()]
            new = [r for r in new if r]
            if len(new) > fleet or sorted(c for r in new for c in r) != sorted(clients):
                return routes
            return new if penalised_cost(self.problem, self.day, new, lam) < \
                penalised_cost(self.problem, self.day, routes, lam) - EPS else routes
        best = self.ls(init, self.evaluator, exhaustive=True)
        if best.distance() >= init.distance() or not best.is_feasible():
            return routes
        new = [[a.idx + 1 for a in r if a.is_client()] for r in best.routes()]
        new = [r for r in new if r]
        if len(new) > fleet or sorted(c for r in new for c in r) != sorted(clients) \
                or not _routes_ok(self.problem, self.day, new):
            return routes
        old_cost = sum(route_stats(self.problem, r)[0] for r in routes)
        new_cost = sum(route_stats(self.problem, r)[0] for r in new)
        return new if new_cost < old_cost - EPS else routes


_DESCENTS: dict[int, tuple[PeriodicProblem, dict[tuple, _DayDescent]]] = {}


def _descent(problem: PeriodicProblem, day: int, fleet: int) -> _DayDescent:
    """The reusable descent for the day's limits and `fleet` routes; one problem's are kept at a time."""
    hit = _DESCENTS.get(id(problem))
    if hit is None or hit[0] is not problem:
        _DESCENTS.clear()  # one problem is solved at a time; do not keep old ones alive
        hit = _DESCENTS[id(problem)] = (problem, {})
    key = (problem.capacity[day], problem.max_duration[day], fleet)
    if key not in hit[1]:
        hit[1][key] = _DayDescent(problem, day, fleet)
    return hit[1][key]


def _better_of(problem: PeriodicProblem, day: int, routes: list[list[int]], clients: list[int],
               best, vehicles: int | None = None) -> list[list[int]]:
    """PyVRP's answer for one day when it is feasible, fits the day and is cheaper; else the routes we had."""
    if not best.is_feasible() or not best.is_complete():
        return routes
    new = [[clients[a.idx] for a in r if a.is_client()] for r in best.routes()]
    new = [r for r in new if r]
    if len(new) > (problem.vehicles[day] if vehicles is None else vehicles) or not _routes_ok(problem, day, new):
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
                   seconds: float, seed: int = 0, clock: Callable[[], float] = time.perf_counter
                   ) -> tuple[list[list[list[int]]], dict[int, int]] | None:
    """Route the whole cycle as one PyVRP problem, warm-started from `routes`; None unless it is better.

    A day-by-day search cannot move a visit to another day; here every vehicle-day is one vehicle type
    and each day is a separate stretch of time, so PyVRP's search moves visits between days too. A customer
    visited once whose allowed days are one consecutive run gets a time window over those days (free to
    change day); visits of customers seen several times (or on scattered days) keep their day, because
    PyVRP cannot keep a customer's visits on one pattern. Capacity, duration and vehicles per day hold.
    Customers missing from `pattern` whose one visit may take a run of days may be added: the returned
    patterns then hold them, and a caller's unserved set is every customer without one.
    """
    import pyvrp
    from pyvrp.search import NeighbourhoodParams

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

    def one_run(c: int) -> list[int]:
        """The days c's single visit may take, when they are one consecutive run (else [])."""
        if len(problem.patterns[c][0]) != 1:
            return []
        allowed = sorted({p[0] for p in problem.patterns[c]})
        return allowed if allowed == list(range(allowed[0], allowed[-1] + 1)) else []

    for c in served:
        days = problem.patterns[c][pattern[c]]
        allowed = one_run(c)
        if allowed:
            slot_of[(c, days[0])] = len(visits)
            visits.append((c, (allowed[0], allowed[-1])))
            continue
        for d in days:
            slot_of[(c, d)] = len(visits)
            visits.append((c, (d, d)))
    # Customers the plan leaves out whose one visit may take any of a run of days go in as optional visits, with
    # a prize above any detour that serves them (twice the depot's distance, triangle inequality): on pr06 the
    # first build left 55 of 288 out, and a search of the others alone left the LNS to add them 3 at a time.
    # A prize, not a required visit: when they cannot all fit, the search still improves the rest.
    runs = {c: one_run(c) for c in range(1, problem.n + 1) if c not in pattern and problem.patterns[c]}
    left_out = [c for c, run in runs.items() if run]
    optional = len(visits)
    visits += [(c, (runs[c][0], runs[c][-1])) for c in left_out]
    nodes = [0, *[c for c, _ in visits]]
    sub = problem.travel[np.ix_(nodes, nodes)]
    dist = np.rint(sub * SCALE).astype(np.int64)
    dur = np.ceil(sub * SCALE - 1e-9).astype(np.int64)
    locations = [pyvrp.Location(0, 0) for _ in nodes]
    clients = [pyvrp.Client(j + 1, delivery=[int(round(problem.demand[c] * LOAD_SCALE))],
                            service_duration=int(math.ceil(problem.service[c] * SCALE - 1e-9)),
                            tw_early=lo * span, tw_late=hi * span + span - 1,
                            required=j < optional,
                            prize=0 if j < optional else int(math.ceil(SCALE * (2 * problem.travel[0, c] + 1))))
               for j, (c, (lo, hi)) in enumerate(visits)]
    total_demand = max(1, int(LOAD_SCALE * sum(problem.demand[c] * len(problem.patterns[c][pattern[c]])
                                               for c in served)))
    types, day_of_type = [], []
    for d in range(t):
        if not problem.vehicles[d]:
            continue
        cap = problem.capacity[d]
        kwargs = {}
        if problem.max_duration[d] is not None:
            kwargs["shift_duration"] = int(math.floor(problem.max_duration[d] * SCALE + 1e-6))
        types.append(pyvrp.VehicleType(num_available=problem.vehicles[d],
                                       capacity=[int(math.floor(cap * LOAD_SCALE + 1e-6)) if cap is not None
                                                 else total_demand],
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
    # Neighbours by distance alone: with the days as stretches of time, PyVRP's default (which counts waiting)
    # would rank a free visit far from every visit fixed to a later day, and never move it next to them.
    params = pyvrp.SolveParams(neighbourhood=NeighbourhoodParams(weight_wait_time=0.0))
    result = pyvrp.solve(data, Until(seconds, clock), seed=seed, collect_stats=False, initial_solution=init,
                         params=params)
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
    for c in [*served, *(c for c in left_out if c in days_of)]:
        days = tuple(sorted(days_of.get(c, ())))
        k = next((k for k, p in enumerate(problem.patterns[c]) if tuple(sorted(p)) == days), None)
        if k is None:
            return None
        new_pattern[c] = k
    for d in range(t):
        if len(new_routes[d]) > problem.vehicles[d] or not _routes_ok(problem, d, new_routes[d]):
            return None

    def total(plan: list[list[list[int]]], kept: dict[int, int]) -> float:
        """Travel plus the penalty of every customer with days to take that the plan leaves out."""
        out = sum(problem.customer_penalty(c) for c in range(1, problem.n + 1) if c not in kept and problem.patterns[c])
        return out + sum(route_cost(problem.travel, r) for day in plan for r in day)

    return (new_routes, new_pattern) if total(new_routes, new_pattern) < total(routes, pattern) - EPS else None


def penalised_cost(problem: PeriodicProblem, day: int, routes: list[list[int]], lam: list[float]) -> float:
    """Travel of the day's routes plus lam's price for every unit over capacity and over the duration limit."""
    cap, dmax = problem.capacity[day], problem.max_duration[day]
    total = 0.0
    for r in routes:
        cost, load, duration = route_stats(problem, r)
        total += cost
        if cap is not None:
            total += lam[0] * max(0.0, load - cap)
        if dmax is not None:
            total += lam[1] * max(0.0, duration - dmax)
    return total


def _routes_ok(problem: PeriodicProblem, day: int, routes: list[list[int]]) -> bool:
    cap, dmax = problem.capacity[day], problem.max_duration[day]
    for r in routes:
        _, load, duration = route_stats(problem, r)
        if cap is not None and load > cap + EPS:
            return False
        if dmax is not None and duration > dmax + EPS:
            return False
    return True


