"""The balancing problem: what the manager asks for (BalanceOptions) and the immutable arrays built from the database."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from core.storage.database import Store
from core.workload import capacity_hours, workload_matrix

BY_CHOICES = ("workload", "potential", "both")


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


