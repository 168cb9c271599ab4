"""Mileage reimbursement rates with effective dates and yearly tiers (IRS, CRA, HMRC), and what a trip is paid.

Rates are kept in tenths of a cent (or penny) per mile or km, so 67.0¢ is 670 and 72.5¢ is 725; amounts
are whole cents, rounded half up once per trip. The standard published rates below are built in; rows
in `rate_tables` (what the user sets, e.g. IRS 2026) take precedence over them from their start date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, ROUND_HALF_UP
from typing import Any, Iterable, Mapping

from core.changes import Changes
from core.expenses.common import ExpenseError, check_currency, km, miles
from core.storage import writes
from core.storage.database import Store


@dataclass(frozen=True)
class Rate:
    """One rate in force from `effective_from` (to `effective_to`, inclusive, or open-ended)."""

    scheme: str
    effective_from: str
    effective_to: str | None
    rate_x10: int                 # tenths of a cent per unit, up to tier_limit units in the tax year
    unit: str = "mi"
    currency: str = "USD"
    tier_limit: int | None = None  # units per tax year paid at rate_x10; beyond, above_x10
    above_x10: int | None = None
    year_start: str = "01-01"      # MM-DD the tax year starts (tiers count from here)
    source: str = ""
    id: int | None = None          # the rate_tables row; None for a built-in rate

    def covers(self, day: date) -> bool:
        d = day.isoformat()
        return self.effective_from <= d and (self.effective_to is None or d <= self.effective_to)

    def describe(self) -> str:
        text = f"{_per_unit(self.rate_x10)} {self.currency}/{self.unit}"
        if self.tier_limit:
            text += f" for the first {self.tier_limit:,} {self.unit}, then {_per_unit(self.above_x10 or 0)}"
        return text


def _per_unit(rate_x10: int) -> str:
    """725 -> '0.725', 670 -> '0.67' (a currency unit per mile or km)."""
    value = (Decimal(rate_x10) / 1000).normalize()
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)


SCHEMES = {
    "IRS": "United States, IRS standard mileage rate (business)",
    "CRA": "Canada, CRA automobile allowance (tax-exempt)",
    "HMRC": "United Kingdom, HMRC approved mileage allowance (cars and vans)",
}

# Published rates. IRS: Notices 2023-03, 2024-08 and IR-2024-312 (2025); 2026 is set by the user.
# CRA: first 5,000 km, then the lower rate (the territories' extra 4¢ is not built in).
# HMRC: 45p for the first 10,000 business miles in the tax year from 6 April, then 25p.
STANDARD_RATES: tuple[Rate, ...] = (
    Rate("IRS", "2023-01-01", "2023-12-31", 655, source="IRS Notice 2023-03"),
    Rate("IRS", "2024-01-01", "2024-12-31", 670, source="IRS Notice 2024-08"),
    Rate("IRS", "2025-01-01", "2025-12-31", 700, source="IRS IR-2024-312"),
    Rate("CRA", "2024-01-01", "2024-12-31", 700, "km", "CAD", 5000, 640, source="CRA automobile allowance rates 2024"),
    Rate("CRA", "2025-01-01", "2025-12-31", 720, "km", "CAD", 5000, 660, source="CRA automobile allowance rates 2025"),
    Rate("HMRC", "2011-04-06", None, 450, "mi", "GBP", 10_000, 250, "04-06", source="HMRC approved mileage rates"),
)


def _from_row(row: Mapping[str, Any]) -> Rate:
    return Rate(row["scheme"], row["effective_from"], row["effective_to"], row["cents_per_mile_x10"], row["unit"],
                row["currency"], row["tier_limit"], row["above_x10"], row["year_start"], row["source"] or "", row["id"])


def rates_for(store: Store, scheme: str) -> list[Rate]:
    """Every rate of the scheme, built-in and user-set, oldest first (user rows after built-ins on a tie)."""
    rows = store.conn.execute(
        "SELECT * FROM rate_tables WHERE deleted_at IS NULL AND kind = 'mileage' AND scheme = ? ORDER BY effective_from, id",
        (scheme,)).fetchall()
    mine = [_from_row(r) for r in rows]
    starts = {r.effective_from for r in mine}
    # A user row starting the same day as a built-in one replaces it (the demo stores IRS's own rates).
    found = [r for r in STANDARD_RATES if r.scheme == scheme and r.effective_from not in starts] + mine
    return sorted(found, key=lambda r: (r.effective_from, r.id is not None, r.id or 0))


def rate_on(rates: Iterable[Rate], day: date, scheme: str = "") -> Rate:
    """The rate in force on the day: of those covering it, the one that started last (a user row wins a tie)."""
    covering = [r for r in rates if r.covers(day)]
    if not covering:
        raise ExpenseError(f"no {scheme + ' ' if scheme else ''}mileage rate in force on {day.isoformat()}: set one with "
                           f"`fieldatlas trip rate-set --scheme {scheme or 'IRS'} --from {day.year}-01-01 --rate 0.70`")
    return covering[-1]


def tax_year_start(day: date, year_start: str) -> date:
    """The start of the tax year holding the day: 1 January (IRS, CRA) or 6 April (HMRC)."""
    month, dom = (int(x) for x in year_start.split("-"))
    start = date(day.year, month, dom)
    return start if day >= start else date(day.year - 1, month, dom)


@dataclass(frozen=True)
class Pay:
    """What one trip is paid: its distance in the scheme's unit, the rate(s) applied and the amount in cents."""

    units: Decimal
    unit: str
    rate_x10: int | None
    above_x10: int | None      # set when part (or all) of the trip was paid at the lower tier rate
    units_above: Decimal
    amount_cents: int
    currency: str

    def rate_text(self) -> str:
        if self.rate_x10 is None:
            return ""
        if self.above_x10 is None:
            return _per_unit(self.rate_x10)
        if self.units_above == self.units:
            return _per_unit(self.above_x10)
        return f"{_per_unit(self.rate_x10)} for {self.units - self.units_above} {self.unit}, then {_per_unit(self.above_x10)}"

    def single_rate(self) -> Decimal | None:
        """The one rate per unit when the whole trip is in one tier, else None (the amount says the rest)."""
        if self.rate_x10 is None:
            return None
        if self.above_x10 is None:
            return Decimal(self.rate_x10) / 1000
        if self.units_above == self.units:
            return Decimal(self.above_x10) / 1000
        return None


