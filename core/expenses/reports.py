"""Expense reports: one per rep and month, draft → submitted → approved | rejected (→ resubmitted) → exported.

Submitting locks the report and its items (their mileage amounts are frozen then); only a manager or
an admin, and never the report's own rep, approves or rejects (with a reason); a rejected report is
editable again. Every step appends to the audit trail: who, what, when.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.changes import Changes
from core.expenses.common import ExpenseError, audit, check_period, person, report_row
from core.expenses.items import list_expenses
from core.expenses.trips import list_trips
from core.storage import writes
from core.storage.database import Store

APPROVERS = ("manager", "admin")
# state -> the actions allowed from it
NEXT = {"draft": ("submit",), "rejected": ("submit",), "submitted": ("approve", "reject"),
        "approved": ("export",), "exported": ()}


def _require(report: dict[str, Any], action: str) -> None:
    if action not in NEXT[report["state"]]:
        allowed = ", ".join(NEXT[report["state"]]) or "nothing more"
        raise ExpenseError(f"report {report['id']} ({report['period']}) is {report['state']}: it cannot be "
                           f"{ {'submit': 'submitted', 'approve': 'approved', 'reject': 'rejected', 'export': 'exported'}[action]} "
                           f"(allowed: {allowed})")


def find_report(store: Store, rep_id: int, period: str) -> dict[str, Any]:
    check_period(period)
    row = store.conn.execute("SELECT * FROM expense_reports WHERE deleted_at IS NULL AND rep_id = ? AND period = ? "
                             "ORDER BY id DESC LIMIT 1", (rep_id, period)).fetchone()
    if row is None:
        raise ExpenseError(f"no expense report for rep {rep_id} in {period}")
    return dict(row)


def submit(store: Store, report_id: int, actor_id: int) -> Changes:
    """The rep (or a manager for them) sends the report: it and its items lock, mileage amounts are frozen."""
    report = report_row(store, report_id)
    actor = person(store, actor_id)
    _require(report, "submit")
    if actor["id"] != report["rep_id"] and actor["role"] not in APPROVERS:
        raise ExpenseError(f"{actor['name']} cannot submit another person's report (only its rep or a manager)")
    trips = list_trips(store, first=check_period(report["period"])[0], last=check_period(report["period"])[1],
                       rep_id=report["rep_id"])
    trips = [t for t in trips if t["report_id"] == report_id]
    n_expenses = store.scalar("SELECT count(*) FROM expenses WHERE deleted_at IS NULL AND report_id = ?", (report_id,))
    if not trips and not n_expenses:
        raise ExpenseError(f"report {report_id} ({report['period']}) has no trips or expenses to submit")
    now = writes.utc_now()
    with store.atomic():
        for t in trips:
            p = t["pay"]
            writes.update(store, "trips", t["id"], {"rate_x10": p.rate_x10 if p.above_x10 is None else None,
                                                    "amount_cents": p.amount_cents, "currency": p.currency})
        writes.update(store, "expense_reports", report_id, {"state": "submitted", "submitted_at": now,
                                                            "decided_at": None, "decided_by": None})
        totals = report_totals(store, report_id)
        audit(store, report_id, actor["id"], "submitted",
              detail={"trips": len(trips), "expenses": n_expenses, "totals_cents": totals})
    return Changes.of("expense_reports", [report_id], f"report {report['period']} submitted").merge(
        Changes.of("trips", [t["id"] for t in trips]))


def _decide(store: Store, report_id: int, actor_id: int, action: str, note: str | None) -> dict[str, Any]:
    report = report_row(store, report_id)
    actor = person(store, actor_id)
    _require(report, action)
    if actor["role"] not in APPROVERS:
        raise ExpenseError(f"{actor['name']} is a {actor['role']}; only a manager or an admin can {action} a report")
    if actor["id"] == report["rep_id"]:
        raise ExpenseError(f"{actor['name']} cannot {action} their own report")
    return report


def approve(store: Store, report_id: int, actor_id: int, note: str | None = None) -> Changes:
    report = _decide(store, report_id, actor_id, "approve", note)
    with store.atomic():
        writes.update(store, "expense_reports", report_id, {"state": "approved", "decided_at": writes.utc_now(),
                                                            "decided_by": actor_id, "decision_note": note})
        audit(store, report_id, actor_id, "approved", detail={"note": note} if note else None)
    return Changes.of("expense_reports", [report_id], f"report {report['period']} approved")


def reject(store: Store, report_id: int, actor_id: int, reason: str) -> Changes:
    """Send the report back with a reason; its items unlock and their frozen mileage amounts are recomputed later."""
    if not (reason or "").strip():
        raise ExpenseError("reason: say why the report is rejected")
    report = _decide(store, report_id, actor_id, "reject", reason)
    with store.atomic():
        writes.update(store, "expense_reports", report_id, {"state": "rejected", "decided_at": writes.utc_now(),
                                                            "decided_by": actor_id, "decision_note": reason.strip()})
        for (tid,) in store.conn.execute("SELECT id FROM trips WHERE deleted_at IS NULL AND report_id = ?",
                                         (report_id,)).fetchall():
            writes.update(store, "trips", tid, {"rate_x10": None, "amount_cents": None, "currency": None})
        audit(store, report_id, actor_id, "rejected", detail={"reason": reason.strip()})
    return Changes.of("expense_reports", [report_id], f"report {report['period']} rejected")


def mark_exported(store: Store, report_id: int, actor_id: int | None, out: str) -> Changes:
    report = report_row(store, report_id)
    _require(report, "export")
    with store.atomic():
        writes.update(store, "expense_reports", report_id, {"state": "exported", "exported_at": writes.utc_now()})
        audit(store, report_id, actor_id, "exported", detail={"file": out})
    return Changes.of("expense_reports", [report_id], f"report {report['period']} exported")


def report_totals(store: Store, report_id: int) -> dict[str, int]:
    """Cents per currency: expenses plus mileage (frozen amounts when submitted, else computed)."""
    report = report_row(store, report_id)
    first, last = check_period(report["period"])
    totals: dict[str, int] = defaultdict(int)
    for t in list_trips(store, first=first, last=last, rep_id=report["rep_id"]):
        if t["report_id"] == report_id and t["amount_cents"]:
            totals[t["currency"]] += t["amount_cents"]
    for cur, cents in store.conn.execute(
            "SELECT currency, sum(amount_cents) FROM expenses WHERE deleted_at IS NULL AND report_id = ? GROUP BY currency",
            (report_id,)):
        totals[cur] += cents
    return dict(sorted(totals.items()))


def audit_trail(store: Store, report_id: int) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT x.*, r.name AS actor_name FROM expense_audit x LEFT JOIN reps r ON r.id = x.actor_id "
        "WHERE x.report_id = ? ORDER BY x.id", (report_id,)).fetchall()
    return [dict(r, detail=json.loads(r["detail"]) if r["detail"] else {}) for r in rows]


def list_reports(store: Store, *, period: str | None = None, rep_id: int | None = None,
                 states: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT er.*, r.name AS rep_name, d.name AS decided_by_name, "
           "(SELECT count(*) FROM trips t WHERE t.report_id = er.id AND t.deleted_at IS NULL) AS trips, "
           "(SELECT count(*) FROM expenses e WHERE e.report_id = er.id AND e.deleted_at IS NULL) AS expenses "
           "FROM expense_reports er JOIN reps r ON r.id = er.rep_id LEFT JOIN reps d ON d.id = er.decided_by "
           "WHERE er.deleted_at IS NULL")
    params: list[Any] = []
    if period:
        sql += " AND er.period = ?"
        params.append(period)
    if rep_id is not None:
        sql += " AND er.rep_id = ?"
        params.append(rep_id)
    if states:
        sql += f" AND er.state IN ({', '.join('?' * len(states))})"
        params += list(states)
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY er.period DESC, r.name", params)]


SIGNED_STATES = ("approved", "exported")


@dataclass(frozen=True)
class PeriodReport:
    """A month's trips and expenses for one rep or everyone, with totals: what the exports and the view show."""

    period: str
    first: date
    last: date
    rep_id: int | None
    trips: list[dict[str, Any]]
    expenses: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    mileage_totals: dict[str, int] = field(default_factory=dict)
    expense_totals: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for d in (self.mileage_totals, self.expense_totals):
            for cur, cents in d.items():
                out[cur] += cents
        return dict(sorted(out.items()))

    @property
    def approved_totals(self) -> dict[str, int]:
        """What a manager has signed: items on approved (or already exported) reports only.

        The period's totals also count drafts and items logged after a submit; finance reimburses
        only this, so the PDF shows both and names which is which.
        """
        out: dict[str, int] = defaultdict(int)
        for t in self.trips:
            if t["report_state"] in SIGNED_STATES and t["amount_cents"]:
                out[t["currency"]] += t["amount_cents"]
        for e in self.expenses:
            if e["report_state"] in SIGNED_STATES:
                out[e["currency"]] += e["amount_cents"]
        return dict(sorted(out.items()))


def build_period(store: Store, period: str, rep_id: int | None = None) -> PeriodReport:
    """Everything for one month (one rep or all): trips with their pay, expenses, the reports, and totals."""
    first, last = check_period(period)
    trips = list_trips(store, first=first, last=last, rep_id=rep_id)
    expenses = list_expenses(store, first=first, last=last, rep_id=rep_id)
    mileage: dict[str, int] = defaultdict(int)
    for t in trips:
        if t["amount_cents"]:
            mileage[t["currency"]] += t["amount_cents"]
    spent: dict[str, int] = defaultdict(int)
    for e in expenses:
        spent[e["currency"]] += e["amount_cents"]
    return PeriodReport(period, first, last, rep_id, trips, expenses, list_reports(store, period=period, rep_id=rep_id),
                        dict(sorted(mileage.items())), dict(sorted(spent.items())))
