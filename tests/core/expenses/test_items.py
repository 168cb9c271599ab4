"""Expenses and trips: exact money, receipts by content hash, duplicates flagged, bad input refused with nothing written."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from core.expenses import ExpenseError, add_expense, add_trip, attach_receipt, list_expenses, update_expense
from core.expenses.receipts import receipts_folder
from core.expenses.reports import build_period
from tests.core.expenses.conftest import TODAY


def _counts(store):
    return tuple(store.scalar(f"SELECT count(*) FROM {t}") for t in
                 ("expenses", "trips", "attachments", "change_log", "expense_audit", "expense_reports"))


def test_amounts_are_exact_cents_and_totals_add_without_float_drift(world):
    rep = world.people["rep"]
    for amount in ("0.10", "0.20", Decimal("19.99"), "1,234.56", 7):
        add_expense(world, rep, "2026-11-02", category="Meals", amount=amount, merchant="Diner", today=TODAY)
    period = build_period(world, "2026-11", rep)
    assert [e["amount_cents"] for e in period.expenses] == [10, 20, 1999, 123456, 700]
    assert period.expense_totals == {"USD": 10 + 20 + 1999 + 123456 + 700}


@pytest.mark.parametrize("kwargs, message", [
    ({"amount": "-12.00"}, "amount: -12.00 is negative"),
    ({"amount": "12.345"}, "more than two decimal places"),
    ({"amount": "twelve"}, "not an amount"),
    ({"amount": "0"}, "is zero"),
    ({"amount": 12.5}, "not a float"),
    ({"amount": "12", "currency": "XYZ"}, "'XYZ' is not an ISO 4217 currency"),
    ({"amount": "12", "currency": "dollars"}, "not an ISO 4217"),
    ({"amount": "12", "day": "2026-11-21"}, "2026-11-21 is in the future"),
    ({"amount": "12", "day": "21/11/2026"}, "not a date"),
    ({"amount": "12", "category": "Yacht"}, "category: 'Yacht'"),
])
def test_bad_expenses_are_refused_and_nothing_is_written(world, kwargs, message):
    before = _counts(world)
    args = {"category": "Meals", "merchant": "Diner", "day": "2026-11-02", **kwargs}
    day = args.pop("day")
    with pytest.raises(ExpenseError, match=message):
        add_expense(world, world.people["rep"], day, today=TODAY, **args)
    assert _counts(world) == before


def test_a_receipt_that_is_not_an_image_or_pdf_is_refused_whatever_its_name(world, receipts):
    before = _counts(world)
    with pytest.raises(ExpenseError, match="notes.png is not a JPEG, PNG or PDF"):
        add_expense(world, world.people["rep"], "2026-11-02", category="Meals", amount="12", receipt=receipts["txt"],
                    today=TODAY)
    assert _counts(world) == before
    assert not receipts_folder(world).exists() or not any(receipts_folder(world).rglob("*.*"))


def test_receipts_are_stored_once_by_sha256_beside_the_database_and_duplicates_flagged(world, receipts):
    rep = world.people["rep"]
    first, _ = add_expense(world, rep, "2026-11-02", category="Parking", amount="8.00", receipt=receipts["jpg"],
                           today=TODAY)
    second, changes = add_expense(world, rep, "2026-11-03", category="Parking", amount="8.00",
                                  receipt=receipts["jpg"], today=TODAY)
    pdf, _ = add_expense(world, rep, "2026-11-04", category="Lodging", amount="129.00", receipt=receipts["pdf"],
                         today=TODAY)
    digest = hashlib.sha256(receipts["jpg"].read_bytes()).hexdigest()
    stored = receipts_folder(world) / digest[:2] / f"{digest}.jpg"
    assert stored.read_bytes() == receipts["jpg"].read_bytes()
    assert str(stored).startswith(str(world.path) + ".receipts")
    assert world.scalar("SELECT count(*) FROM attachments") == 2
    rows = {e["id"]: e for e in list_expenses(world, first=date(2026, 11, 1), last=date(2026, 11, 30))}
    assert rows[first]["duplicate_of"] is None and rows[second]["duplicate_of"] == first
    assert f"same file as expense {first}" in changes.note
    assert rows[pdf]["receipt_mime"] == "application/pdf"
    # The database holds no receipt bytes.
    assert world.scalar("SELECT max(length(sha256)) FROM attachments") == 64


def test_attaching_a_known_receipt_later_is_flagged_too(world, receipts):
    rep = world.people["rep"]
    a, _ = add_expense(world, rep, "2026-11-02", category="Tolls", amount="3.10", receipt=receipts["jpg2"], today=TODAY)
    b, _ = add_expense(world, rep, "2026-11-03", category="Tolls", amount="3.10", today=TODAY)
    changes = attach_receipt(world, b, receipts["jpg2"])
    assert f"same file as expense {a}" in changes.note
    assert world.scalar("SELECT duplicate_of FROM expenses WHERE id = ?", (b,)) == a


def test_per_diem_is_paid_at_the_rate_and_75_percent_on_a_travel_day(world):
    rep = world.people["rep"]
    full, _ = add_expense(world, rep, "2026-11-02", category="Per diem", per_diem=True, today=TODAY)
    part, _ = add_expense(world, rep, "2026-11-03", category="Per diem", per_diem=True, partial_day=True, today=TODAY)
    rows = {e["id"]: e for e in list_expenses(world, first=date(2026, 11, 1), last=date(2026, 11, 30))}
    assert (rows[full]["amount_cents"], rows[part]["amount_cents"]) == (6800, 5100)
    assert rows[full]["per_diem"] == 1 and rows[full]["category"] == "Per diem"
    with pytest.raises(ExpenseError, match="per diem is paid at the rate"):
        add_expense(world, rep, "2026-11-04", category="Per diem", per_diem=True, amount="99", today=TODAY)


@pytest.mark.parametrize("kwargs, message", [
    ({"odometer_start": "12050", "odometer_end": "12010"}, "odometer end: 12010 is below the start reading 12050"),
    ({"odometer_start": "12050"}, "give both"),
    ({"distance": "-4"}, "negative"),
    ({"distance": "12", "purpose": " "}, "needs its business purpose"),
    ({"distance": "12", "day": "2027-01-01"}, "in the future"),
    ({"distance": "9000"}, "more than a day's drive"),
    ({}, "give a distance or the odometer"),
])
def test_bad_trips_are_refused_and_nothing_is_written(world, kwargs, message):
    before = _counts(world)
    args = {"start": "Home", "destination": "Acme", "purpose": "Quarterly review", "day": "2026-11-02", **kwargs}
    day = args.pop("day")
    with pytest.raises(ExpenseError, match=message):
        add_trip(world, world.people["rep"], day, today=TODAY, **args)
    assert _counts(world) == before


def test_odometer_trip_keeps_its_readings_and_distance(world26):
    world = world26
    tid, _ = add_trip(world, world.people["rep"], "2026-11-02", start="Home", destination="Acme", purpose="Demo",
                      odometer_start="12010.4", odometer_end="12050.9", vehicle="2022 Camry", today=TODAY)
    row = world.conn.execute("SELECT * FROM trips WHERE id = ?", (tid,)).fetchone()
    assert row["distance_source"] == "odometer" and row["start_odometer"] == 12010.4
    period = build_period(world, "2026-11", world.people["rep"])
    assert period.trips[0]["miles"] == Decimal("40.5") and period.trips[0]["km"] == Decimal("65.2")


def test_editing_an_expense_checks_its_values(world):
    eid, _ = add_expense(world, world.people["rep"], "2026-11-02", category="Meals", amount="12", today=TODAY)
    with pytest.raises(ExpenseError, match="negative"):
        update_expense(world, eid, {"amount": "-1"})
    update_expense(world, eid, {"amount": "13.40", "currency": "cad"})
    row = world.conn.execute("SELECT amount_cents, currency FROM expenses WHERE id = ?", (eid,)).fetchone()
    assert tuple(row) == (1340, "CAD")
