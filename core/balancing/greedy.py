"""Greedy balancing: single-account moves between neighbours (the simple rebalance, and the repair of a rounded LP)."""

from __future__ import annotations

import math

import numpy as np

from core.balancing.measures import move_limit
from core.balancing.problem import BalanceOptions, BalanceProblem
from core.progress import Progress, check_cancelled


def greedy_repair(problem: BalanceProblem, options: BalanceOptions, start: np.ndarray,
                  progress: Progress | None = None, max_iterations: int | None = None) -> np.ndarray:
    """Move single accounts between neighbours, always from the rep furthest outside its band.

    Starting from today's owners this is the "simple greedy rebalance"; starting from a rounded LP
    it is the repair that makes the CP-SAT hint feasible. A move is taken only when it makes the
    pair of reps involved better off than the worst one was (so it never cycles), cheapest extra
    travel first. Respects fixed accounts, candidates and the move limit; stops inside the band,
    when no single move helps, or after max_iterations.
    """
    n, m = problem.n, problem.m
    assign = start.copy()
    unowned = assign < 0
    if unowned.any():  # anyone without a rep goes to the cheapest candidate first
        rows = np.nonzero(unowned)[0]
        assign[rows] = problem.candidates[rows, 0]
    tol = options.tolerance_pct / 100 * 0.9  # aim inside the band so CP-SAT has slack
    frac = problem.share / problem.share.sum()
    dims = []
    if options.by in ("workload", "both"):
        dims.append("work")
    if options.by in ("potential", "both"):
        dims.append("potential")
    cand = problem.candidates
    movable = ~problem.fixed
    limit = move_limit(problem, options)
    pot = problem.potential.astype(float)
    work = problem.work.astype(float)
    rows_all = np.arange(n)
    loads = {"work": np.bincount(assign, weights=work[rows_all, assign], minlength=m),
             "potential": np.bincount(assign, weights=pot, minlength=m)}
    used = int((assign != problem.current).sum())
    iterations = max_iterations or 4 * n + 100
    best_worst, stale = math.inf, 0
    for it in range(iterations):
        if it % 200 == 0:
            check_cancelled(progress)
        targets = {d: frac * loads[d].sum() for d in dims}
        devs = {d: np.where(targets[d] > 0, loads[d] / np.maximum(targets[d], 1e-9) - 1, 0.0) for d in dims}
        worst, worst_dim, r = 0.0, None, -1
        for d in dims:
            k = int(np.argmax(np.abs(devs[d])))
            if abs(devs[d][k]) > worst:
                worst, worst_dim, r = abs(devs[d][k]), d, k
        if worst <= tol or worst_dim is None:
            break
        if worst < best_worst - 1e-6:
            best_worst, stale = worst, 0
        else:
            stale += 1
            if stale > 500:
                break
        over = devs[worst_dim][r] > 0
        if over:
            rows = np.nonzero((assign == r) & movable)[0]
            if len(rows) == 0:
                break
            dest = cand[rows]
            src = np.full(dest.shape, r)
            acct = np.repeat(rows[:, None], dest.shape[1], axis=1)
        else:
            rows = np.nonzero(movable & (assign != r) & (cand == r).any(axis=1))[0]
            if len(rows) == 0:
                break
            dest = np.full((len(rows), 1), r)
            src = assign[rows][:, None]
            acct = rows[:, None]
        valid = (dest >= 0) & (dest != src)
        d_safe = np.where(dest >= 0, dest, 0)
        for d in dims:
            gain = work[acct, d_safe] if d == "work" else pot[acct]
            loss = work[acct, src] if d == "work" else pot[acct]
            new_dest = (loads[d][d_safe] + gain) / targets[d][d_safe] - 1
            new_src = (loads[d][src] - loss) / targets[d][src] - 1
            if d == worst_dim:
                # Both reps must end up closer to target than the worst one is now.
                valid &= (np.abs(new_dest) < worst) & (np.abs(new_src) < worst)
            else:
                band = options.tolerance_pct / 100
                valid &= (np.abs(new_dest) <= np.maximum(band, np.abs(devs[d][d_safe])))
                valid &= (np.abs(new_src) <= np.maximum(band, np.abs(devs[d][src])))
        if used >= limit:
            # No budget left: only moves that add no new mover (back home, or already moved).
            valid &= (src != problem.current[acct]) | (d_safe == problem.current[acct])
        if not valid.any():
            break
        delta = problem.travel[acct, d_safe] - problem.travel[acct, src]
        if options.move_penalty_minutes:
            delta = delta + options.move_penalty_minutes * (
                (d_safe != problem.current[acct]).astype(np.int64) - (src != problem.current[acct]).astype(np.int64))
        score = np.where(valid, delta, np.iinfo(np.int64).max)
        i, j = np.unravel_index(int(np.argmin(score)), score.shape)
        a, s_from, s_to = int(acct[i, j]), int(src[i, j]), int(d_safe[i, j])
        used += int(s_to != problem.current[a]) - int(s_from != problem.current[a])
        assign[a] = s_to
        loads["work"][s_from] -= work[a, s_from]
        loads["work"][s_to] += work[a, s_to]
        loads["potential"][s_from] -= pot[a]
        loads["potential"][s_to] += pot[a]
        if progress is not None and it % 200 == 0:
            progress.update(2, 4, f"Greedy balancing: {worst * 100:.1f}% off target")
    return assign
