"""Goal periods as people write them: a year '2026', a quarter '2026-Q4', a month '2026-11'."""

from __future__ import annotations

import re
from datetime import date

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$", re.I)


class PeriodProblem(ValueError):
    pass


def period_range(period: str) -> tuple[date, date]:
    """(first day, day after the last) of a period; raises PeriodProblem naming the value."""
    m = _PERIOD.match(period.strip())
    if not m:
        raise PeriodProblem(f"period {period!r}: write a year (2026), a quarter (2026-Q4) or a month (2026-11)")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    elif m.group(3):
        month = int(m.group(3))
        start = date(year, month, 1)
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return start, end


def normalise_period(period: str) -> str:
    period_range(period)
    return period.strip().upper()


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
