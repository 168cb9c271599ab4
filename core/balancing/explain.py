"""Why a plan misses its targets (or what is worth knowing about it), in plain words."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.balancing.measures import max_deviation, move_limit, rep_figures
from core.balancing.problem import BalanceOptions, BalanceProblem

# What "workload" means on both sides of every comparison (today and after a plan).
WORKLOAD_MEASURE = "workload = visit time + travel from the rep's home, hours a year (today and after alike)"


def describe_travel(summary: dict[str, Any]) -> list[str]:
    """The plan's travel, what the solver minimised and how close to the proven best it is, in plain words.

    `summary` is BalanceResult.as_dict() (or a saved scenario's summary; older ones lack some keys).
    With a move penalty (a new or leaving rep) the objective is travel plus the penalty, so the bound
    is on that sum and is named so, never as a bound on travel.
    """
    lines = []
    travel = summary.get("travel_hours")
    if travel is None:
        return lines
    before = summary.get("before_travel_hours")
    line = f"travel {travel:,.0f} h a year"
    if before is not None:
        change = travel - before
        line += f" (today {before:,.0f} h, {change:+,.0f} h)"
    lines.append(line)
    bound, gap = summary.get("bound_hours"), summary.get("gap_pct")
    gap_text = f", gap {gap:.2f}%" if gap is not None else ""
    penalty = summary.get("move_penalty_hours") or 0
    objective = summary.get("objective_hours")
    if objective is not None and (penalty or objective - travel > 0.5):
        each = summary.get("move_penalty_hours_each")
        moved = summary.get("moved")
        penalty = penalty or objective - travel
        detail = f"{moved:,} moves x {each:,.0f} h" if each and moved is not None else "a price on each move"
        line = (f"objective {objective:,.0f} h = travel {travel:,.0f} h + move penalty {penalty:,.0f} h "
                f"({detail}, so few accounts move)")
        if bound:
            line += f"; proven lower bound on the objective {bound:,.0f} h{gap_text}"
        lines.append(line)
    elif bound:
        lines.append(f"no plan within the tolerance can travel less than {bound:,.0f} h (proven lower bound){gap_text}")
    return lines


def within(problem: BalanceProblem, assign: np.ndarray, options: BalanceOptions) -> bool:
    """Every rep inside the tolerance band on the balanced measures."""
    return max_deviation(problem, assign, options.by) <= options.tolerance_pct + 1e-9


def explain(problem: BalanceProblem, options: BalanceOptions, assign: np.ndarray,
            lp_status: str | None = None, lp_free_status: str | None = None) -> list[str]:
    """Why targets are not met (or a warning worth knowing), in plain words."""
    reasons: list[str] = list(problem.skipped)
    figs = rep_figures(problem, assign)
    total = sum(f.workload_hours for f in figs)
    capacity = float(problem.capacity_hours.sum())
    if total > capacity:
        reasons.append(f"total workload is {total - capacity:,.0f} h over capacity "
                       f"({total:,.0f} h of visits and travel for {capacity:,.0f} h of rep time)")
    frac = problem.share / problem.share.sum()
    tol = options.tolerance_pct / 100
    fixed_rows = np.nonzero(problem.fixed)[0]
    if len(fixed_rows) and options.by in ("workload", "both"):
        fixed_work = np.bincount(problem.current[fixed_rows], weights=problem.work[fixed_rows, problem.current[fixed_rows]],
                                 minlength=problem.m)
        total_min = total * 60
        for k in range(problem.m):
            target = frac[k] * total_min
            if target > 0 and fixed_work[k] > target * (1 + tol):
                kinds = sorted({problem.fixed_reason[i] for i in fixed_rows if problem.current[i] == k})
                reasons.append(f"{' and '.join(kinds)} accounts put {problem.rep_names[k]} at "
                               f"{(fixed_work[k] / target - 1) * 100:.0f}% over target")
    if len(fixed_rows) and options.by in ("potential", "both"):
        fixed_pot = np.bincount(problem.current[fixed_rows], weights=problem.potential[fixed_rows], minlength=problem.m)
        for k in range(problem.m):
            target = frac[k] * problem.potential.sum()
            if target > 0 and fixed_pot[k] > target * (1 + tol):
                reasons.append(f"locked accounts give {problem.rep_names[k]} "
                               f"{(fixed_pot[k] / target - 1) * 100:.0f}% more potential than target")
    if lp_status == "infeasible":
        if lp_free_status == "optimal":
            reasons.append(f"the move limit ({options.max_moves_pct:g}% = {move_limit(problem, options):,} accounts) "
                           "is too tight: balancing to the tolerance needs more accounts to move")
        elif not any("over target" in r or "more potential" in r for r in reasons):
            biggest = problem.work.min(axis=1).max() / 60 if problem.n else 0
            reasons.append(f"no plan keeps every rep within ±{options.tolerance_pct:g}% "
                           f"with each account limited to its {options.candidates} nearest reps "
                           f"(the largest account alone is {biggest:,.0f} h a year even for its nearest rep); widen the tolerance")
    return reasons
