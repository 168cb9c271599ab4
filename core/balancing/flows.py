"""Hiring and losing reps: a new rep takes a fair share from neighbours, a leaving rep's book is spread.

Both are the balancing model with a heavy price on every move, so the plan moves as few accounts
as the tolerance allows (adding a rep must not gut anyone's book).
"""

from __future__ import annotations

from dataclasses import replace

from core.balancing.model import BalanceResult, balance_territories
from core.balancing.problem import BalanceOptions, build_problem, field_reps
from core.changes import Changes
from core.progress import Progress
from core.reps import create_rep
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


def hire_rep(store: Store, name: str, home_zip: str, capacity_hours_week: float = 40.0, working_weeks: int = 46,
             manager_id: int | None = None) -> tuple[int, Changes]:
    """Add a field rep whose home is the centre of a US ZIP code, ready for plan_new_rep."""
    import zipcodes

    name = (name or "").strip()
    if not name:
        raise ValueError("name: a name is required")
    code = (home_zip or "").strip()[:5]
    try:
        found = zipcodes.matching(code) if code.isdigit() and len(code) == 5 else []
    except (TypeError, ValueError):
        found = []
    found = [z for z in found if z.get("lat") and z.get("long")]
    if not found:
        raise ValueError(f"home ZIP code: no US ZIP code {home_zip!r} with a known location")
    if not 0 < float(capacity_hours_week) <= 80:
        raise ValueError(f"capacity_hours_week: must be between 0 and 80 hours (got {capacity_hours_week})")
    if not 1 <= int(working_weeks) <= 52:
        raise ValueError(f"working_weeks: must be between 1 and 52 (got {working_weeks})")
    z = found[0]
    if manager_id is None:
        manager_id = store.scalar("SELECT id FROM reps WHERE role = 'manager' AND deleted_at IS NULL ORDER BY id")
    return create_rep(store, {
        "name": name, "role": "rep", "manager_id": manager_id, "home_city": z["city"], "home_state": z["state"],
        "home_postal_code": z["zip_code"], "home_lat": float(z["lat"]), "home_lon": float(z["long"]),
        "capacity_hours_week": float(capacity_hours_week), "working_weeks": int(working_weeks),
        "time_zone": z.get("timezone") or "America/Chicago", "active": 1})
