"""The days a rotation can use: working weekdays, US federal holidays, a rep's time off, allowed weekdays."""

from __future__ import annotations

from datetime import date, timedelta

from core import opening_hours

WEEKDAYS = opening_hours.WEEKDAYS  # ("mon", ..., "sun")
WORK_WEEKDAYS = WEEKDAYS[:5]


def parse_weekdays(text: str | None) -> tuple[str, ...] | None:
    """'mon,wed,fri' (case, spaces and full names allowed, 'mon-fri' ranges too) → ('mon', 'wed', 'fri').

    None or blank means no restriction (returns None); raises ValueError naming a bad day.
    One reader for the whole app: core.opening_hours.parse_weekdays (imports and `account set` use it too).
    """
    try:
        return opening_hours.parse_weekdays(text)
    except ValueError as exc:
        raise ValueError(f"allowed_weekdays: {exc}") from None

def format_weekdays(days: tuple[str, ...] | list[str]) -> str:
    """The stored form of allowed weekdays: 'mon,tue,wed'."""
    return ",".join(d for d in WEEKDAYS if d in days)


def ordered_weekdays(days: "tuple[str, ...] | list[str] | str") -> tuple[str, ...]:
    """Weekday codes in calendar order without repeats; a string is parsed ('mon-sat'); empty → Mon–Fri."""
    if isinstance(days, str):
        days = parse_weekdays(days) or WORK_WEEKDAYS
    bad = [d for d in days if d not in WEEKDAYS]
    if bad:
        raise ValueError(f"workdays: unknown weekday {bad[0]!r} (use mon,tue,wed,thu,fri,sat,sun)")
    return tuple(d for d in WEEKDAYS if d in days) or WORK_WEEKDAYS


def describe_weekdays(days: "tuple[str, ...] | list[str]") -> str:
    """('mon', ..., 'fri') → 'Mon–Fri'; other sets as a comma list ('Mon, Wed, Sat')."""
    return opening_hours.describe_weekdays(days)


def account_weekdays(allowed_weekdays: str | None, hours_json: str | None,
                     workdays: "tuple[str, ...] | list[str]" = WORK_WEEKDAYS) -> tuple[str, ...]:
    """Work weekdays an account can be visited: allowed_weekdays ∩ days it is open ∩ the rep's working days."""
    from core.account_value import Account, hours_from_json

    account = Account(id=0, name="", hours=hours_from_json(hours_json), allowed_weekdays=parse_weekdays(allowed_weekdays))
    workdays = ordered_weekdays(list(workdays))
    return tuple(d for d in workdays if d in account.visit_weekdays(workdays))

def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    # Federal rule: a Saturday holiday is observed on Friday, a Sunday one on Monday.
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> dict[date, str]:
    """Observed US federal holidays of a year (5 U.S.C. 6103), built in so no package is needed."""
    fixed = [(1, 1, "New Year's Day"), (6, 19, "Juneteenth"), (7, 4, "Independence Day"),
             (11, 11, "Veterans Day"), (12, 25, "Christmas Day")]
    days = {_observed(date(year, m, d)): name for m, d, name in fixed}
    days[_nth_weekday(year, 1, 0, 3)] = "Martin Luther King Jr. Day"
    days[_nth_weekday(year, 2, 0, 3)] = "Washington's Birthday"
    days[_last_weekday(year, 5, 0)] = "Memorial Day"
    days[_nth_weekday(year, 9, 0, 1)] = "Labor Day"
    days[_nth_weekday(year, 10, 0, 2)] = "Columbus Day"
    days[_nth_weekday(year, 11, 3, 4)] = "Thanksgiving Day"
    # New Year's Day of next year may be observed on Dec 31 of this one.
    nxt = _observed(date(year + 1, 1, 1))
    if nxt.year == year:
        days[nxt] = "New Year's Day"
    return days


def holidays_between(start: date, end: date) -> dict[date, str]:
    """Observed federal holidays in [start, end]."""
    out: dict[date, str] = {}
    for year in range(start.year - 1, end.year + 1):
        out.update({d: n for d, n in us_federal_holidays(year).items() if start <= d <= end})
    return out


def cycle_days(start: date, weeks: int, workdays: "tuple[str, ...] | list[str]" = WORK_WEEKDAYS) -> list[date]:
    """The working dates (Mon–Fri by default) of a cycle of `weeks` weeks from the Monday of `start`'s week."""
    monday = start - timedelta(days=start.weekday())
    offsets = [WEEKDAYS.index(d) for d in ordered_weekdays(list(workdays))]
    return [monday + timedelta(days=7 * w + d) for w in range(weeks) for d in offsets]
