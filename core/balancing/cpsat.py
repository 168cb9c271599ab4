"""The balancing model in CP-SAT: hinted with the repaired start, whole when small, in rounds of border accounts when big."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from core.balancing.measures import move_limit
from core.balancing.problem import BalanceOptions, BalanceProblem
from core.progress import Cancelled, Progress


def free_accounts(problem: BalanceProblem, hint: np.ndarray, size: int) -> np.ndarray:
    """Which accounts CP-SAT may reassign when the whole model is too big: those near a border.

    Accounts whose two cheapest reps cost about the same, or that already sit away from their
    cheapest rep, are where a better plan differs; the rest keep the hint's rep.
    """
    movable = ~problem.fixed
    if movable.sum() <= size:
        return movable.copy()
    cand = problem.candidates
    costs = np.where(cand >= 0, problem.travel[np.arange(problem.n)[:, None], np.maximum(cand, 0)], np.iinfo(np.int64).max)
    order = np.sort(costs, axis=1)
    regret = (order[:, 1] - order[:, 0]).astype(float)
    here = problem.travel[np.arange(problem.n), hint]
    regret[here > order[:, 0]] = -1.0  # away from its cheapest rep: always free
    regret[~movable] = np.inf
    free = np.zeros(problem.n, dtype=bool)
    free[np.argsort(regret, kind="stable")[:size]] = True
    return free & movable


def solve_cp_sat(problem: BalanceProblem, options: BalanceOptions, hint: np.ndarray | None, seconds: float,
                 progress: Progress | None, known_bound: float | None,
                 free: np.ndarray | None = None) -> tuple[str, np.ndarray | None, float | None]:
    """The model in CP-SAT (hinted); accounts outside `free` keep the hint's rep as constants.

    Returns (status, assignment or None, CP-SAT's own bound, which is only a bound for the whole
    problem when every account is free).
    """
    from ortools.sat.python import cp_model

    n, m = problem.n, problem.m
    if free is None or hint is None:
        free = np.ones(n, dtype=bool)
    const_work = np.zeros(m, dtype=np.int64)
    const_pot = np.zeros(m, dtype=np.int64)
    const_stay = 0
    const_cost = 0
    whole = bool(free.all())
    tol_bp = int(round(options.tolerance_pct * 100))
    model = cp_model.CpModel()
    cand = problem.candidates
    var_rows, var_reps, xs = [], [], []
    per_rep: list[list[tuple[Any, int]]] = [[] for _ in range(m)]
    pot_rep: list[list[tuple[Any, int]]] = [[] for _ in range(m)]
    stay = []
    objective_terms = []
    for i in range(n):
        if not free[i]:
            r = int(hint[i])
            const_work[r] += int(problem.work[i, r])
            const_pot[r] += int(problem.potential[i])
            const_stay += int(r == problem.current[i])
            const_cost += int(problem.travel[i, r]) + (options.move_penalty_minutes if r != problem.current[i] else 0)
            continue
        here = []
        for r in cand[i]:
            if r < 0:
                continue
            x = model.NewBoolVar("")
            here.append(x)
            var_rows.append(i)
            var_reps.append(int(r))
            xs.append(x)
            per_rep[r].append((x, int(problem.work[i, r])))
            pot_rep[r].append((x, int(problem.potential[i])))
            cost = int(problem.travel[i, r])
            if options.move_penalty_minutes and r != problem.current[i]:
                cost += options.move_penalty_minutes
            if cost:
                objective_terms.append((x, cost))
            if r == problem.current[i]:
                stay.append(x)
        model.AddExactlyOne(here)
    share = [int(s) for s in problem.share]
    q = sum(share)
    if options.by in ("workload", "both"):
        max_total = int(problem.work.max(axis=1).sum()) if n else 0
        total = model.NewIntVar(0, max_total, "T")
        loads = []
        for r in range(m):
            w = model.NewIntVar(0, max_total, f"W{r}")
            model.Add(w == int(const_work[r]) + sum(c * x for x, c in per_rep[r]))
            loads.append(w)
        model.Add(total == sum(loads))
        if hint is not None:
            # A complete hint (loads and total too) lets CP-SAT start from it instead of repairing it.
            hinted = [int(problem.work[np.arange(n)[hint == r], r].sum()) for r in range(m)]
            for w, h in zip(loads, hinted):
                model.AddHint(w, h)
            model.AddHint(total, sum(hinted))
        for r in range(m):
            model.Add(10000 * q * loads[r] <= (10000 + tol_bp) * share[r] * total)
            model.Add(10000 * q * loads[r] >= (10000 - tol_bp) * share[r] * total)
    if options.by in ("potential", "both"):
        ptotal = int(problem.potential.sum())
        for r in range(m):
            p = int(const_pot[r]) + sum(c * x for x, c in pot_rep[r])
            model.Add(10000 * q * p <= (10000 + tol_bp) * share[r] * ptotal)
            model.Add(10000 * q * p >= (10000 - tol_bp) * share[r] * ptotal)
    limit = move_limit(problem, options)
    owned = int((problem.current >= 0).sum())
    if limit < n:
        model.Add(const_stay + sum(stay) >= owned - limit)
    model.Minimize(const_cost + sum(c * x for x, c in objective_terms))
    if hint is not None:
        for x, i, r in zip(xs, var_rows, var_reps):
            model.AddHint(x, 1 if hint[i] == r else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = max(1, options.workers)
    solver.parameters.log_search_progress = False
    started = time.perf_counter()

    class Watch(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            obj = self.ObjectiveValue()
            bound = max(self.BestObjectiveBound() if whole else 0, known_bound or 0)
            if progress is not None:
                gap = (obj - bound) / bound * 100 if bound > 0 else 0
                progress.update(int(min(seconds, time.perf_counter() - started)), int(seconds),
                                f"Improving: travel {obj / 60:,.0f} h, {gap:.1f}% above the bound")
                if progress.cancelled():
                    self.StopSearch()
            if bound > 0 and obj <= bound * (1 + options.stop_gap_pct / 100):
                self.StopSearch()

    # Cancel must not wait for the next solution: a small watcher stops the search within 0.2 s.
    finished = threading.Event()

    def watch_cancel() -> None:
        while not finished.wait(0.2):
            if progress is not None and progress.cancelled():
                solver.StopSearch()
                return

    watcher = threading.Thread(target=watch_cancel, daemon=True)
    watcher.start()
    try:
        status = solver.Solve(model, Watch())
    finally:
        finished.set()
        watcher.join()
    if progress is not None and progress.cancelled():
        raise Cancelled()
    name = solver.StatusName(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array(solver.ResponseProto().solution, dtype=np.int64)
        index = np.array([x.Index() for x in xs], dtype=np.int64)
        chosen = values[index] == 1
        assign = hint.copy() if hint is not None else np.full(n, -1, dtype=np.int64)
        assign[np.array(var_rows, dtype=np.int64)[chosen]] = np.array(var_reps)[chosen]
        return name, assign, solver.BestObjectiveBound() if whole else None
    return name, None, None
