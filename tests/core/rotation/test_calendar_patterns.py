"""Visit patterns: frequencies and allowed weekdays honoured, holidays and time off skipped, even spacing."""

from datetime import date

import pytest

from core.rotation import calendar
from core.rotation.planner import AccountNeed, CycleDay, cycle_calendar, visit_patterns, visits_in_cycle

MONDAY = date(2026, 11, 23)  # Thanksgiving (Thu 26 Nov) falls in week 1


def need(freq, weekdays=calendar.WORK_WEEKDAYS, weeks=4, earliest=0):
    return AccountNeed(1, "Acme", 30.0, -97.0, freq, visits_in_cycle(freq, weeks), 45.0, tuple(weekdays),
                       "A", earliest)


def test_weekday_parsing_accepts_lists_names_and_ranges():
    assert calendar.parse_weekdays("mon,wed,fri") == ("mon", "wed", "fri")
    assert calendar.parse_weekdays(" Tuesday ; THU ") == ("tue", "thu")
    assert calendar.parse_weekdays("mon-wed") == ("mon", "tue", "wed")
    assert calendar.parse_weekdays("") is None
    with pytest.raises(ValueError, match="funday"):
        calendar.parse_weekdays("mon,funday")
    assert calendar.format_weekdays(["fri", "mon"]) == "mon,fri"


def test_account_weekdays_intersect_allowed_and_opening_days():
    hours = '{"tue":[["10:00","21:00"]],"wed":[["10:00","21:00"]],"sat":[["10:00","21:00"]]}'
    assert calendar.account_weekdays(None, hours) == ("tue", "wed")
    assert calendar.account_weekdays("mon,wed", hours) == ("wed",)
    assert calendar.account_weekdays("sat", None) == ()


def test_federal_holidays_observed_rules():
    h = calendar.us_federal_holidays(2026)
    assert h[date(2026, 11, 26)] == "Thanksgiving Day"
    assert h[date(2026, 7, 3)] == "Independence Day"  # 4 July 2026 is a Saturday
    assert h[date(2026, 5, 25)] == "Memorial Day"
    assert date(2026, 7, 4) not in h
    assert calendar.us_federal_holidays(2027)[date(2027, 12, 24)] == "Christmas Day"


def test_visits_per_cycle_follow_frequency():
    assert [visits_in_cycle(f, 4) for f in ("weekly", "biweekly", "monthly", "quarterly", "none")] == [4, 2, 1, 1, 0]
    assert [visits_in_cycle(f, 8) for f in ("weekly", "biweekly", "monthly")] == [8, 4, 2]


def test_weekly_patterns_keep_one_weekday_and_move_off_the_holiday():
    days = cycle_calendar(None, None, MONDAY, 4)
    assert days[3].off == "Thanksgiving Day"
    patterns = visit_patterns(need("weekly"), days)
    assert len(patterns) == 5
    for p in patterns:
        assert len(p) == 4 and [d // 5 for d in p] == [0, 1, 2, 3]
        assert all(not days[d].off for d in p)
        later = {d % 5 for d in p if d >= 5}
        assert len(later) == 1  # weeks without a holiday keep the same weekday
    thursday = [p for p in patterns if p[1] % 5 == 3][0]
    assert thursday[0] == 4  # Thanksgiving's visit moved to the Friday of that week


def test_biweekly_and_monthly_patterns_are_evenly_spaced_on_allowed_days():
    days = [CycleDay(i, d) for i, d in enumerate(calendar.cycle_days(MONDAY, 8))]
    for p in visit_patterns(need("biweekly", ("tue", "thu"), weeks=8), days):
        assert len(p) == 4
        assert {d % 5 for d in p} in ({1}, {3})
        assert [b - a for a, b in zip(p, p[1:])] == [10, 10, 10]
    monthly = visit_patterns(need("monthly", ("mon",), weeks=8), days)
    assert monthly and all(len(p) == 2 and p[1] - p[0] == 20 and p[0] % 5 == 0 for p in monthly)


def test_quarterly_respects_earliest_week_and_time_off(empty_store):
    from core.storage import writes

    rep_id = writes.insert(empty_store, "reps", {"name": "Rita", "home_lat": 30.0, "home_lon": -97.0})
    writes.insert(empty_store, "time_off", {"rep_id": rep_id, "day": "2026-12-01", "reason": "dentist"})
    days = cycle_calendar(empty_store, rep_id, MONDAY, 4)
    assert days[6].off == "dentist"
    patterns = visit_patterns(need("quarterly", earliest=2), days)
    assert patterns and all(len(p) == 1 and p[0] >= 10 for p in patterns)
    every = {d for p in visit_patterns(need("weekly", ("tue",)), days) for d in p}
    assert 6 not in every and 3 not in every


def test_no_pattern_when_no_allowed_weekday():
    days = cycle_calendar(None, None, MONDAY, 4)
    assert visit_patterns(need("weekly", ()), days) == []
