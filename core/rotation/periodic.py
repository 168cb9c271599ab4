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
- When many customers need one visit on any of several days (Cordeau's p13: 377 of 417), a
  day-by-day search cannot move them between days; optimise_cycle then routes the whole cycle as
  one PyVRP problem (one vehicle type and one stretch of time per day, time windows saying which
  days a visit may take), alternating with the LNS, which still owns multi-visit patterns. The run
  then starts from the best of two or three starts (PROBES, MULTI_START_SHARE) after a short whole-cycle search each.
- Without a day-balance weight the LNS may overload a route at a price per unit over capacity or duration
  (PENALISED, after HGS): on tight instances a pattern change must pass through a full day. The prices adapt so
  that about 43 % of the candidates stay within the limits; only plans within every limit become the best.
"""

from __future__ import annotations

import math
import random
import time
from typing import Callable

import numpy as np

from core.progress import Progress, check_cancelled
# The problem and the PyVRP routing live beside this file; imported here too so callers need one module.
from core.rotation.pvrp_model import (EPS, UNSERVED_PENALTY, PeriodicProblem, PeriodicSolution,  # noqa: F401
                                      check_solution, route_cost, route_duration, route_memo,
                                      route_stats)
from core.rotation.pyvrp_routes import (SCALE, descend_day, flexible_share, optimise_cycle,  # noqa: F401
                                        optimise_day, penalised_cost)

# LNS settings (tuned on Cordeau's p08/p10 at 30 s): accept up to this much worse, decreasing to 0.
ACCEPT_THRESHOLD = 0.01
MAX_REMOVED = 15
# With customers whose single visit may fall on several days, the run alternates CYCLE_ROUNDS times between
# the LNS (pattern choices) and a whole-cycle PyVRP search (moves visits between days). The cycle search gets
# CYCLE_SHARE x the share of such customers of each round (at most CYCLE_MAX): on Cordeau's large set at 60 s a
# flat 60 % fixed p13 (17.7 -> 2.8 %) but cost pr08 and p23 a point or two, where few visits are free to move.
# Four shorter rounds rather than two: each round restarts PyVRP from the LNS's best (session 4, p32/pr06).
CYCLE_ROUNDS = 4
CYCLE_SHARE = 0.85
CYCLE_MAX = 0.8
# ... and only when at least this share of customers is free to move (p13 0.90, p12 0.91, p30-p32 0.71,
# pr03-pr06 0.50; p20/p23 0.43, pr08-pr10 0.25). Session 3 set 0.8 because p32 got nothing from the search;
# the cause was PyVRP's capped load penalty (see LOAD_SCALE); with loads scaled, at 20 CPU-s p32 went 6-9 % ->
# 3.3 % and pr06 5.6 -> 4.3 %, while p23 was better without it (2.1 vs 3.5 %), as was pr10.
CYCLE_MIN_FLEXIBLE = 0.5
# Share of LNS iterations that remove a whole route of one day (and the nearest routes of that day, up to the
# removal size) instead of related or random customers. Why: related removal takes neighbours from every day, so
# it seldom empties a day's part of a district for another day to take. Session 9, 60 s, seeds 0/1/2: p23 (LNS
# only) 3.38/3.21/3.83 % -> 1.50/0.00/0.01 (0.00 = the best known), the others within the noise; 0.4: worse.
ROUTE_REMOVAL = 0.2
# After a destroy/repair, a day with more routes than this is descended only on the routes that changed plus
# the nearest others up to this many: on pr10 (12 routes a day of ~12 visits) a whole-day descent per touched
# day made an LNS iteration cost ~80 ms; moves far from the changed routes were almost never found anyway.
DESCENT_ROUTES = 4
# In cycle mode with multi-visit customers, PROBES starts each get PROBE_SHARE / PROBES of the time for a
# whole-cycle search, and the best goes on: the least-loaded patterns and randomised least-loaded ones. Why: a run
# settles in the basin its start puts it in (p12 at 20 CPU-s, one start: 5.9-8.0 % over four seeds). Session 5,
# large set at 20 CPU-s, seed 0: 3.45 % mean with 2 starts (session 4: 3.80 %), 3.98 % with 3 (the second CP-SAT's
# patterns) - but the LNS-only pr08 went 2.94 -> 4.57 % between those two runs with the same code and seed, so
# neither difference is more than the noise (see docs/notes/issue-14-rotation.md, session 5).
PROBES = 2
PROBE_SHARE = 0.2
# The first start (the only one outside cycle mode) keeps CP-SAT's patterns for multi-visit customers; the second
# takes the least-loaded ones, later ones randomised least-loaded ones. Session 7, 20 CPU-s runs: CP-SAT's patterns
# first took p12 from 6.3-9.5 % (6 runs) to 2.0-4.2 % (4 runs) and p23 from 5.1 % (3 runs) to 2.4-5.3 %; alone they
# cost p30-p32 1.5-3.8 points, which the plain least-loaded second start wins back (a randomised one did not).
# The LNS may overload routes at a price per unit over capacity or duration (HGS's penalised search, Vidal et al.),
# so that a pattern change can pass through a full day; prices adapt every PENALTY_EVERY candidates to keep about
# PENALTY_TARGET of them within the limits. Only the feasible plans found count as the best.
PENALISED = True
PENALTY_EVERY = 50
PENALTY_TARGET = 0.43
# When multi-visit customers are fewer than this share of all (p12 15 of 163, p13 40 of 417, p30-p32 45 of 153), a
# third start takes their patterns from assign_multi_cpsat, a model of them alone. Why: on p12 the full model's
# optimum is not the better start (10 s of CP-SAT: 6.4 % after 20 CPU-s, against 3.0 % from its 2 s answer), while
# Cordeau's patterns for these 15 alone give 0.9 %: what counts is which heavy customers share days, which the full
# model's terms for 148 single-visit pairs drown. Session 8, 20 CPU-s, seeds 0/1: p12 1.35/3.08 % (two starts:
# 2.9/7.4), p13 0.79/0.35 (1.7/2.1); on pr03-pr06 (half the customers multi-visit) it cost 1-1.5 points, hence the share.
MULTI_START_SHARE = 1 / 3


_ARRAYS: dict[int, tuple[PeriodicProblem, np.ndarray, np.ndarray]] = {}


def _arrays(p: PeriodicProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand, service and the travel matrix's transpose as numpy arrays, made once per problem (it is frozen)."""
    hit = _ARRAYS.get(id(p))
    if hit is None or hit[0] is not p:
        hit = (p, np.asarray(p.demand, dtype=float), np.asarray(p.service, dtype=float),
               np.ascontiguousarray(np.asarray(p.travel, dtype=float).T))
        _ARRAYS.clear()  # one problem at a time is solved; do not keep old ones alive
        _ARRAYS[id(p)] = hit
    return hit[1], hit[2], hit[3]


def _demand(p: PeriodicProblem) -> np.ndarray:
    return _arrays(p)[0]


def _service(p: PeriodicProblem) -> np.ndarray:
    return _arrays(p)[1]


def _travel_to(p: PeriodicProblem) -> np.ndarray:
    """Row c is the travel from every node to c: one contiguous row is ~2x faster to gather than a column."""
    return _arrays(p)[2]


class _State:
    """Mutable routes with per-route load and duration, and the pattern chosen per customer."""

    def __init__(self, problem: PeriodicProblem) -> None:
        self.p = problem
        self.routes: list[list[list[int]]] = [[] for _ in range(problem.days)]
        self.pattern: dict[int, int] = {}
        self.unserved: set[int] = set()
        # [per unit of load over capacity, per unit of time over the day's limit] while the LNS may overload
        # routes (PENALISED); None: capacity and duration are hard. One list shared by a run's states.
        self.lam: list[float] | None = None

    @classmethod
    def of(cls, problem: PeriodicProblem, sol: PeriodicSolution) -> "_State":
        """A state holding a copy of `sol`'s plan (days it leaves out are empty)."""
        s = cls(problem)
        for d, day in enumerate(sol.routes[: problem.days]):
            s.routes[d] = [list(r) for r in day if r]
        s.pattern = dict(sol.pattern)
        s.unserved = set(sol.unserved)
        return s

    def copy(self) -> "_State":
        s = _State.__new__(_State)
        s.p = self.p
        s.routes = [[list(r) for r in day] for day in self.routes]
        s.pattern = dict(self.pattern)
        s.unserved = set(self.unserved)
        s.lam = self.lam
        return s

    def take(self, plan: tuple[list[list[list[int]]], dict[int, int]]) -> None:
        """Adopt optimise_cycle's (routes, patterns): every customer without a pattern is unserved."""
        self.routes, self.pattern = plan
        self.unserved = {c for c in range(1, self.p.n + 1) if c not in self.pattern}

    def cost(self) -> float:
        p = self.p
        total, load, time_over = _figures(p, self.routes)
        if self.p.balance_weight:
            total += self.p.balance_weight * sum(self.day_load(d) ** 2 for d in range(self.p.days))
        if self.lam is not None:
            total += self.lam[0] * load + self.lam[1] * time_over
        return total + sum(self.p.customer_penalty(c) for c in self.unserved)

    def excess(self) -> tuple[float, float]:
        """(load over capacity, time over the duration limit), summed over every route of the cycle."""
        return _figures(self.p, self.routes)[1:]

    def day_load(self, d: int) -> float:
        return sum(route_stats(self.p, r)[2] for r in self.routes[d])

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
        """(cost, route index or -1 for a new route, position); cost inf when nothing fits.

        With a duration limit and several routes, all of the day's routes go through numpy in one pass (one
        sequence depot, r1, depot, r2, depot ...): there the loop per route, with its duration sum, cost ~1.2 ms
        an insertion on pr10 against ~0.26 ms; without one the loop skips full routes cheaply and is faster.
        """
        p = self.p
        if self.lam is not None:
            return self._penalised_insertion(c, d)
        travel = p.travel
        q, s = p.demand[c], p.service[c]
        cap, dmax = p.capacity[d], p.max_duration[d]
        best = (math.inf, -2, 0)
        routes = self.routes[d]
        if dmax is None or len(routes) <= 2:
            for ri, r in enumerate(routes):
                if cap is not None and route_stats(p, r)[1] + q > cap + EPS:
                    continue
                seq = np.fromiter((0, *r, 0), dtype=np.int64, count=len(r) + 2)
                a, b = seq[:-1], seq[1:]
                delta = travel[a, c] + travel[c, b] - travel[a, b]
                if dmax is not None:
                    dur = route_stats(p, r)[2]
                    delta = np.where(dur + delta + s <= dmax + EPS, delta, np.inf)
                pos = int(np.argmin(delta))
                if delta[pos] < best[0]:
                    best = (float(delta[pos]), ri, pos)
        else:
            a, b, owner, starts, base, load, dur = _day_edges(p, routes)
            delta = _travel_to(p)[c].take(a) + travel[c].take(b) - base
            if cap is not None:
                delta = np.where(load + q <= cap + EPS, delta, np.inf)
            delta = np.where(dur + delta + s <= dmax + EPS, delta, np.inf)
            i = int(np.argmin(delta))
            if delta[i] < math.inf:
                ri = int(owner[i])
                best = (float(delta[i]), ri, i - int(starts[ri]))
        if len(routes) < p.vehicles[d]:
            cost = 2 * travel[0, c]
            fits = (cap is None or q <= cap + EPS) and (dmax is None or cost + s <= dmax + EPS)
            if fits and cost < best[0]:
                best = (float(cost), -1, 0)
        return best

    def _penalised_insertion(self, c: int, d: int) -> tuple[float, int, int]:
        """best_insertion where a route may go over capacity or duration at lam's price per unit over."""
        p = self.p
        travel = p.travel
        lam_q, lam_t = self.lam
        q, s = p.demand[c], p.service[c]
        cap, dmax = p.capacity[d], p.max_duration[d]
        best = (math.inf, -2, 0)
        routes = self.routes[d]
        if routes:
            a, b, owner, starts, base, load, dur = _day_edges(p, routes)
            delta = _travel_to(p)[c].take(a) + travel[c].take(b) - base
            cost = delta.copy()
            if cap is not None or dmax is not None:
                load_over, time_over = _overs(load, dur, cap, dmax)
            if cap is not None:
                cost += lam_q * (np.maximum(0.0, load + q - cap) - load_over)
            if dmax is not None:
                cost += lam_t * (np.maximum(0.0, dur + delta + s - dmax) - time_over)
            i = int(cost.argmin())
            ri = int(owner[i])
            best = (float(cost[i]), ri, i - int(starts[ri]))
        if len(routes) < p.vehicles[d]:
            new = 2 * travel[0, c]
            over = (lam_q * max(0.0, q - cap) if cap is not None else 0.0) + \
                (lam_t * max(0.0, new + s - dmax) if dmax is not None else 0.0)
            if new + over < best[0]:
                best = (float(new + over), -1, 0)
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


def _pattern_choices(model, problem: PeriodicProblem, customers: list[int]) -> tuple[dict, dict]:
    """One boolean per (customer, pattern), exactly one per customer; and the booleans putting c on day d."""
    x: dict[tuple[int, int], object] = {}
    on: dict[tuple[int, int], list] = {}
    for c in customers:
        choices = []
        for k, days in enumerate(problem.patterns[c]):
            x[c, k] = model.NewBoolVar(f"x{c}_{k}")
            choices.append(x[c, k])
            for d in days:
                on.setdefault((c, d), []).append(x[c, k])
        model.AddExactlyOne(choices)
    return x, on


def _near(problem: PeriodicProblem, customers: list[int]) -> tuple[np.ndarray, float]:
    """Travel among `customers` (inf to themselves) and a scale taking the longest link to 100."""
    nodes = np.array(customers)
    sub = problem.travel[np.ix_(nodes, nodes)].astype(float)
    np.fill_diagonal(sub, np.inf)
    return sub, 100.0 / max(1e-9, float(np.max(np.where(np.isfinite(sub), sub, 0))) or 1.0)


def _together(model, problem: PeriodicProblem, customers: list[int], on: dict, neighbours: int) -> list:
    """Objective terms rewarding each customer's `neighbours` nearest for sharing a day (nearer pairs more)."""
    from ortools.sat.python.cp_model import LinearExpr

    sub, scale = _near(problem, customers)
    order = np.argsort(sub, axis=1)
    terms = []
    seen = set()
    for j, c in enumerate(customers):
        for jj in order[j, :neighbours]:
            c2 = customers[int(jj)]
            if (c2, c) in seen or not np.isfinite(sub[j, jj]):
                continue
            seen.add((c, c2))
            w = int(round(100 * scale / (1 + sub[j, jj] * scale)))
            for d in range(problem.days):
                if (c, d) in on and (c2, d) in on:
                    y = model.NewBoolVar("")
                    model.Add(y <= LinearExpr.Sum(on[c, d]))
                    model.Add(y <= LinearExpr.Sum(on[c2, d]))
                    terms.append(w * y)
    return terms


def _solve_choices(model, x: dict, seconds: float, seed: int) -> dict[int, int] | None:
    """The pattern each customer got, or None when CP-SAT found no assignment in `seconds`."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    if solver.Solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {c: k for (c, k), v in x.items() if solver.Value(v)}


def assign_patterns_cpsat(problem: PeriodicProblem, seconds: float = 5.0, neighbours: int = 5,
                          seed: int = 0) -> dict[int, int] | None:
    """CP-SAT first assignment: balanced daily load, near neighbours on the same days; None if none found."""
    from ortools.sat.python import cp_model

    t = problem.days
    model = cp_model.CpModel()
    customers = [c for c in range(1, problem.n + 1) if problem.patterns[c]]
    if not customers:
        return {}
    # Load of a visit: its service plus an estimate of the travel it brings (half its two nearest links).
    sub, scale = _near(problem, customers)
    near_cost = np.sort(sub, axis=1)[:, :2].mean(axis=1) if len(customers) > 2 else np.zeros(len(customers))
    load = {c: int(round((problem.service[c] + near_cost[j]) * scale)) + 1 for j, c in enumerate(customers)}
    x, on = _pattern_choices(model, problem, customers)
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
    together = _together(model, problem, customers, on, neighbours)
    mean = sum(load[c] * len(problem.patterns[c][0]) for c in customers) // vehicles
    model.Maximize(LinearExpr.Sum(together) - 20 * (peak - mean))
    return _solve_choices(model, x, seconds, seed)


def assign_multi_cpsat(problem: PeriodicProblem, multi: list[int], seconds: float = 2.0, neighbours: int = 3,
                       seed: int = 0, balance: int = 20) -> dict[int, int] | None:
    """CP-SAT patterns for the customers in `multi` alone: near ones share days, the busiest day stays light.

    Day loads count these customers' demand only (within each day's fleet capacity); the customers seen once
    fit around them on any day. None if CP-SAT found no assignment.
    """
    from ortools.sat.python import cp_model

    multi = [c for c in multi if problem.patterns[c]]
    if not multi:
        return {}
    model = cp_model.CpModel()
    x, on = _pattern_choices(model, problem, multi)
    peak = model.NewIntVar(0, int(sum(problem.demand[c] for c in multi)) + 1, "peak")
    for d in range(problem.days):
        terms = [(v, c) for c in multi for v in on.get((c, d), [])]
        if not problem.vehicles[d]:
            model.Add(sum(v for v, _ in terms) == 0)
            continue
        load = sum(int(round(problem.demand[c])) * v for v, c in terms)
        if problem.capacity[d] is not None:
            model.Add(load <= int(problem.capacity[d] * problem.vehicles[d]))
        model.Add(load <= peak)
    model.Maximize(sum(_together(model, problem, multi, on, neighbours)) - balance * peak)
    return _solve_choices(model, x, seconds, seed)


def solve_periodic(problem: PeriodicProblem, *, seconds: float = 10.0, seed: int = 0,
                   progress: Progress | None = None, use_cpsat: bool = True, use_cycle: bool = True,
                   should_stop: Callable[[], bool] | None = None,
                   clock: Callable[[], float] = time.perf_counter,
                   start: PeriodicSolution | None = None) -> PeriodicSolution:
    """Best plan found within `seconds`: always returns routes; customers that cannot fit are unserved.

    Without a balance weight and with customers whose one visit may fall on several days, part of the time
    goes to optimise_cycle (one PyVRP search over the whole cycle); see CYCLE_ROUNDS and CYCLE_SHARE.
    `clock` measures the budget: wall time by default; benchmarks/pvrp.py --cpu passes time.process_time so
    runs on a loaded machine can be compared by the CPU they got.
    `start`: a plan to go on from (core/rotation/islands.py hands one worker's best to the others); the
    CP-SAT assignment, the first build and the starts race are then skipped.
    """
    started = clock()
    deadline = started + seconds
    rng = random.Random(seed)
    n, t = problem.n, problem.days
    customers = [c for c in range(1, n + 1)]

    def time_left() -> float:
        return deadline - clock()

    def report(done_frac: float, message: str) -> None:
        if progress is not None:
            progress.update(int(1000 * min(1.0, done_frac)), 1000, message)
        check_cancelled(progress)

    report(0.0, "assigning visit days")
    preferred = None
    if use_cpsat and n > 0 and start is None:
        preferred = assign_patterns_cpsat(problem, seconds=min(2.0, 0.05 * seconds), seed=seed)

    def build(kind: str, noise: random.Random | None = None, chosen: dict[int, int] | None = None) -> _State:
        """The first plan: each customer inserted on its CP-SAT pattern, then every day routed by PyVRP.

        `kind` says where multi-visit customers go (see PROBES): "cpsat" keeps CP-SAT's pattern (least-loaded
        when CP-SAT found none), "least-loaded" the least-loaded one, with `noise` a randomised least-loaded one.
        `chosen`: patterns to keep in place of CP-SAT's (assign_multi_cpsat's; the others take their cheapest)."""
        state = _State(problem)
        for c in customers:
            if not problem.patterns[c]:
                state.unserved.add(c)
        # Hard-to-place customers first: most frequent, largest demand, fewest options.
        order = sorted((c for c in customers if problem.patterns[c]),
                       key=lambda c: (-len(problem.patterns[c][0]), -problem.demand[c] - problem.service[c],
                                      len(problem.patterns[c]), -problem.customer_penalty(c)))
        placed = [0.0] * t  # demand placed per day so far
        for k, c in enumerate(order):
            choice = ((preferred if chosen is None else chosen) or {}).get(c)
            if not problem.balance_weight and len(problem.patterns[c]) > 1 and len(problem.patterns[c][0]) > 1 \
                    and (kind == "least-loaded" or choice is None):
                choice = _least_loaded(problem, c, placed, noise)
            state.insert(c, preferred=choice)
            if c in state.pattern:
                for d in problem.patterns[c][state.pattern[c]]:
                    placed[d] += problem.demand[c]
            if k % 50 == 0:
                check_cancelled(progress)
        report(0.1, "routing each day")
        for d in range(t):
            check_cancelled(progress)
            if time_left() <= 0:
                break
            state.routes[d] = optimise_day(problem, d, state.routes[d], iterations=100,
                                           seconds=max(0.05, time_left() / 4), seed=seed, clock=clock)
        # Routed days are shorter than the insertion built them: try the customers left out once more.
        for c in sorted(c for c in state.unserved if problem.patterns[c]):
            state.unserved.discard(c)
            state.insert(c)
        return state

    flexible = flexible_share(problem)
    cycle = use_cycle and not problem.balance_weight and flexible >= CYCLE_MIN_FLEXIBLE and n > 1
    state = build("cpsat") if start is None else _State.of(problem, start)
    multi = [c for c in customers if len(problem.patterns[c]) > 1 and len(problem.patterns[c][0]) > 1]
    if cycle and PROBES > 1 and multi and start is None:
        # Several starts, each a different choice of the multi-visit patterns and a short whole-cycle search;
        # the best one goes on. Why: the run settles in the basin its start puts it in (p12: 5-9 %).
        starts = [state] + [build("least-loaded", random.Random(seed * 7919 + k) if k > 1 else None)
                            for k in range(1, PROBES)]
        if len(multi) < MULTI_START_SHARE * n:
            chosen = assign_multi_cpsat(problem, multi, seconds=min(2.0, 0.05 * seconds), seed=seed)
            if chosen:
                starts.append(build("cpsat", chosen=chosen))
        probe_seconds = PROBE_SHARE * seconds / len(starts)
        scored = []
        for k, st in enumerate(starts):
            out = optimise_cycle(problem, st.routes, st.pattern, seconds=probe_seconds,
                                 seed=rng.randint(0, 10**6), clock=clock)
            if out is not None:
                st.take(out)
            scored.append((st.cost(), k))
        state = starts[min(scored)[1]]
    current = state
    lam = None
    if PENALISED and not problem.balance_weight:
        # HGS's start (Vidal): a unit over capacity costs what the longest link over the largest demand does.
        biggest = max(problem.demand[1:], default=1.0) or 1.0
        lam = [min(1000.0, max(0.1, float(problem.travel.max()) / biggest)), 1.0]
    fits_load: list[bool] = []
    fits_time: list[bool] = []

    def own(st: _State) -> _State:
        st.lam = lam
        return st

    current = own(state)
    current_cost = current.cost()
    best = current.copy()
    best_cost = current_cost
    history = [(clock() - started, best_cost)]

    # Nearest-neighbour lists for related removal.
    travel = problem.travel
    near = np.argsort(travel[1:, 1:], axis=1) + 1 if n > 1 else np.zeros((n, 0), dtype=int)
    cycle_share = min(CYCLE_MAX, CYCLE_SHARE * flexible)
    final_share = 0.0 if cycle else 0.15
    search_end = started + seconds * (1 - final_share)
    iteration = 0
    total_search = max(1e-9, search_end - started)
    polish_every = max(1.0, total_search / 6)
    next_polish = started + polish_every
    # Cycle mode: each round is LNS until lns_end, then the whole-cycle search until the round ends.
    round_length = max(0.0, search_end - clock()) / CYCLE_ROUNDS
    round_end = clock() + round_length
    lns_end = round_end - cycle_share * round_length
    while clock() < search_end and n > 1:
        if cycle and clock() >= lns_end:
            report(0.1 + 0.8 * (clock() - started) / total_search, f"routing the cycle: {best_cost:,.1f}")
            out = optimise_cycle(problem, best.routes, best.pattern, seconds=max(0.1, round_end - clock()),
                                 seed=rng.randint(0, 10**6), clock=clock)
            if out is not None:
                best.take(out)
                best_cost = best.cost()
                history.append((clock() - started, best_cost))
            else:
                # Nothing gained (seen on p32): the rest of the time goes back to the LNS and day polishing.
                cycle = False
                next_polish = clock() + polish_every
            current, current_cost = best.copy(), best_cost
            round_end = clock() + round_length
            lns_end = round_end - cycle_share * round_length
            continue
        if should_stop is not None and should_stop():
            break
        iteration += 1
        frac = (clock() - started) / total_search
        if iteration % 5 == 0:
            report(0.1 + 0.75 * frac, f"improving: {best_cost:,.1f}")
        cand = current.copy()
        k = rng.randint(2, max(2, min(MAX_REMOVED, n // 4)))
        # A whole route now and then (none on a day without routes), else related or random customers.
        removed = _route_removal(current.routes[rng.randrange(t)], k, travel, rng) \
            if rng.random() < ROUTE_REMOVAL else []
        if not removed:
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
        untouched = {d: {tuple(r) for r in current.routes[d]} for d in range(t)}
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
            cand.routes[d] = _descend_changed(problem, d, cand.routes[d], untouched[d], rng.randint(0, 10**6),
                                              lam=cand.lam)
        cand_cost = cand.cost()
        over_load, over_time = cand.excess() if lam is not None else (0.0, 0.0)
        threshold = ACCEPT_THRESHOLD * max(0.0, 1 - frac)
        if cand_cost < current_cost * (1 + threshold) - EPS or cand_cost < current_cost - EPS:
            current, current_cost = cand, cand_cost
            if cand_cost < best_cost - EPS and over_load <= EPS and over_time <= EPS:
                best, best_cost = cand.copy(), cand_cost
                history.append((clock() - started, best_cost))
        if lam is not None:
            # Keep about PENALTY_TARGET of the candidates within capacity (and duration): raise a price when fewer are.
            fits_load.append(over_load <= EPS)
            fits_time.append(over_time <= EPS)
            if len(fits_load) >= PENALTY_EVERY:
                for j, fits in ((0, fits_load), (1, fits_time)):
                    share = sum(fits) / len(fits)
                    if share < PENALTY_TARGET - 0.05:
                        lam[j] = min(lam[j] * 1.2, 1e6)
                    elif share > PENALTY_TARGET + 0.05:
                        lam[j] = max(lam[j] * 0.85, 1e-3)
                    fits.clear()
                current_cost = current.cost()
        # Now and then polish the best plan's days with a short PyVRP search and restart from it.
        if not cycle and clock() >= next_polish:
            for d in range(t):
                best.routes[d] = optimise_day(problem, d, best.routes[d], iterations=100,
                                              seed=rng.randint(0, 10**6))
            best_cost = best.cost()
            current, current_cost = best.copy(), best_cost
            next_polish = clock() + polish_every

    report(0.9, "final routing")
    for d in range(t):
        check_cancelled(progress)
        left = time_left()
        if left <= 0.05:
            break
        best.routes[d] = optimise_day(problem, d, best.routes[d], seconds=left / max(1, t - d), seed=seed + d,
                                       clock=clock)
    report(1.0, "done")
    return PeriodicSolution(
        routes=[[list(r) for r in day if r] for day in best.routes],
        pattern=dict(best.pattern),
        unserved=sorted(best.unserved),
        cost=sum(route_cost(problem.travel, r) for day in best.routes for r in day),
        iterations=iteration,
        seconds=clock() - started,
        history=history,
    )


_DAY_EDGES: dict[tuple[tuple[int, ...], ...], tuple[np.ndarray, ...]] = {}
_ROUTE_EDGES: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray, float, float]] = {}
_EDGES_OF: list[PeriodicProblem | None] = [None]


def _route_edges(problem: PeriodicProblem, route: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                             float, float]:
    """(edge tails, edge heads, edge travel, load, duration) of one depot → route → depot tour; remembered."""
    hit = _ROUTE_EDGES.get(route)
    if hit is None:
        if len(_ROUTE_EDGES) >= 50_000:
            _ROUTE_EDGES.clear()
        seq = np.array((0, *route, 0), dtype=np.int64)
        a, b = seq[:-1], seq[1:]
        base = problem.travel[a, b]
        hit = _ROUTE_EDGES[route] = (a, b, base, float(np.add.reduceat(_demand(problem)[a], [0])[0]),
                                     float(np.add.reduceat(base + _service(problem)[a], [0])[0]))
    return hit


def _day_edges(problem: PeriodicProblem, routes: list[list[int]]) -> tuple[np.ndarray, ...]:
    """A day's routes as one depot, r1, depot, r2, depot ... sequence: (edge tails, edge heads, the route of each
    edge, the first edge of each route, each edge's travel, and its route's load and duration); remembered.

    Why: a repair prices every customer on every day of each of its patterns, and building these arrays was most
    of an insertion's cost on pr10. Days no insertion has changed since are asked for again (the candidate is a
    copy of the current plan), and a changed day differs in one route, so both days and routes are remembered.
    """
    if _EDGES_OF[0] is not problem:
        _DAY_EDGES.clear()
        _ROUTE_EDGES.clear()
        _EDGES_OF[0] = problem
    key = tuple(map(tuple, routes))
    hit = _DAY_EDGES.get(key)
    if hit is None:
        if len(_DAY_EDGES) >= 1000:  # ~300 edges x 7 arrays each on pr10; the working set is the current plan's days
            _DAY_EDGES.clear()
        parts = [_route_edges(problem, r) for r in key]
        lengths = np.fromiter((len(r) + 1 for r in key), dtype=np.int64, count=len(key))
        owner = np.repeat(np.arange(len(key)), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        hit = _DAY_EDGES[key] = (np.concatenate([x[0] for x in parts]), np.concatenate([x[1] for x in parts]),
                                 owner, starts, np.concatenate([x[2] for x in parts]),
                                 np.repeat([x[3] for x in parts], lengths), np.repeat([x[4] for x in parts], lengths))
    return hit


_OVERS: dict[tuple[int, float | None, float | None], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


def _overs(load: np.ndarray, dur: np.ndarray, cap: float | None, dmax: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per edge, its route's load over `cap` and duration over `dmax` (0 where within); kept with the day's edges."""
    key = (id(load), cap, dmax)
    hit = _OVERS.get(key)
    if hit is None or hit[0] is not load:
        if len(_OVERS) >= 1000:
            _OVERS.clear()
        hit = _OVERS[key] = (load, dur, np.maximum(0.0, load - cap) if cap is not None else load,
                             np.maximum(0.0, dur - dmax) if dmax is not None else dur)
    return hit[2], hit[3]


