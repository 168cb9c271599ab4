"""Balance territories: an immutable problem built from the database, then LP bound -> greedy repair -> CP-SAT.

The model: each account goes to one rep among its k nearest (plus today's owner); locked and named
accounts stay put; every rep's workload (and/or potential) is within +-tolerance of its share of
the total (share = its capacity over everyone's); at most K% of accounts change owner; minimise
yearly travel minutes from reps' homes (which is also what keeps territories compact).

Three phases, so the answer is good and its quality is known:
1. the LP relaxation (GLOP) gives a proven lower bound on travel and a near-integral start;
2. rounding plus a greedy repair makes that start feasible (it is also the fallback answer);
3. CP-SAT, hinted with it, improves until it is within the stop gap of the bound, the time limit,
   or the user's Cancel.
"""


from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.balancing.cpsat import free_accounts, solve_cp_sat
from core.balancing.explain import WORKLOAD_MEASURE, explain, within
from core.balancing.greedy import greedy_repair
from core.balancing.lp import solve_lp
from core.balancing.measures import (
    RepFigures, max_deviation, move_limit, moves, objective_minutes, rep_figures, travel_minutes,
)
from core.balancing.problem import BY_CHOICES, BalanceOptions, BalanceProblem, build_problem, field_reps
from core.progress import Progress, check_cancelled
from core.storage.database import Store

# The balancing entry point; the problem, its figures and each solver phase live in their own modules.
__all__ = ["BY_CHOICES", "BalanceOptions", "BalanceProblem", "BalanceResult", "RepFigures", "balance_territories",
           "build_problem", "field_reps", "rep_figures"]

# CP-SAT rounds free this many border accounts; below it the whole model is solved exactly.
FREE_ACCOUNTS = 600
ROUND_SECONDS = 6.0


@dataclass
class BalanceResult:
    """A balancing answer: a plan (rep index per account), its figures, and how sure we are of it."""

    problem: BalanceProblem
    options: BalanceOptions
    status: str                        # balanced | not_balanced
    assign: np.ndarray
    reps: list[RepFigures]
    before: list[RepFigures]
    max_deviation_pct: float
    before_max_deviation_pct: float
    moved: int
    move_limit: int
    travel_hours: float
    bound_hours: float | None
    gap_pct: float | None
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    objective_hours: float = 0.0       # travel, plus move penalties when the flow sets them
    phases: dict[str, Any] = field(default_factory=dict)

    def move_list(self) -> list[tuple[int, int | None, int]]:
        """(account id, from rep id or None, to rep id) for every account that changes rep."""
        out = []
        for i in np.nonzero(self.assign != self.problem.current)[0]:
            frm = int(self.problem.current[i])
            out.append((int(self.problem.account_ids[i]),
                        int(self.problem.rep_ids[frm]) if frm >= 0 else None,
                        int(self.problem.rep_ids[self.assign[i]])))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "by": self.options.by, "tolerance_pct": self.options.tolerance_pct,
            "max_deviation_pct": self.max_deviation_pct, "before_max_deviation_pct": self.before_max_deviation_pct,
            "moved": self.moved, "move_limit": self.move_limit, "accounts": self.problem.n,
            "measure": WORKLOAD_MEASURE,
            "travel_hours": self.travel_hours, "travel": self.travel_hours,
            "before_travel_hours": round(sum(f.travel_hours for f in self.before), 1),
            "objective_hours": self.objective_hours,
            # The objective is travel plus this penalty for each moved account (0 when balancing everyone);
            # bound_hours and gap_pct are about the objective, not about travel alone.
            "move_penalty_hours_each": round(self.options.move_penalty_minutes / 60, 1),
            "move_penalty_hours": round(self.options.move_penalty_minutes * self.moved / 60, 1),
            "bound_hours": self.bound_hours,
            "bound": self.bound_hours, "gap_pct": self.gap_pct, "reasons": list(self.reasons),
            "seconds": round(self.seconds, 2), "phases": self.phases,
            "reps": [f.as_dict() for f in self.reps], "before": [f.as_dict() for f in self.before],
        }


