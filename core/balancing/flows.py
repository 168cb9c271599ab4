"""Hiring and losing reps: a new rep takes a fair share from neighbours, a leaving rep's book is spread.

Both are the balancing model with a heavy price on every move, so the plan moves as few accounts
as the tolerance allows (adding a rep must not gut anyone's book).
"""

from __future__ import annotations

from dataclasses import replace

from core.balancing.model import BalanceOptions, BalanceResult, balance_territories, build_problem, field_reps
from core.progress import Progress
from core.storage.database import Store

# Worth more than any account's yearly travel, so the solver trades travel for fewer moves.
MOVE_PENALTY_MINUTES = 20_000


def plan_new_rep(store: Store, rep_id: int, options: BalanceOptions = BalanceOptions(),
                 progress: Progress | None = None) -> BalanceResult:
    """A plan giving an (already added, located) rep a fair share with as few moves as possible."""
    reps = field_reps(store, options.rep_ids)
    if rep_id not in {r["id"] for r in reps}:
        reps += field_reps(store, [rep_id])
    new = next(r for r in reps if r["id"] == rep_id)
    if new.get("home_lat") is None or new.get("home_lon") is None:
        raise ValueError(f"reps: {new['name']} has no home location; set it before planning their territory")
    options = replace(options, rep_ids=tuple(r["id"] for r in reps),
                      move_penalty_minutes=max(options.move_penalty_minutes, MOVE_PENALTY_MINUTES))
    problem = build_problem(store, options, reps=reps, include_unowned=False)
    return balance_territories(store, options, progress, problem=problem)


def plan_rep_leaving(store: Store, rep_id: int, options: BalanceOptions = BalanceOptions(),
                     progress: Progress | None = None) -> BalanceResult:
    """A plan spreading a leaving rep's accounts over the others, moving few of anyone else's."""
    reps = [r for r in field_reps(store, options.rep_ids) if r["id"] != rep_id]
    if not reps:
        raise ValueError("reps: nobody would be left to take the accounts")
    options = replace(options, rep_ids=tuple(r["id"] for r in reps),
                      move_penalty_minutes=max(options.move_penalty_minutes, MOVE_PENALTY_MINUTES))
    problem = build_problem(store, options, reps=reps, include_unowned=False, release_rep_ids=[rep_id])
    return balance_territories(store, options, progress, problem=problem)