def _figures(problem: PeriodicProblem, routes: list[list[list[int]]]) -> tuple[float, float, float]:
    """(travel, load over capacity, time over the duration limit), summed over every route of the cycle."""
    travel = load = time_over = 0.0
    memo = route_memo(problem)
    for d, day in enumerate(routes):
        cap, dmax = problem.capacity[d], problem.max_duration[d]
        for r in day:
            r_travel, r_load, r_dur = memo.get(tuple(r)) or route_stats(problem, r)
            travel += r_travel
            if cap is not None and r_load > cap:
                load += r_load - cap
            if dmax is not None and r_dur > dmax:
                time_over += r_dur - dmax
    return travel, load, time_over


def _least_loaded(problem: PeriodicProblem, c: int, placed: list[float], noise: random.Random | None = None) -> int:
    """The pattern of c whose days carry the least demand so far, relative to each day's fleet capacity.

    Why: multi-visit customers are placed first, and by cheapest insertion each joined the routes the one
    before it had opened: on p12 (15 of them carry 1089 of the 1657 demand, one alone 105 of a route's 140)
    days 2 and 4 got 388 each of their 420 and days 1 and 3 almost none, so the free visits had nowhere near
    them to go; Cordeau's plan has 166-305 a day. Neither search undid it: one customer moved alone is always
    worse (9 single moves towards Cordeau's patterns each cost 0.1-2.6 %, all 9 together gained 3.8 %).
    Balanced loads alone do not get p12 to Cordeau's 0.8 % (which customers share a day matters too).
    """
    jitter = [1 + 0.5 * noise.random() if noise is not None else 1.0 for _ in range(problem.days)]

    def share(d: int) -> float:
        cap = problem.capacity[d]
        fleet = cap * problem.vehicles[d] if cap is not None and problem.vehicles[d] else 1.0
        return jitter[d] * placed[d] / fleet

    return min(range(len(problem.patterns[c])), key=lambda k: (max(share(d) for d in problem.patterns[c][k]),
                                                                sum(share(d) for d in problem.patterns[c][k]), k))


