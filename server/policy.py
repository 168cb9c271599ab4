"""Who may read and write which rows, decided on the server from its own data, never from the client.

A rep reads and writes only rows they own (accounts they own; their visits, trips, expenses,
reports, routes, plans, time off, leads and deals) and the rows that hang off those; a manager the
same for their team (the reps whose manager_id is them) and unassigned accounts and leads; finance
reads expense data; admin everything. Reference data (reps, territories, rates, ...) is readable by
rep and manager roles; only managers and admins change it, except a rep's own rep row and receipts
(attachments)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from server.auth import Principal
from server.storage import Tx

# table -> the column naming the rep that owns the row (its value is the rep's uid on the server)
OWNER_COLUMN = {
    "accounts": "owner_id", "visits": "rep_id", "trips": "rep_id", "expenses": "rep_id",
    "expense_reports": "rep_id", "routes": "rep_id", "rotation_plans": "rep_id", "time_off": "rep_id",
    "deals": "rep_id", "leads": "rep_id",
}
# table -> (column, parent table): the row belongs to whoever owns its parent
PARENT = {
    "route_stops": ("route_id", "routes"), "rotation_slots": ("plan_id", "rotation_plans"),
    "assignments": ("account_id", "accounts"), "expense_audit": ("report_id", "expense_reports"),
    "routing_decisions": ("lead_id", "leads"),
}
EXPENSE_TABLES = frozenset({"expenses", "expense_reports", "expense_audit", "trips", "rate_tables",
                            "per_diem_rates", "attachments", "reps"})
REP_WRITABLE_SHARED = frozenset({"attachments"})

# Expense reports: the server's state machine. A report past draft is frozen except for its decision.
LOCKED_STATES = frozenset({"submitted", "approved", "exported"})
DECISION_COLUMNS = frozenset({"state", "submitted_at", "decided_at", "decided_by", "decision_note", "exported_at"})
TRANSITIONS = {  # (from, to) -> roles that may make it; the owner rep counts as 'rep'
    ("draft", "submitted"): {"rep", "manager", "admin"},
    ("rejected", "draft"): {"rep", "manager", "admin"},
    ("rejected", "submitted"): {"rep", "manager", "admin"},
    ("submitted", "approved"): {"manager", "admin"},
    ("submitted", "rejected"): {"manager", "admin"},
    ("approved", "exported"): {"finance", "admin"},
}


class Refused(Exception):
    """An operation the server will not apply; the message says why (shown to the user)."""


@dataclass
class Scope:
    """The reps whose rows a principal may see; None means every rep (admin, and finance for expenses)."""

    reps: frozenset[str] | None
    unassigned: bool  # may see rows with no owner (managers and admins)


def scope_of(tx: Tx, who: Principal) -> Scope:
    if who.role in ("admin", "finance"):
        return Scope(None, True)
    mine = {who.rep_uid} if who.rep_uid else set()
    if who.role == "manager" and who.rep_uid:
        for row in tx.all("SELECT row_uid, data FROM objects WHERE table_name = 'reps'"):
            if json.loads(row["data"]).get("manager_id") == who.rep_uid:
                mine.add(row["row_uid"])
    return Scope(frozenset(mine), who.role == "manager")


def owner_of(tx: Tx, table: str, row_uid: str, data: dict) -> str | None:
    """The rep uid that owns a row given its (merged) values."""
    if table in OWNER_COLUMN:
        return data.get(OWNER_COLUMN[table])
    if table == "reps":
        return row_uid
    if table in PARENT:
        column, parent = PARENT[table]
        parent_uid = data.get(column)
        if parent_uid is None:
            return None
        row = tx.one("SELECT owner FROM objects WHERE table_name = ? AND row_uid = ?", (parent, parent_uid))
        return row["owner"] if row else None
    return None


def owned(table: str) -> bool:
    return table in OWNER_COLUMN or table in PARENT


def in_scope(scope: Scope, owner: str | None) -> bool:
    if scope.reps is None:
        return True
    if owner is None:
        return scope.unassigned
    return owner in scope.reps


def can_read(who: Principal, scope: Scope, table: str, owner: str | None) -> bool:
    if who.role == "admin":
        return True
    if who.role == "finance":
        return table in EXPENSE_TABLES
    if owned(table):
        return in_scope(scope, owner)
    return True  # reference data


def check_write(who: Principal, scope: Scope, table: str, row_uid: str, old_owner: str | None,
                new_owner: str | None, exists: bool) -> None:
    """Raise Refused unless `who` may change this row (owner before and after both in scope)."""
    if who.role == "admin":
        return
    if who.role == "finance":
        if table == "expense_reports":
            return  # only decision columns, checked by the state machine
        raise Refused(f"{table}: finance users read expense data but do not change it")
    if owned(table) or table == "reps":
        if exists and not in_scope(scope, old_owner):
            raise Refused(f"{table} {row_uid}: not yours to change")
        if not in_scope(scope, new_owner):
            raise Refused(f"{table} {row_uid}: cannot be given to a rep outside your team")
        if table == "reps" and who.role == "rep" and row_uid != who.rep_uid:
            raise Refused(f"reps {row_uid}: a rep changes only their own rep record")
        return
    if who.role == "rep" and table not in REP_WRITABLE_SHARED:
        raise Refused(f"{table}: only managers and admins change this")


def check_report_rules(tx: Tx, who: Principal, table: str, old: dict | None, values: dict) -> None:
    """The expense-report state machine: a report past draft is frozen except for its decision,
    and expenses or trips on a frozen report cannot change. Admins are not bound by it: they load
    history (reports already approved, then their lines) and correct mistakes."""
    if who.role == "admin":
        return
    if table == "expense_reports":
        state = (old or {}).get("state", "draft") if old else None
        new_state = values.get("state", state or "draft")
        if old is not None and state in LOCKED_STATES:
            frozen = sorted(set(values) - DECISION_COLUMNS)
            if frozen:
                raise Refused(f"expense report is {state}: {frozen[0]} cannot change")
        if who.role == "finance" and set(values) - {"state", "exported_at"}:
            raise Refused("expense report: finance only marks approved reports exported")
        if old is not None and new_state != state:
            allowed = TRANSITIONS.get((state, new_state))
            if not allowed or who.role not in allowed:
                raise Refused(f"expense report: {state} → {new_state} is not allowed for a {who.role}")
            if who.role == "manager" and new_state in ("approved", "rejected") and old.get("rep_id") == who.rep_uid:
                raise Refused("expense report: a manager does not approve their own report")
        elif old is None and new_state not in ("draft", "submitted"):
            raise Refused(f"expense report: a new report starts as draft or submitted, not {new_state}")
        return
    if table in ("expenses", "trips"):
        reports = {r for r in ((old or {}).get("report_id"), values.get("report_id")) if r}
        for report_uid in reports:
            row = tx.one("SELECT data FROM objects WHERE table_name = 'expense_reports' AND row_uid = ?", (report_uid,))
            state = json.loads(row["data"]).get("state") if row else None
            if state in LOCKED_STATES:
                raise Refused(f"{table[:-1]} is on an expense report that is {state}; it cannot change")
