"""Goals against results: revenue and new accounts from closed deals, visits from logged (done) visits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.changes import Changes
from core.goals.periods import normalise_period, period_range
from core.money import format_cents
from core.storage import writes
from core.storage.database import Store

METRICS = {"revenue_cents": "Revenue", "visits": "Visits", "new_accounts": "New accounts"}
METRIC_ALIASES = {"revenue": "revenue_cents", "revenue_cents": "revenue_cents", "visits": "visits",
                  "new_accounts": "new_accounts", "new-accounts": "new_accounts", "accounts": "new_accounts"}


class GoalProblem(ValueError):
    pass


@dataclass(frozen=True)
class GoalResult:
    goal_id: int
    period: str
    metric: str
    who: str            # "Maria Garcia" or "Austin Metro (territory)"
    rep_id: int | None
    territory_id: int | None
    target: int
    result: int

    @property
    def attainment(self) -> float:
        return self.result / self.target if self.target else 0.0

    def formatted(self, value: int) -> str:
        return format_cents(value, whole=True) if self.metric == "revenue_cents" else f"{value:,}"

    def as_dict(self) -> dict[str, Any]:
        return {"goal_id": self.goal_id, "period": self.period, "metric": self.metric, "who": self.who,
                "rep_id": self.rep_id, "territory_id": self.territory_id, "target": self.target,
                "result": self.result, "attainment_pct": round(100 * self.attainment, 1)}


def set_goal(store: Store, *, period: str, metric: str, target: int, rep_id: int | None = None,
             territory_id: int | None = None) -> tuple[int, Changes]:
    """Set the goal for a rep (or a territory) and period; an existing one for the same metric is changed."""
    metric = METRIC_ALIASES.get(metric.strip().lower(), "")
    if not metric:
        raise GoalProblem("metric: choose revenue, visits or new_accounts")
    if target < 0:
        raise GoalProblem(f"target {target}: must not be negative")
    if (rep_id is None) == (territory_id is None):
        raise GoalProblem("a goal is for one rep or one territory")
    period = normalise_period(period)
    with store.atomic():
        row = store.conn.execute(
            "SELECT id FROM goals WHERE deleted_at IS NULL AND period = ? AND metric = ? AND "
            + ("rep_id = ?" if rep_id is not None else "rep_id IS NULL AND territory_id = ?"),
            (period, metric, rep_id if rep_id is not None else territory_id)).fetchone()
        if row:
            writes.update(store, "goals", row["id"], {"target": target})
            return row["id"], Changes.of("goals", [row["id"]], "goal changed")
        gid = writes.insert(store, "goals", {"rep_id": rep_id, "territory_id": territory_id if rep_id is None else None,
                                             "period": period, "metric": metric, "target": target})
    return gid, Changes.of("goals", [gid], "goal set")


def _rep_ids_for_territory(store: Store, territory_id: int) -> list[int]:
    # A territory's results are those of its owner and primary members (and of child territories' owners).
    ids = {r[0] for r in store.conn.execute(
        "WITH RECURSIVE t(id) AS (SELECT ? UNION SELECT x.id FROM territories x JOIN t ON x.parent_id = t.id "
        "WHERE x.deleted_at IS NULL) SELECT owner_id FROM territories WHERE id IN (SELECT id FROM t) "
        "AND owner_id IS NOT NULL", (territory_id,))}
    return sorted(ids)


def measure(store: Store, metric: str, period: str, rep_ids: list[int]) -> int:
    """The result of `metric` in `period` for these reps."""
    start, end = period_range(period)
    marks = ",".join("?" * len(rep_ids))
    if not rep_ids:
        return 0
    if metric == "revenue_cents":
        return store.scalar(f"SELECT coalesce(sum(amount_cents), 0) FROM deals WHERE deleted_at IS NULL AND stage = 'won' "
                            f"AND closed_on >= ? AND closed_on < ? AND rep_id IN ({marks})",
                            (start.isoformat(), end.isoformat(), *rep_ids))
    if metric == "new_accounts":
        return store.scalar(f"SELECT count(*) FROM deals WHERE deleted_at IS NULL AND stage = 'won' AND new_account = 1 "
                            f"AND closed_on >= ? AND closed_on < ? AND rep_id IN ({marks})",
                            (start.isoformat(), end.isoformat(), *rep_ids))
    if metric == "visits":
        return store.scalar(f"SELECT count(*) FROM visits WHERE deleted_at IS NULL AND status = 'done' "
                            f"AND coalesce(check_in_at, planned_start) >= ? AND coalesce(check_in_at, planned_start) < ? "
                            f"AND rep_id IN ({marks})", (start.isoformat(), end.isoformat(), *rep_ids))
    raise GoalProblem(f"unknown metric {metric!r}")


def goal_results(store: Store, period: str | None = None) -> list[GoalResult]:
    """Every live goal (of one period, if given) with its result so far, reps first then territories."""
    sql = ("SELECT g.*, r.name AS rep_name, t.name AS territory_name FROM goals g LEFT JOIN reps r ON r.id = g.rep_id "
           "LEFT JOIN territories t ON t.id = g.territory_id WHERE g.deleted_at IS NULL")
    params: tuple = ()
    if period:
        sql += " AND g.period = ?"
        params = (normalise_period(period),)
    out = []
    for g in store.conn.execute(sql + " ORDER BY g.period, g.metric, g.rep_id IS NULL, coalesce(r.name, t.name)", params):
        if g["rep_id"] is not None:
            reps, who = [g["rep_id"]], g["rep_name"]
        else:
            reps, who = _rep_ids_for_territory(store, g["territory_id"]), f"{g['territory_name']} (territory)"
        out.append(GoalResult(g["id"], g["period"], g["metric"], who, g["rep_id"],
                              g["territory_id"], g["target"], measure(store, g["metric"], g["period"], reps)))
    return out


def periods_with_goals(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT period FROM goals WHERE deleted_at IS NULL ORDER BY period DESC")]