def _route_removal(day: list[list[int]], k: int, travel: np.ndarray, rng: random.Random) -> list[int]:
    """A random route of one day and, while fewer than k customers are taken, the routes of that day nearest it."""
    routes = [r for r in day if r]
    if not routes:
        return []
    first = rng.choice(routes)
    removed = list(first)
    if len(removed) < k:
        middle = travel[first[len(first) // 2]]
        # Nearness of a route: its customer closest to the middle customer of the first route.
        for r in sorted((r for r in routes if r is not first), key=lambda r: middle[r].min()):
            if len(removed) >= k:
                break
            removed += r
    return removed


def _descend_changed(problem: PeriodicProblem, d: int, routes: list[list[int]], untouched: set[tuple[int, ...]],
                     seed: int, lam: list[float] | None = None) -> list[list[int]]:
    """Descend day d's routes that the last destroy/repair changed, with their nearest neighbours (DESCENT_ROUTES)."""
    routes = [r for r in routes if r]
    if len(routes) <= DESCENT_ROUTES:
        return descend_day(problem, d, routes, seed=seed, lam=lam)
    changed = [i for i, r in enumerate(routes) if tuple(r) not in untouched]
    if not changed:
        return routes
    if len(changed) < DESCENT_ROUTES:
        # Nearest unchanged routes by centroid (travel from a changed route's centroid customer).
        travel = problem.travel
        heads = {i: routes[i][len(routes[i]) // 2] for i in range(len(routes))}
        others = sorted((i for i in range(len(routes)) if i not in changed),
                        key=lambda i: min(travel[heads[i], heads[j]] for j in changed))
        changed += others[: DESCENT_ROUTES - len(changed)]
    part = [routes[i] for i in changed]
    spare = problem.vehicles[d] - len(routes)
    new_part = descend_day(problem, d, part, seed=seed, vehicles=len(part) + max(0, spare), lam=lam)
    keep = [routes[i] for i in range(len(routes)) if i not in set(changed)]
    return keep + new_part


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
