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

import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from core.balancing.workload import capacity_hours, workload_matrix
from core.progress import Cancelled, Progress, check_cancelled
from core.storage.database import Store

BY_CHOICES = ("workload", "potential", "both")
# CP-SAT rounds free this many border accounts; below it the whole model is solved exactly.
FREE_ACCOUNTS = 600
ROUND_SECONDS = 6.0


@dataclass(frozen=True)
class BalanceOptions:
    """What the manager asks for."""

    rep_ids: tuple[int, ...] | None = None   # None: every active field rep
    tolerance_pct: float = 2.0
    max_moves_pct: float = 100.0
    seconds: float = 20.0
    by: str = "workload"                     # workload | potential | both
    candidates: int = 12                     # nearest reps an account may go to (plus today's owner)
    workers: int = 2
    move_penalty_minutes: int = 0            # travel minutes a year one move is worth avoiding
    stop_gap_pct: float = 0.25               # stop once travel is this close to the proven bound
    use_cp_sat: bool = True

    def __post_init__(self) -> None:
        if self.by not in BY_CHOICES:
            raise ValueError(f"by: must be one of {', '.join(BY_CHOICES)} (got {self.by!r})")
        if not 0 < self.tolerance_pct <= 100:
            raise ValueError(f"tolerance: must be between 0 and 100 percent (got {self.tolerance_pct})")
        if not 0 <= self.max_moves_pct <= 100:
            raise ValueError(f"max moves: must be between 0 and 100 percent (got {self.max_moves_pct})")
        if self.seconds <= 0:
            raise ValueError(f"seconds: must be more than 0 (got {self.seconds})")


@dataclass(frozen=True)
class BalanceProblem:
    """Everything the solver needs, as arrays (accounts x reps); built once, never changed."""

    account_ids: np.ndarray          # (n,)
    account_names: tuple[str, ...]
    rep_ids: np.ndarray              # (m,)
    rep_names: tuple[str, ...]
    current: np.ndarray              # (n,) rep index today, -1 when unowned or owned outside the scope
    fixed: np.ndarray                # (n,) bool: locked or named, stays with today's owner
    fixed_reason: tuple[str, ...]    # per account: 'locked' | 'named' | ''
    work: np.ndarray                 # (n, m) int workload minutes a year
    travel: np.ndarray               # (n, m) int travel minutes a year
    potential: np.ndarray            # (n,) int potential in dollars
    potential_cents: np.ndarray      # (n,) int
    share: np.ndarray                # (m,) int weight of each rep's target (from capacity)
    capacity_hours: np.ndarray       # (m,) float
    candidates: np.ndarray           # (n, K) rep indices, -1 padded
    skipped: tuple[str, ...] = ()    # accounts left out and why, in plain words

    @property
    def n(self) -> int:
        return len(self.account_ids)

    @property
    def m(self) -> int:
        return len(self.rep_ids)


def _named_account_ids(store: Store) -> set[int]:
    """Accounts a named-accounts territory holds; balancing leaves them with their owner."""
    from core.territories.engagement import list_territories, load_accounts
    from core.territories.rules import RuleError, compile_rule

    named = [t for t in list_territories(store) if t.kind == "named" and not t.overlay]
    if not named:
        return set()
    snapshot = load_accounts(store)
    out: set[int] = set()
    for t in named:
        try:
            predicate = compile_rule(t.rule)
        except RuleError:
            continue
        out.update(a.id for a in snapshot.facts if predicate(a))
    return out


