"""Scenarios: a balancing answer saved for review, compared with today, and applied by a manager.

Applying changes owners, closes and opens effective-dated assignment rows (with the scenario id),
and records the moved accounts in one named-accounts territory per receiving rep, so the rules of
engagement agree with the new owners instead of reporting every move as a disagreement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.balancing.measures import rep_figures
from core.balancing.model import BalanceResult
from core.balancing.problem import BalanceOptions, build_problem, field_reps
from core.changes import Changes
from core.storage import writes
from core.storage.database import Store

EXCEPTIONS_PRECEDENCE = 100
EXCEPTIONS_PREFIX = "Balanced accounts — "


class ScenarioError(ValueError):
    """A scenario action that was refused; the message says why in plain words."""


class NotAManager(ScenarioError):
    """Only a manager may apply a scenario."""


def require_manager(store: Store, rep_id: int | None) -> dict[str, Any]:
    """The acting person, if they are a manager; otherwise NotAManager."""
    if rep_id is None:
        raise NotAManager("applying a scenario needs a manager: choose who you are acting as")
    row = store.conn.execute("SELECT id, name, role FROM reps WHERE id = ? AND deleted_at IS NULL",
                             (rep_id,)).fetchone()
    if row is None:
        raise NotAManager(f"acting as: no person with id {rep_id}")
    if row["role"] not in ("manager", "admin"):
        raise NotAManager(f"{row['name']} is a {row['role']}; only a manager can apply a scenario")
    return dict(row)


def managers(store: Store) -> list[dict[str, Any]]:
    """People who may apply scenarios."""
    return [dict(r) for r in store.conn.execute(
        "SELECT id, name, role FROM reps WHERE deleted_at IS NULL AND role IN ('manager', 'admin') ORDER BY name")]


def _primary_territory(store: Store) -> dict[int, int]:
    """rep id -> the one leaf territory they own (reps owning several or none are left out)."""
    out: dict[int, list[int]] = {}
    for r in store.conn.execute(
            "SELECT id, owner_id FROM territories WHERE deleted_at IS NULL AND level = 'territory' "
            "AND kind = 'geographic' AND owner_id IS NOT NULL"):
        out.setdefault(r["owner_id"], []).append(r["id"])
    return {rep: ids[0] for rep, ids in out.items() if len(ids) == 1}


def save_scenario(store: Store, result: BalanceResult, name: str | None = None, kind: str = "balance"
                  ) -> tuple[int, Changes]:
    """Store a balancing answer (params, summary, moves) as a draft scenario; changes no owner."""
    moves = result.move_list()
    home = _primary_territory(store)
    territory_of = {r["id"]: r["territory_id"] for r in store.conn.execute(
        "SELECT id, territory_id FROM accounts WHERE deleted_at IS NULL")}
    summary = result.as_dict()
    params = {"rep_ids": [int(x) for x in result.problem.rep_ids], "tolerance_pct": result.options.tolerance_pct,
              "max_moves_pct": result.options.max_moves_pct, "seconds": result.options.seconds,
              "by": result.options.by, "candidates": result.options.candidates,
              "move_penalty_minutes": result.options.move_penalty_minutes}
    name = name or f"{kind.replace('_', ' ').capitalize()} {writes.utc_now()[:16].replace('T', ' ')}"
    with store.atomic():
        scenario_id = writes.insert(store, "scenarios", {
            "name": name, "kind": kind, "params": json.dumps(params),
            "summary": json.dumps(summary, default=float), "status": "draft", "applied_at": None})
        writes.insert_many(store, "scenario_moves", [
            {"scenario_id": scenario_id, "account_id": a, "from_rep_id": f, "to_rep_id": t,
             "from_territory_id": territory_of.get(a), "to_territory_id": home.get(t)} for a, f, t in moves])
    return scenario_id, Changes.of("scenarios", [scenario_id], f"scenario saved ({len(moves):,} moves)")


def list_scenarios(store: Store) -> list[dict[str, Any]]:
    """Saved scenarios, newest first, with their headline figures."""
    out = []
    for r in store.conn.execute("SELECT * FROM scenarios WHERE deleted_at IS NULL ORDER BY id DESC"):
        summary = json.loads(r["summary"] or "{}")
        out.append({"id": r["id"], "name": r["name"], "kind": r["kind"], "status": r["status"],
                    "created_at": r["created_at"], "applied_at": r["applied_at"],
                    "moved": summary.get("moved"), "max_deviation_pct": summary.get("max_deviation_pct"),
                    "result_status": summary.get("status")})
    return out


def scenario_moves(store: Store, scenario_id: int) -> list[dict[str, Any]]:
    """The moves of a scenario with account and rep names, for the moves table."""
    return [dict(r) for r in store.conn.execute(
        "SELECT m.account_id, a.name AS account, a.city, m.from_rep_id, fr.name AS from_rep, m.to_rep_id, "
        "tr.name AS to_rep, a.owner_id AS owner_now FROM scenario_moves m JOIN accounts a ON a.id = m.account_id "
        "LEFT JOIN reps fr ON fr.id = m.from_rep_id LEFT JOIN reps tr ON tr.id = m.to_rep_id "
        "WHERE m.scenario_id = ? AND m.deleted_at IS NULL ORDER BY a.name", (scenario_id,))]


def _scenario(store: Store, scenario_id: int):
    row = store.conn.execute("SELECT * FROM scenarios WHERE id = ? AND deleted_at IS NULL", (scenario_id,)).fetchone()
    if row is None:
        raise ScenarioError(f"scenario {scenario_id} does not exist")
    return row


@dataclass(frozen=True)
class Comparison:
    """Today beside the scenario, per rep, recomputed from today's owners."""

    scenario_id: int
    name: str
    status: str
    today: list[dict[str, Any]]     # before (today, or before applying)
    scenario: list[dict[str, Any]]  # after
    moved: int
    stale: int                      # moves whose account changed owner since the scenario was made (or applied)
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def compare_scenario(store: Store, scenario_id: int) -> Comparison:
    """Per-rep accounts, workload hours, target hours and potential: today and with the scenario.

    For an applied scenario "today" is how things stood before it was applied, and stale counts moves
    that no longer hold.
    """
    row = _scenario(store, scenario_id)
    params = json.loads(row["params"] or "{}")
    rep_ids = params.get("rep_ids")
    reps = field_reps(store, rep_ids) if rep_ids else field_reps(store)
    options = BalanceOptions(tolerance_pct=params.get("tolerance_pct", 2.0), by=params.get("by", "workload"))
    moves = scenario_moves(store, scenario_id)
    released = {m["from_rep_id"] for m in moves if m["from_rep_id"] is not None} - {r["id"] for r in reps}
    problem = build_problem(store, options, reps=reps, include_unowned=True, release_rep_ids=sorted(released))
    index = {int(a): i for i, a in enumerate(problem.account_ids)}
    rep_index = {int(r): k for k, r in enumerate(problem.rep_ids)}
    applied = row["status"] == "applied"
    before = problem.current.copy()
    after = problem.current.copy()
    stale = 0
    for m in moves:
        i = index.get(m["account_id"])
        owner_now = m["owner_now"]
        if applied:
            # Applied: "after" is today; rebuild "before" from the moves that still hold.
            if i is None or owner_now != m["to_rep_id"]:
                stale += 1
            elif m["from_rep_id"] in rep_index:
                before[i] = rep_index[m["from_rep_id"]]
            continue
        if i is None or owner_now != m["from_rep_id"] and not (m["from_rep_id"] in released and owner_now in released):
            stale += 1
            continue
        if m["to_rep_id"] in rep_index:
            after[i] = rep_index[m["to_rep_id"]]
    today_rows = [f.as_dict() for f in rep_figures(problem, before)]
    after_rows = [f.as_dict() for f in rep_figures(problem, after)]
    return Comparison(scenario_id, row["name"], row["status"], today_rows, after_rows, len(moves), stale,
                      json.loads(row["summary"] or "{}"))