def pay(units: Decimal, rate: Rate, used_before: Decimal) -> Pay:
    """Pay `units` at the rate, `used_before` units having already been paid in this tax year (for tiers)."""
    if rate.tier_limit is None:
        tenth_cents = units * rate.rate_x10
        return Pay(units, rate.unit, rate.rate_x10, None, Decimal(0), _cents(tenth_cents), rate.currency)
    room = max(Decimal(0), Decimal(rate.tier_limit) - used_before)
    below = min(units, room)
    above = units - below
    tenth_cents = below * rate.rate_x10 + above * (rate.above_x10 or 0)
    return Pay(units, rate.unit, rate.rate_x10, rate.above_x10 if above else None, above, _cents(tenth_cents),
               rate.currency)


def _cents(tenth_cents: Decimal) -> int:
    return int((tenth_cents / 10).quantize(Decimal(1), ROUND_HALF_UP))


def units_of(distance_m: int, unit: str) -> Decimal:
    return km(distance_m) if unit == "km" else miles(distance_m)


def pay_trips(store: Store, trips: list[Mapping[str, Any]]) -> dict[int, Pay]:
    """What each of these trips is paid, tiers counted over the rep's business trips since the tax year began.

    A trip on a submitted report keeps the amount frozen at submission. Commute and personal trips
    are paid nothing (their Pay has no rate).
    """
    out: dict[int, Pay] = {}
    wanted = defaultdict(list)
    for t in trips:
        wanted[(t["rep_id"], t["rate_scheme"] or "IRS")].append(t)
    for (rep_id, scheme), group in wanted.items():
        rates = rates_for(store, scheme)
        unit = rates[-1].unit if rates else "mi"
        first = min(date.fromisoformat(t["day"]) for t in group)
        last = max(t["day"] for t in group)
        year_start = rate_on(rates, first, scheme).year_start if any(r.covers(first) for r in rates) else "01-01"
        since = tax_year_start(first, year_start)
        needed = {t["id"] for t in group}
        history = store.conn.execute(
            "SELECT id, day, distance_m, kind, rate_x10, amount_cents, currency, report_id FROM trips "
            "WHERE deleted_at IS NULL AND rep_id = ? AND rate_scheme = ? AND day >= ? AND day <= ? ORDER BY day, id",
            (rep_id, scheme, since.isoformat(), last)).fetchall()
        used: dict[date, Decimal] = defaultdict(Decimal)
        for t in history:
            day = date.fromisoformat(t["day"])
            units = units_of(t["distance_m"], unit)
            if t["kind"] != "business":
                if t["id"] in needed:
                    out[t["id"]] = Pay(units, unit, None, None, Decimal(0), 0, rates[-1].currency if rates else "USD")
                continue
            rate = rate_on(rates, day, scheme)
            year = tax_year_start(day, rate.year_start)
            p = pay(units, rate, used[year])
            if t["amount_cents"] is not None:
                # Frozen at submission: what the manager approved is what finance is paid.
                p = Pay(units, unit, t["rate_x10"], None, Decimal(0), t["amount_cents"], t["currency"] or rate.currency)
            used[year] += units
            if t["id"] in needed:
                out[t["id"]] = p
    return out