def balance_territories(store: Store | None, options: BalanceOptions = BalanceOptions(),
                        progress: Progress | None = None, *, problem: BalanceProblem | None = None) -> BalanceResult:
    """Find a balanced plan (does not change anything; save it as a scenario to review and apply)."""
    started = time.perf_counter()
    deadline = started + options.seconds
    if problem is None:
        if progress is not None:
            progress.update(0, 4, "Reading accounts and reps")
        problem = build_problem(store, options)
    check_cancelled(progress)
    phases: dict[str, Any] = {}
    today = problem.current.copy()
    before = rep_figures(problem, today)
    before_dev = max_deviation(problem, today, options.by)
    limit = move_limit(problem, options)
    if problem.n == 0:
        return BalanceResult(problem, options, "balanced", today, before, before, 0.0, 0.0, 0, limit, 0.0, 0.0,
                             0.0, explain(problem, options, today), time.perf_counter() - started, phases)
    if progress is not None:
        progress.update(1, 4, "Computing the bound (LP relaxation)")
    t0 = time.perf_counter()
    lp = solve_lp(problem, options)
    phases["lp_seconds"] = round(time.perf_counter() - t0, 2)
    phases["lp_status"] = lp.status
    lp_free_status = None
    if lp.status == "infeasible" and limit < problem.n:
        lp_free_status = solve_lp(problem, options, with_move_limit=False).status
    check_cancelled(progress)
    if progress is not None:
        progress.update(2, 4, "Rounding and repairing")
    t0 = time.perf_counter()

    def feasible(assign: np.ndarray) -> bool:
        return within(problem, assign, options) and moves(problem, assign) <= limit

    starts = []
    if lp.assign is not None:
        starts.append(greedy_repair(problem, options, lp.assign, progress))
        if not feasible(starts[-1]):
            # Rounding a relaxation at the band's edge lands outside it; one inside the band rounds inside.
            tight = solve_lp(problem, replace(options, tolerance_pct=options.tolerance_pct * 0.6))
            phases["tight_lp_status"] = tight.status
            if tight.assign is not None:
                starts.append(greedy_repair(problem, options, tight.assign, progress))
    if not starts or not any(feasible(x) for x in starts):
        starts.append(greedy_repair(problem, options, today, progress))
    ok_starts = [x for x in starts if feasible(x)]
    if ok_starts:
        best, best_ok = min(ok_starts, key=lambda x: objective_minutes(problem, options, x)), True
    else:
        best, best_ok = min(starts, key=lambda x: max_deviation(problem, x, options.by)), False
    phases["repair_seconds"] = round(time.perf_counter() - t0, 2)
    phases["repair_travel_hours"] = round(travel_minutes(problem, best) / 60, 1)
    bound = lp.bound_minutes
    rng = np.random.default_rng(0)
    rounds = 0
    t0 = time.perf_counter()
    while options.use_cp_sat and lp.status != "infeasible":
        remaining = deadline - time.perf_counter() - 0.5  # leave time to write up the answer
        if remaining < 1.0:
            break
        gap_now = (objective_minutes(problem, options, best) - bound) / bound * 100 if bound and best_ok else None
        if gap_now is not None and gap_now <= options.stop_gap_pct:
            break
        if progress is not None:
            progress.update(3, 4, "Improving with CP-SAT")
        # The whole model when it is small (then CP-SAT proves optimality); otherwise rounds of a
        # few hundred border accounts at a time, the rest held at the best plan so far.
        # Without a feasible start, only the whole model can find one.
        free = free_accounts(problem, best, FREE_ACCOUNTS if rounds == 0 else FREE_ACCOUNTS // 2) if best_ok \
            else ~problem.fixed
        if best_ok and rounds and not free.all():
            extra = rng.choice(problem.n, size=min(problem.n, FREE_ACCOUNTS // 2), replace=False)
            free[extra] = True
            free &= ~problem.fixed
        whole = bool(free[~problem.fixed].all())
        seconds = remaining if whole else min(remaining, ROUND_SECONDS)
        status, assign, cp_bound = solve_cp_sat(problem, options, best, seconds, progress, bound, free)
        rounds += 1
        phases.setdefault("cp_sat_rounds", []).append(status)
        if assign is not None and feasible(assign) and (
                not best_ok or objective_minutes(problem, options, assign) <= objective_minutes(problem, options, best)):
            best, best_ok = assign, True
        if whole:
            if cp_bound is not None:
                bound = max(bound or 0, cp_bound)
            if status == "OPTIMAL":
                bound = max(bound or 0, float(objective_minutes(problem, options, best)))
            break
    phases["cp_sat_seconds"] = round(time.perf_counter() - t0, 2)
    figs = rep_figures(problem, best)
    travel = travel_minutes(problem, best)
    # With a move penalty the bound covers travel plus penalties; compare like with like.
    travel_obj = objective_minutes(problem, options, best)
    gap = ((travel_obj - bound) / bound * 100) if bound and best_ok else None
    reasons = explain(problem, options, best, lp.status, lp_free_status)
    if not best_ok and not any(r for r in reasons if "over capacity" not in r and r not in problem.skipped):
        reasons.append(f"no plan within ±{options.tolerance_pct:g}% was found in {options.seconds:g} s; "
                       "give it more time or widen the tolerance")
    if progress is not None:
        progress.update(4, 4, "Done")
    return BalanceResult(
        problem=problem, options=options, status="balanced" if best_ok else "not_balanced", assign=best,
        reps=figs, before=before, max_deviation_pct=round(max_deviation(problem, best, options.by), 2),
        before_max_deviation_pct=round(before_dev, 2), moved=moves(problem, best), move_limit=limit,
        travel_hours=round(travel / 60, 1), bound_hours=round(bound / 60, 1) if bound is not None else None,
        gap_pct=round(gap, 2) if gap is not None else None, reasons=reasons,
        seconds=time.perf_counter() - started, phases=phases, objective_hours=round(travel_obj / 60, 1))