def apply_scenario(store: Store, scenario_id: int, acting_rep_id: int | None, effective: date | str | None = None,
                   record_exceptions: bool = True) -> Changes:
    """Give the moved accounts to their new reps (manager only), with ownership history from `effective`.

    Refuses, changing nothing, when the scenario was already applied or discarded, or when any
    moved account changed owner since the scenario was made (balance again instead).
    """
    manager = require_manager(store, acting_rep_id)
    row = _scenario(store, scenario_id)
    if row["status"] != "draft":
        raise ScenarioError(f"scenario {scenario_id} is already {row['status']}")
    day = (effective.isoformat() if isinstance(effective, date) else str(effective or writes.utc_now()[:10]))[:10]
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ScenarioError(f"effective date: use YYYY-MM-DD (got {effective!r})") from None
    moves = scenario_moves(store, scenario_id)
    stale = [m for m in moves if m["owner_now"] != m["from_rep_id"]]
    if stale:
        raise ScenarioError(f"{len(stale):,} of the scenario's accounts changed owner since it was made "
                            f"(e.g. {stale[0]['account']}); balance again")
    to_territory = {r["account_id"]: r["to_territory_id"] for r in store.conn.execute(
        "SELECT account_id, to_territory_id FROM scenario_moves WHERE scenario_id = ? AND deleted_at IS NULL",
        (scenario_id,))}
    changed_territories: set[int] = set()
    with store.atomic():
        edits = {}
        for m in moves:
            values: dict[str, Any] = {"owner_id": m["to_rep_id"]}
            if to_territory.get(m["account_id"]) is not None:
                values["territory_id"] = to_territory[m["account_id"]]
            edits[m["account_id"]] = values
        writes.update_many(store, "accounts", edits)
        ids = [m["account_id"] for m in moves]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            open_rows = [r[0] for r in store.conn.execute(
                f"SELECT id FROM assignments WHERE valid_to IS NULL AND deleted_at IS NULL "
                f"AND account_id IN ({','.join('?' * len(chunk))})", chunk)]
            writes.update_many(store, "assignments", {rid: {"valid_to": day} for rid in open_rows})
        writes.insert_many(store, "assignments", [
            {"account_id": m["account_id"], "rep_id": m["to_rep_id"],
             "territory_id": to_territory.get(m["account_id"]), "valid_from": day, "valid_to": None,
             "reason": f"scenario {scenario_id} applied by {manager['name']}", "scenario_id": scenario_id}
            for m in moves])
        if record_exceptions and moves:
            changed_territories = _record_exceptions(store, moves)
        writes.update(store, "scenarios", scenario_id, {"status": "applied", "applied_at": writes.utc_now()})
    changes = Changes.of("accounts", ids, f"scenario applied: {len(ids):,} accounts changed owner")
    changes = changes.merge(Changes.of("scenarios", [scenario_id]))
    if changed_territories:
        changes = changes.merge(Changes.of("territories", changed_territories))
    return changes


