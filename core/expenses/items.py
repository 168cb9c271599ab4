"""Expenses: date, category, amount and ISO currency (integer cents), merchant, account, notes, a receipt, per diem.

The same receipt file twice (same SHA-256) is accepted but flagged: the later expense points at the
earlier one in `duplicate_of`, which the view and the exports show.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from core.changes import Changes
from core.expenses.common import (ExpenseError, audit, check_currency, check_unlocked, open_report_for, parse_amount,
                                  parse_day, person)
from core.expenses.receipts import store_receipt
from core.storage import writes
from core.storage.database import Store

CATEGORIES = ("Meals", "Lodging", "Parking", "Tolls", "Fuel", "Airfare", "Car rental", "Taxi and rideshare",
              "Supplies", "Client gifts", "Phone and internet", "Per diem", "Other")
# The GSA standard CONUS meals and incidentals rate (FY2025 and FY2026); first and last travel days
# are paid 75 % (IRS Pub 463, GSA rules). Other places: rows in per_diem_rates.
STANDARD_PER_DIEM = ("Standard CONUS", "2024-10-01", None, 6800, "USD", "GSA FY2025-FY2026 M&IE")


def _duplicate_of(store: Store, receipt_id: int, except_id: int | None = None) -> int | None:
    return store.scalar("SELECT min(id) FROM expenses WHERE deleted_at IS NULL AND receipt_id = ? AND id != ?",
                        (receipt_id, except_id or -1))


def per_diem_cents(store: Store, day: date, place: str = "Standard CONUS", *, partial_day: bool = False) -> tuple[int, str]:
    """The meals-and-incidentals rate in force on the day for the place (75 % on a travel day), and the currency."""
    row = store.conn.execute(
        "SELECT meals_cents, currency FROM per_diem_rates WHERE deleted_at IS NULL AND lower(place) = lower(?) "
        "AND effective_from <= ? AND (effective_to IS NULL OR effective_to >= ?) ORDER BY effective_from DESC, id DESC LIMIT 1",
        (place, day.isoformat(), day.isoformat())).fetchone()
    if row is not None:
        cents, currency = row["meals_cents"], row["currency"]
    elif place.lower() == STANDARD_PER_DIEM[0].lower() and day.isoformat() >= STANDARD_PER_DIEM[1]:
        cents, currency = STANDARD_PER_DIEM[3], STANDARD_PER_DIEM[4]
    else:
        raise ExpenseError(f"per diem: no rate for {place!r} on {day.isoformat()}")
    if partial_day:
        cents = int((Decimal(cents) * 3 / 4).to_integral_value())  # 75 % of whole cents, GSA rounds likewise
    return cents, currency


def add_expense(store: Store, rep_id: int, day: date | str, *, category: str, amount: str | Decimal | int | None = None,
                currency: str = "USD", merchant: str | None = None, account_id: int | None = None,
                notes: str | None = None, purpose: str | None = None, receipt: Path | str | None = None,
                per_diem: bool = False, per_diem_place: str = "Standard CONUS", partial_day: bool = False,
                actor_id: int | None = None, today: date | None = None) -> tuple[int, Changes]:
    """Log one expense; refused (nothing written) on a bad amount, currency, date, category or receipt."""
    rep = person(store, rep_id, "rep")
    day = parse_day(day, today=today)
    category = (category or "").strip()
    match = next((c for c in CATEGORIES if c.lower() == category.lower()), None)
    if per_diem:
        match = "Per diem"
        cents, currency = per_diem_cents(store, day, per_diem_place, partial_day=partial_day)
        if amount is not None:
            raise ExpenseError("amount: a per diem is paid at the rate, give no amount")
        merchant = merchant or per_diem_place
    else:
        if match is None:
            raise ExpenseError(f"category: {category!r} is not one of {', '.join(CATEGORIES)}")
        if amount is None:
            raise ExpenseError("amount: required")
        cents = parse_amount(amount)
        currency = check_currency(currency)
    if account_id is not None and store.scalar("SELECT count(*) FROM accounts WHERE id = ? AND deleted_at IS NULL",
                                               (account_id,)) == 0:
        raise ExpenseError(f"account: no account with id {account_id}")
    actor = actor_id if actor_id is not None else rep_id
    with store.atomic():
        receipt_id = duplicate = None
        if receipt is not None:
            receipt_id, _ = store_receipt(store, receipt)
            duplicate = _duplicate_of(store, receipt_id)
        report_id = open_report_for(store, rep_id, day, actor)
        eid = writes.insert(store, "expenses", {
            "rep_id": rep_id, "day": day.isoformat(), "category": match, "merchant": (merchant or "").strip() or None,
            "amount_cents": cents, "currency": currency, "business_purpose": (purpose or "").strip() or None,
            "attendees": None, "place": None, "account_id": account_id, "receipt_id": receipt_id,
            "report_id": report_id, "notes": (notes or "").strip() or None, "per_diem": int(per_diem),
            "duplicate_of": duplicate})
        audit(store, report_id, actor, "expense added", item_table="expenses", item_id=eid,
              detail={"amount_cents": cents, "currency": currency, "category": match,
                      **({"duplicate_of": duplicate} if duplicate else {})})
    note = f"expense added for {rep['name']}" + (f"; the receipt is the same file as expense {duplicate}'s" if duplicate else "")
    return eid, Changes.of("expenses", [eid], note).merge(Changes.of("expense_reports", [report_id] if report_id else []))


def attach_receipt(store: Store, expense_id: int, receipt: Path | str, *, actor_id: int | None = None) -> Changes:
    row = expense(store, expense_id)
    check_unlocked(store, row["report_id"], f"expense {expense_id}")
    with store.atomic():
        receipt_id, _ = store_receipt(store, receipt)
        duplicate = _duplicate_of(store, receipt_id, expense_id)
        writes.update(store, "expenses", expense_id, {"receipt_id": receipt_id, "duplicate_of": duplicate})
        audit(store, row["report_id"], actor_id if actor_id is not None else row["rep_id"], "receipt attached",
              item_table="expenses", item_id=expense_id, detail={"attachment_id": receipt_id,
                                                                **({"duplicate_of": duplicate} if duplicate else {})})
    return Changes.of("expenses", [expense_id], "receipt attached" + (f" (same file as expense {duplicate}'s)"
                                                                     if duplicate else ""))


EDITABLE = ("category", "amount", "currency", "merchant", "account_id", "notes", "business_purpose", "day")


def update_expense(store: Store, expense_id: int, values: Mapping[str, Any], *, actor_id: int | None = None,
                   today: date | None = None) -> Changes:
    """Edit an expense; refused when its report is submitted or approved, or when a value is wrong."""
    row = expense(store, expense_id)
    check_unlocked(store, row["report_id"], f"expense {expense_id}")
    new: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE:
            raise ExpenseError(f"{key}: cannot be edited on an expense")
        if key == "amount":
            new["amount_cents"] = parse_amount(value)
        elif key == "currency":
            new["currency"] = check_currency(value)
        elif key == "category":
            match = next((c for c in CATEGORIES if c.lower() == str(value).strip().lower()), None)
            if match is None:
                raise ExpenseError(f"category: {value!r} is not one of {', '.join(CATEGORIES)}")
            new["category"] = match
        elif key == "day":
            d = parse_day(value, today=today)
            if d.isoformat()[:7] != row["day"][:7]:
                raise ExpenseError("date: move an expense within its month (its report is per month)")
            new["day"] = d.isoformat()
        else:
            new[key] = value
    with store.atomic():
        old = writes.update(store, "expenses", expense_id, new)
        if old:
            audit(store, row["report_id"], actor_id if actor_id is not None else row["rep_id"], "expense edited",
                  item_table="expenses", item_id=expense_id, detail={k: {"from": old[k], "to": new[k]} for k in old})
    return Changes.of("expenses", [expense_id], "expense edited") if old else Changes()


def delete_expense(store: Store, expense_id: int, *, actor_id: int | None = None) -> Changes:
    row = expense(store, expense_id)
    check_unlocked(store, row["report_id"], f"expense {expense_id}")
    with store.atomic():
        writes.delete(store, "expenses", expense_id)
        audit(store, row["report_id"], actor_id if actor_id is not None else row["rep_id"], "expense deleted",
              item_table="expenses", item_id=expense_id)
    return Changes.of("expenses", [expense_id], "expense deleted")


def expense(store: Store, expense_id: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM expenses WHERE id = ? AND deleted_at IS NULL", (expense_id,)).fetchone()
    if row is None:
        raise ExpenseError(f"expense {expense_id} does not exist")
    return dict(row)


def list_expenses(store: Store, *, first: date, last: date, rep_id: int | None = None) -> list[dict[str, Any]]:
    """Expenses in the date range with the rep's name, the report's state and the receipt's file details."""
    sql = ("SELECT e.*, r.name AS rep_name, er.state AS report_state, a.name AS account_name, "
           "f.sha256 AS receipt_sha256, f.mime AS receipt_mime, f.filename AS receipt_filename "
           "FROM expenses e JOIN reps r ON r.id = e.rep_id LEFT JOIN expense_reports er ON er.id = e.report_id "
           "LEFT JOIN accounts a ON a.id = e.account_id LEFT JOIN attachments f ON f.id = e.receipt_id "
           "WHERE e.deleted_at IS NULL AND e.day >= ? AND e.day <= ?")
    params: list[Any] = [first.isoformat(), last.isoformat()]
    if rep_id is not None:
        sql += " AND e.rep_id = ?"
        params.append(rep_id)
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY r.name, e.day, e.id", params)]