def field_reps(store: Store, rep_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The reps to balance: the given ids (checked) or every active role='rep' person."""
    if rep_ids is None:
        return [dict(r) for r in store.conn.execute(
            "SELECT * FROM reps WHERE deleted_at IS NULL AND active = 1 AND role = 'rep' ORDER BY id")]
    rows = {r["id"]: dict(r) for r in store.conn.execute(
        f"SELECT * FROM reps WHERE deleted_at IS NULL AND id IN ({','.join('?' * len(rep_ids))})", list(rep_ids))}
    missing = [i for i in rep_ids if i not in rows]
    if missing:
        raise ValueError(f"reps: no rep with id {missing[0]}")
    return [rows[i] for i in rep_ids]


def build_problem(store: Store, options: BalanceOptions = BalanceOptions(), *,
                  reps: list[dict[str, Any]] | None = None, include_unowned: bool | None = None,
                  release_rep_ids: Sequence[int] = ()) -> BalanceProblem:
    """Read reps and accounts and compute the workload matrices.

    Accounts of `release_rep_ids` (a rep who is leaving) are in scope as if unowned, locks ignored.
    """
    reps = reps if reps is not None else field_reps(store, options.rep_ids)
    if not reps:
        raise ValueError("reps: there are no field reps to balance")
    homeless = [r["name"] for r in reps if r.get("home_lat") is None or r.get("home_lon") is None]
    if homeless:
        raise ValueError(f"reps: {homeless[0]} has no home location (travel is measured from it); set it first")
    rep_index = {r["id"]: k for k, r in enumerate(reps)}
    if include_unowned is None:
        include_unowned = options.rep_ids is None
    rows = [dict(r) for r in store.conn.execute(
        "SELECT id, name, lat, lon, owner_id, locked, potential_cents, visit_frequency, visit_minutes, status "
        "FROM accounts WHERE deleted_at IS NULL AND status != 'inactive' ORDER BY id")]
    named = _named_account_ids(store)
    kept, skipped = [], []
    no_location = 0
    null_island: list[str] = []
    released = set(release_rep_ids)
    for r in rows:
        if r["owner_id"] in released:
            r["owner_id"] = None
            r["locked"] = 0
            r["_released"] = True
        in_scope = r["owner_id"] in rep_index or ((include_unowned or r.get("_released")) and r["owner_id"] is None)
        if not in_scope:
            continue
        if r["lat"] is not None and r["lon"] is not None and abs(r["lat"]) < 0.5 and abs(r["lon"]) < 0.5:
            # 0°, 0° is a failed geocode (the zipcodes data has such ZIPs), not a customer in the Atlantic.
            r["lat"] = r["lon"] = None
            null_island.append(r["name"])
        if r["lat"] is None or r["lon"] is None:
            if r.get("_released"):
                pass  # a leaving rep's unlocated account still needs someone: visit time only, anywhere
            elif r["owner_id"] is None:
                no_location += 1
                continue
            else:
                r["_fixed"] = "no location"
        kept.append(r)
    if no_location:
        skipped.append(f"{no_location:,} unowned accounts have no location and were left out")
    if null_island:
        skipped.append(f"{len(null_island):,} accounts sit at 0°, 0° (a failed geocode, e.g. {null_island[0]}); "
                       "they stay with their owner and count visit time only")
    work_f, travel_f = workload_matrix(kept, reps)
    n, m = len(kept), len(reps)
    current = np.array([rep_index.get(r["owner_id"], -1) for r in kept], dtype=np.int64)
    reasons = []
    for r in kept:
        if r.get("_fixed"):
            reasons.append(r["_fixed"])
        elif r["locked"]:
            reasons.append("locked")
        elif r["id"] in named:
            reasons.append("named")
        else:
            reasons.append("")
    fixed = np.array([bool(x) for x in reasons], dtype=bool) & (current >= 0)
    caps = np.array([capacity_hours(r) for r in reps], dtype=float)
    if (caps <= 0).any():
        bad = reps[int(np.argmin(caps))]
        raise ValueError(f"reps: {bad['name']} has no capacity (hours per week x working weeks is 0)")
    # Integer target weights from capacity, small so the CP-SAT coefficients stay small.
    share = np.maximum(1, np.round(caps / caps.min() * 20)).astype(np.int64)
    g = int(np.gcd.reduce(share))
    share //= g
    k = max(1, min(options.candidates, m))
    # When the rep set is small every rep is a candidate and the model is exact.
    order = np.argsort(travel_f, axis=1, kind="stable")[:, :k] if n else np.zeros((0, k), dtype=np.int64)
    lists = [list(order[i]) for i in range(n)]
    if k < m and n:
        # Each rep is also a candidate for the accounts nearest its home, so a rep who is nobody's
        # k-th nearest (a suburb beside a big city) can still reach its target.
        reach = min(n, int(math.ceil(1.5 * n / m)))
        nearest_accounts = np.argsort(travel_f, axis=0, kind="stable")[:reach, :]
        for r in range(m):
            for i in nearest_accounts[:, r]:
                if r not in lists[i]:
                    lists[int(i)].append(r)
    for i in range(n):
        if fixed[i]:
            lists[i] = [int(current[i])]
        elif current[i] >= 0 and current[i] not in lists[i]:
            lists[i].append(int(current[i]))
    width = max((len(c) for c in lists), default=1)
    cand = np.full((n, width), -1, dtype=np.int64)
    for i, c in enumerate(lists):
        cand[i, :len(c)] = c
    potential_cents = np.array([r["potential_cents"] or 0 for r in kept], dtype=np.int64)
    return BalanceProblem(
        account_ids=np.array([r["id"] for r in kept], dtype=np.int64),
        account_names=tuple(r["name"] for r in kept),
        rep_ids=np.array([r["id"] for r in reps], dtype=np.int64),
        rep_names=tuple(r["name"] for r in reps),
        current=current, fixed=fixed, fixed_reason=tuple(reasons),
        work=np.rint(work_f).astype(np.int64), travel=np.rint(travel_f).astype(np.int64),
        potential=np.rint(potential_cents / 100).astype(np.int64), potential_cents=potential_cents,
        share=share, capacity_hours=caps, candidates=cand, skipped=tuple(skipped))


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
        return {"rep_id": self.rep_id, "name": self.name, "accounts": self.accounts,
                "workload_hours": self.workload_hours, "target_hours": self.target_hours,
                "capacity_hours": self.capacity_hours, "deviation_pct": self.deviation_pct,
                "potential": self.potential_cents / 100, "potential_cents": self.potential_cents,
                "target_potential": self.target_potential_cents / 100,
                "potential_deviation_pct": self.potential_deviation_pct, "travel_hours": self.travel_hours}


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


def _move_limit(problem: BalanceProblem, options: BalanceOptions) -> int:
    return int(math.floor(options.max_moves_pct / 100 * problem.n + 1e-9))


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
    limit = _move_limit(problem, options)
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


# --- the LP bound ------------------------------------------------------------------------
@dataclass
class LpResult:
    status: str                       # optimal | infeasible | failed
    bound_minutes: float | None       # LP optimum: a bound for the model over each account's candidates
    assign: np.ndarray | None


def solve_lp(problem: BalanceProblem, options: BalanceOptions, *, with_move_limit: bool = True) -> LpResult:
    """The LP relaxation with GLOP: a proven lower bound on travel, and a mostly integral start."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    # Dual simplex: the balance rows make primal simplex crawl (81 s against 5 s on 10,000 accounts).
    solver.SetSolverSpecificParametersAsString("use_dual_simplex: true")
    n, m = problem.n, problem.m
    tol = options.tolerance_pct / 100
    frac = problem.share / problem.share.sum()
    inf = solver.infinity()
    cand = problem.candidates
    xs: list[list[tuple[int, Any]]] = []
    total = solver.NumVar(0, inf, "T")
    work_rows = [solver.Constraint(0, 0) for _ in range(m)]    # W_r - sum w x = 0 via expression below
    w_vars = [solver.NumVar(0, inf, f"W{r}") for r in range(m)]
    for r in range(m):
        work_rows[r].SetCoefficient(w_vars[r], 1)
    total_row = solver.Constraint(0, 0)
    total_row.SetCoefficient(total, 1)
    for r in range(m):
        total_row.SetCoefficient(w_vars[r], -1)
    pot_rows = [solver.Constraint(frac[r] * problem.potential.sum() * (1 - tol),
                                  frac[r] * problem.potential.sum() * (1 + tol))
                for r in range(m)] if options.by in ("potential", "both") else None
    limit = _move_limit(problem, options)
    owned = int((problem.current >= 0).sum())
    # sum over accounts of x[i, today's owner] >= owned - limit  (unowned accounts always "move")
    stay_row = solver.Constraint(owned - limit, inf) if with_move_limit and limit < problem.n else None
    objective = solver.Objective()
    for i in range(n):
        row = solver.Constraint(1, 1)
        entries = []
        for r in cand[i]:
            if r < 0:
                continue
            x = solver.NumVar(0, 1, "")
            row.SetCoefficient(x, 1)
            work_rows[r].SetCoefficient(x, -float(problem.work[i, r]))
            if pot_rows is not None:
                pot_rows[r].SetCoefficient(x, float(problem.potential[i]))
            cost = float(problem.travel[i, r])
            if options.move_penalty_minutes and r != problem.current[i]:
                cost += options.move_penalty_minutes
            objective.SetCoefficient(x, cost)
            if stay_row is not None and r == problem.current[i]:
                stay_row.SetCoefficient(x, 1)
            entries.append((int(r), x))
        xs.append(entries)
    if options.by in ("workload", "both"):
        for r in range(m):
            hi = solver.Constraint(-inf, 0)
            hi.SetCoefficient(w_vars[r], 1)
            hi.SetCoefficient(total, -frac[r] * (1 + tol))
            lo = solver.Constraint(0, inf)
            lo.SetCoefficient(w_vars[r], 1)
            lo.SetCoefficient(total, -frac[r] * (1 - tol))
    objective.SetMinimization()
    status = solver.Solve()
    if status == pywraplp.Solver.INFEASIBLE:
        return LpResult("infeasible", None, None)
    if status != pywraplp.Solver.OPTIMAL:
        return LpResult("failed", None, None)
    assign = np.array([max(entries, key=lambda e: e[1].solution_value())[0] for entries in xs], dtype=np.int64) \
        if n else np.zeros(0, np.int64)
    return LpResult("optimal", objective.Value(), assign)


# --- CP-SAT ------------------------------------------------------------------------------
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
    limit = _move_limit(problem, options)
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


# --- the whole flow ----------------------------------------------------------------------
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
            "travel_hours": self.travel_hours, "travel": self.travel_hours, "objective_hours": self.objective_hours,
            "bound_hours": self.bound_hours,
            "bound": self.bound_hours, "gap_pct": self.gap_pct, "reasons": list(self.reasons),
            "seconds": round(self.seconds, 2), "phases": self.phases,
            "reps": [f.as_dict() for f in self.reps], "before": [f.as_dict() for f in self.before],
        }


def _within(problem: BalanceProblem, assign: np.ndarray, options: BalanceOptions) -> bool:
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
            reasons.append(f"the move limit ({options.max_moves_pct:g}% = {_move_limit(problem, options):,} accounts) "
                           "is too tight: balancing to the tolerance needs more accounts to move")
        elif not any("over target" in r or "more potential" in r for r in reasons):
            biggest = problem.work.min(axis=1).max() / 60 if problem.n else 0
            reasons.append(f"no plan keeps every rep within ±{options.tolerance_pct:g}% "
                           f"with each account limited to its {options.candidates} nearest reps "
                           f"(the largest account alone is {biggest:,.0f} h a year even for its nearest rep); widen the tolerance")
    return reasons


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
    limit = _move_limit(problem, options)
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
        return _within(problem, assign, options) and moves(problem, assign) <= limit

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