def set_rate(store: Store, scheme: str, effective_from: date, rate: str | Decimal, *, effective_to: date | None = None,
             unit: str | None = None, currency: str | None = None, tier_limit: int | None = None,
             above: str | Decimal | None = None, source: str = "set by user") -> tuple[int, Changes]:
    """Add a rate from a date (e.g. IRS 2026 when it is published); '0.725' per unit, kept to a tenth of a cent."""
    scheme = scheme.strip().upper()
    if scheme not in SCHEMES:
        raise ExpenseError(f"scheme: {scheme!r} is not one of {', '.join(SCHEMES)}")
    builtin = next((r for r in STANDARD_RATES if r.scheme == scheme), None)
    unit = unit or (builtin.unit if builtin else "mi")
    if unit not in ("mi", "km"):
        raise ExpenseError(f"unit: {unit!r} is not mi or km")
    currency = check_currency(currency or (builtin.currency if builtin else "USD"))
    if effective_to is not None and effective_to < effective_from:
        raise ExpenseError(f"to: {effective_to} is before from {effective_from}")

    def x10(value, field):
        try:
            d = Decimal(str(value).strip())
        except Exception:
            raise ExpenseError(f"{field}: not a rate: {value!r}") from None
        if not d.is_finite() or d <= 0 or d >= 100:
            raise ExpenseError(f"{field}: {value} is not a rate per {unit} (e.g. 0.70)")
        scaled = d * 1000
        if scaled != scaled.to_integral_value():
            raise ExpenseError(f"{field}: {value} is finer than a tenth of a cent")
        return int(scaled)

    values = {"kind": "mileage", "scheme": scheme, "unit": unit, "effective_from": effective_from.isoformat(),
              "effective_to": effective_to.isoformat() if effective_to else None,
              "cents_per_mile_x10": x10(rate, "rate"), "currency": currency,
              "tier_limit": tier_limit if tier_limit is not None else (builtin.tier_limit if builtin and above is None else None),
              "above_x10": x10(above, "above") if above is not None else (builtin.above_x10 if builtin else None),
              "year_start": builtin.year_start if builtin else "01-01", "source": source}
    if values["tier_limit"] is None:
        values["above_x10"] = None
    with store.atomic():
        rid = writes.insert(store, "rate_tables", values)
    return rid, Changes.of("rate_tables", [rid], f"{scheme} rate from {effective_from}")


def rate_list(store: Store, scheme: str | None = None) -> list[Rate]:
    schemes = [scheme.upper()] if scheme else list(SCHEMES)
    return [r for s in schemes for r in rates_for(store, s)]


def set_rep_scheme(store: Store, rep_id: int, scheme: str) -> Changes:
    """Which rates pay this rep's future trips (IRS, CRA, HMRC); trips already logged keep theirs."""
    scheme = scheme.strip().upper()
    if scheme not in SCHEMES:
        raise ExpenseError(f"scheme: {scheme!r} is not one of {', '.join(SCHEMES)}")
    with store.atomic():
        old = writes.update(store, "reps", rep_id, {"mileage_scheme": scheme})
    return Changes.of("reps", [rep_id], f"mileage paid under {scheme} from now on") if old else Changes()