def _record_exceptions(store: Store, moves: list[dict[str, Any]]) -> set[int]:
    """Keep the rules in step with the new owners: one named-accounts territory per receiving rep."""
    existing = {}
    for r in store.conn.execute(
            "SELECT id, owner_id, rule FROM territories WHERE deleted_at IS NULL AND kind = 'named' AND name LIKE ?",
            (EXCEPTIONS_PREFIX + "%",)):
        existing[r["owner_id"]] = (r["id"], set(json.loads(r["rule"] or "{}").get("account_ids", [])))
    moved = {m["account_id"] for m in moves}
    wanted: dict[int, set[int]] = {rep: ids - moved for rep, (_tid, ids) in existing.items()}
    for m in moves:
        wanted.setdefault(m["to_rep_id"], set()).add(m["account_id"])
    home = _primary_territory(store)
    parents = {r["id"]: r["parent_id"] for r in store.conn.execute("SELECT id, parent_id FROM territories")}
    names = {r["id"]: r["name"] for r in store.conn.execute("SELECT id, name FROM reps")}
    colors = {r["id"]: r["color"] for r in store.conn.execute("SELECT id, color FROM reps")}
    touched = set()
    for rep, ids in wanted.items():
        rule = json.dumps({"account_ids": sorted(ids)})
        if rep in existing:
            tid = existing[rep][0]
            if ids != existing[rep][1]:
                writes.update(store, "territories", tid, {"rule": rule})
                touched.add(tid)
        elif ids:
            tid = writes.insert(store, "territories", {
                "name": EXCEPTIONS_PREFIX + names.get(rep, str(rep)), "kind": "named", "level": "territory",
                "parent_id": parents.get(home.get(rep)), "rule": rule, "precedence": EXCEPTIONS_PRECEDENCE,
                "owner_id": rep, "goal_cents": None, "color": colors.get(rep)})
            touched.add(tid)
    return touched


def discard_scenario(store: Store, scenario_id: int) -> Changes:
    """Mark a draft scenario discarded (it stays for the record)."""
    row = _scenario(store, scenario_id)
    if row["status"] != "draft":
        raise ScenarioError(f"scenario {scenario_id} is already {row['status']}")
    with store.atomic():
        writes.update(store, "scenarios", scenario_id, {"status": "discarded"})
    return Changes.of("scenarios", [scenario_id], "scenario discarded")


def moved_account_ids(store: Store, scenario_id: int) -> list[int]:
    """Ids of the accounts a scenario moves (for selecting them in other views)."""
    return [r[0] for r in store.conn.execute(
        "SELECT account_id FROM scenario_moves WHERE scenario_id = ? AND deleted_at IS NULL", (scenario_id,))]

