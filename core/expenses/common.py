"""What the expense services share: the error they raise, checked input (amounts, currencies, dates), locks and the audit trail."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP
from typing import Any

import pycountry

from core.storage import writes
from core.storage.database import Store

# A report in one of these states is with the manager or finance: it and its items are read-only.
LOCKED_STATES = ("submitted", "approved", "exported")
MILE_M = Decimal("1609.344")
TENTH = Decimal("0.1")
CENT = Decimal("0.01")


class ExpenseError(ValueError):
    """Refused input or action; the message names the field, the value and the reason."""


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def parse_day(value: date | str, field: str = "date", *, today: date | None = None) -> date:
    """A YYYY-MM-DD day that is not in the future (expenses and trips are logged after they happen)."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ExpenseError(f"{field}: not a date (YYYY-MM-DD): {value!r}") from None
    limit = today or today_utc()
    if value > limit:
        raise ExpenseError(f"{field}: {value.isoformat()} is in the future (today is {limit.isoformat()})")
    return value


def parse_amount(value: str | int | Decimal, field: str = "amount") -> int:
    """'12.50' -> 1250 cents. Refuses floats' cousins: negative, zero, more than two decimals, not a number."""
    if isinstance(value, float):
        raise ExpenseError(f"{field}: give the amount as text or Decimal, not a float ({value!r})")
    raw = str(value).strip().replace(",", "")
    for symbol in ("$", "£", "€"):
        raw = raw.replace(symbol, "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ExpenseError(f"{field}: not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ExpenseError(f"{field}: not an amount: {value!r}")
    if amount < 0:
        raise ExpenseError(f"{field}: {value} is negative; an expense is a positive amount")
    if amount == 0:
        raise ExpenseError(f"{field}: {value} is zero")
    if amount != amount.quantize(CENT):
        raise ExpenseError(f"{field}: {value} has more than two decimal places")
    return int(amount * 100)


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def check_currency(code: str | None, field: str = "currency") -> str:
    """An ISO 4217 code such as USD, CAD, GBP (case-insensitive); anything else is refused."""
    text = (code or "").strip().upper()
    if len(text) != 3 or pycountry.currencies.get(alpha_3=text) is None:
        raise ExpenseError(f"{field}: {code!r} is not an ISO 4217 currency code (e.g. USD, CAD, GBP, EUR)")
    return text


def miles(distance_m: int) -> Decimal:
    """Metres to miles, to a tenth (the precision of a mileage log), half up."""
    return (Decimal(distance_m) / MILE_M).quantize(TENTH, ROUND_HALF_UP)


def km(distance_m: int) -> Decimal:
    return (Decimal(distance_m) / 1000).quantize(TENTH, ROUND_HALF_UP)


def period_of(day: date | str) -> str:
    return str(day)[:7]


def check_period(period: str) -> tuple[date, date]:
    """'2026-10' -> (first day, last day); refuses anything else."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except ValueError:
        raise ExpenseError(f"period: not a month (YYYY-MM): {period!r}") from None
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def person(store: Store, person_id: int | None, field: str = "acting as") -> dict[str, Any]:
    if person_id is None:
        raise ExpenseError(f"{field}: say who is acting")
    row = store.conn.execute("SELECT id, name, role, manager_id FROM reps WHERE id = ? AND deleted_at IS NULL",
                             (person_id,)).fetchone()
    if row is None:
        raise ExpenseError(f"{field}: no person with id {person_id}")
    return dict(row)


def report_row(store: Store, report_id: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM expense_reports WHERE id = ? AND deleted_at IS NULL",
                             (report_id,)).fetchone()
    if row is None:
        raise ExpenseError(f"report {report_id} does not exist")
    return dict(row)


def check_unlocked(store: Store, report_id: int | None, what: str) -> None:
    """Refuse an edit to an item on a report that is with the manager or finance."""
    if report_id is None:
        return
    report = store.conn.execute("SELECT id, period, state FROM expense_reports WHERE id = ?", (report_id,)).fetchone()
    if report is not None and report["state"] in LOCKED_STATES:
        raise ExpenseError(f"{what} is on report {report['id']} ({report['period']}), which is {report['state']}: "
                           "it cannot be changed" + (" unless the manager rejects it" if report["state"] == "submitted"
                                                     else ""))


def open_report_for(store: Store, rep_id: int, day: date, actor_id: int | None) -> int | None:
    """The rep's report for the day's month to put a new item on: the draft or rejected one, made if missing.

    A month whose report is already submitted or approved keeps it unchanged: the new item stays off
    any report (shown as 'not on a report') rather than slipping into what the manager signed.
    """
    period = period_of(day)
    row = store.conn.execute(
        "SELECT id, state FROM expense_reports WHERE deleted_at IS NULL AND rep_id = ? AND period = ? ORDER BY id",
        (rep_id, period)).fetchall()
    if row:
        open_ = [r for r in row if r["state"] in ("draft", "rejected")]
        return open_[0]["id"] if open_ else None
    report_id = writes.insert(store, "expense_reports", {
        "rep_id": rep_id, "period": period, "title": f"Expenses {period}", "state": "draft",
        "submitted_at": None, "decided_at": None, "decided_by": None, "decision_note": None, "exported_at": None})
    audit(store, report_id, actor_id if actor_id is not None else rep_id, "created", detail={"period": period})
    return report_id


def audit(store: Store, report_id: int | None, actor_id: int | None, action: str, *, item_table: str | None = None,
          item_id: int | None = None, detail: dict[str, Any] | None = None) -> int:
    """Append one line to the audit trail (who, what, when); the table refuses updates and deletes."""
    return writes.insert(store, "expense_audit", {
        "report_id": report_id, "actor_id": actor_id, "at": writes.utc_now(), "action": action,
        "item_table": item_table, "item_id": item_id,
        "detail": json.dumps(detail, default=str, sort_keys=True) if detail else None})
