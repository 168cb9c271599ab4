"""Mileage rates: in force by date, user-set years, CRA and HMRC tiers counted from the tax year's start."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.expenses import ExpenseError, add_trip, list_trips, set_rate
from core.expenses.rates import rate_on, rates_for, tax_year_start
from core.storage import writes
from tests.core.expenses.conftest import TODAY


def _trip(store, rep, day, miles, **kw):
    tid, _ = add_trip(store, rep, day, start="Office", destination="Customer", purpose="Visit", distance=miles,
                      today=TODAY, **kw)
    return tid


def _amounts(store, rep, first, last):
    return {t["id"]: t for t in list_trips(store, first=first, last=last, rep_id=rep)}


def test_a_trip_is_paid_at_the_irs_rate_in_force_on_its_date(world):
    rep = world.people["rep"]
    a = _trip(world, rep, "2024-12-31", "100")
    b = _trip(world, rep, "2025-01-01", "100")
    paid = _amounts(world, rep, date(2024, 1, 1), date(2025, 12, 31))
    assert paid[a]["amount_cents"] == 6700 and paid[a]["pay"].rate_text() == "0.67"
    assert paid[b]["amount_cents"] == 7000 and paid[b]["pay"].rate_text() == "0.70"


def test_2026_needs_the_users_rate_and_then_uses_it(world):
    rep = world.people["rep"]
    with pytest.raises(ExpenseError, match="no IRS mileage rate in force on 2026-03-02"):
        _trip(world, rep, "2026-03-02", "10")
    assert world.scalar("SELECT count(*) FROM trips") == 0
    _trip(world, rep, "2026-03-02", "10", kind="commute")  # not paid, so no rate needed
    set_rate(world, "IRS", date(2026, 1, 1), "0.725")
    _trip(world, rep, "2026-03-02", "10")
    paid = _amounts(world, rep, date(2026, 3, 1), date(2026, 3, 31))
    # 10 mi x 72.5 cents = 725 cents exactly; 12.3 mi would be 891.75 -> 892 (half up, once per trip).
    assert [t["amount_cents"] for t in paid.values()] == [0, 725]
    tid = _trip(world, rep, "2026-03-03", "12.3")
    assert _amounts(world, rep, date(2026, 3, 3), date(2026, 3, 3))[tid]["amount_cents"] == 892


def test_a_later_user_rate_takes_over_from_its_start_date(world):
    rep = world.people["rep"]
    set_rate(world, "IRS", date(2025, 7, 1), "0.71", effective_to=date(2025, 12, 31))
    a, b = _trip(world, rep, "2025-06-30", "10"), _trip(world, rep, "2025-07-01", "10")
    paid = _amounts(world, rep, date(2025, 6, 1), date(2025, 7, 31))
    assert (paid[a]["amount_cents"], paid[b]["amount_cents"]) == (700, 710)


def test_hmrc_pays_45p_for_the_first_10000_miles_of_the_tax_year_then_25p(world):
    rep = world.people["rep"]
    writes.update(world, "reps", rep, {"mileage_scheme": "HMRC"})
    # 2025/26 tax year from 6 April 2025: 9,990 miles on 33 days, then a 20-mile trip straddles the tier.
    day_ids = [_trip(world, rep, date(2025, 4, 7 + k).isoformat(), "300") for k in range(23)]  # 6,900 mi
    day_ids += [_trip(world, rep, date(2025, 5, 1 + k).isoformat(), "309") for k in range(10)]  # 3,090 mi
    straddle = _trip(world, rep, "2025-06-02", "20")
    after = _trip(world, rep, "2025-06-03", "10")
    paid = _amounts(world, rep, date(2025, 4, 1), date(2025, 6, 30))
    assert paid[day_ids[0]]["amount_cents"] == 13500  # 300 x 45p
    assert paid[straddle]["amount_cents"] == 10 * 45 + 10 * 25
    assert paid[straddle]["pay"].rate_text() == "0.45 for 10.0 mi, then 0.25"
    assert paid[after]["amount_cents"] == 250
    assert paid[after]["currency"] == "GBP"


def test_hmrc_tier_starts_again_on_6_april_not_1_january(world):
    rep = world.people["rep"]
    writes.update(world, "reps", rep, {"mileage_scheme": "HMRC"})
    for k in range(20):  # 10,000 miles in the 2024/25 tax year, all before Christmas
        _trip(world, rep, date(2024, 11, 1 + k).isoformat(), "500")
    jan = _trip(world, rep, "2025-01-10", "10")     # same tax year: 25p
    apr5 = _trip(world, rep, "2025-04-05", "10")    # last day of the tax year: 25p
    apr6 = _trip(world, rep, "2025-04-06", "10")    # new tax year: 45p again
    paid = _amounts(world, rep, date(2025, 1, 1), date(2025, 4, 30))
    assert [paid[t]["amount_cents"] for t in (jan, apr5, apr6)] == [250, 250, 450]


def test_cra_is_per_km_tiered_from_1_january(world):
    rep = world.people["rep"]
    writes.update(world, "reps", rep, {"mileage_scheme": "CRA"})
    firsts = [_trip(world, rep, f"2025-02-{3 + k:02d}", "499", unit="km") for k in range(10)]  # 4,990 km
    second = _trip(world, rep, "2025-02-14", "20", unit="km")
    next_year_first = _trip(world, rep, "2024-12-30", "100", unit="km")
    paid = _amounts(world, rep, date(2024, 12, 1), date(2025, 2, 28))
    assert sum(paid[t]["amount_cents"] for t in firsts) == 4990 * 72
    assert paid[second]["amount_cents"] == 10 * 72 + 10 * 66
    assert paid[next_year_first]["amount_cents"] == 100 * 70  # 2024's rate, its own tier count
    assert paid[second]["currency"] == "CAD"


def test_tax_year_start_and_rate_lookup():
    assert tax_year_start(date(2025, 4, 5), "04-06") == date(2024, 4, 6)
    assert tax_year_start(date(2025, 4, 6), "04-06") == date(2025, 4, 6)
    assert tax_year_start(date(2025, 1, 1), "01-01") == date(2025, 1, 1)


def test_commute_and_personal_trips_are_logged_and_not_paid(world):
    rep = world.people["rep"]
    c = _trip(world, rep, "2025-03-03", "25", kind="commute")
    p = _trip(world, rep, "2025-03-03", "5", kind="personal")
    b = _trip(world, rep, "2025-03-03", "10")
    paid = _amounts(world, rep, date(2025, 3, 3), date(2025, 3, 3))
    assert [paid[t]["amount_cents"] for t in (c, p, b)] == [0, 0, 700]
    assert paid[c]["miles"] == Decimal("25.0") and paid[c]["pay"].rate_text() == ""


def test_bad_rates_are_refused(world):
    for rate, message in (("-0.5", "not a rate"), ("0.7251", "finer than a tenth"), ("abc", "not a rate")):
        with pytest.raises(ExpenseError, match=message):
            set_rate(world, "IRS", date(2026, 1, 1), rate)
    with pytest.raises(ExpenseError, match="scheme"):
        set_rate(world, "ATO", date(2026, 1, 1), "0.88")
    assert rates_for(world, "IRS")[-1].effective_from == "2025-01-01"
    assert rate_on(rates_for(world, "HMRC"), date(2030, 1, 1)).rate_x10 == 450
