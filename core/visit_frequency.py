"""How often an account is visited: the stored words ('weekly' … 'none', or 'N/cycle'), their labels and the typed forms.

"N per cycle" is stored in the same column as the other frequencies ('3/cycle'), not as a word plus a
count column: sync merges per column, and two columns edited on two laptops could merge into a
frequency and a count that disagree. A cycle is the rotation's length; where there is no rotation
(workload, the week plan's due dates) it counts as `defaults.CYCLE_WEEKS` weeks.
"""

from __future__ import annotations

import re

from core import defaults

PERIOD_WEEKS = {"weekly": 1, "biweekly": 2, "monthly": 4, "quarterly": 13}
WORDS = ("weekly", "biweekly", "monthly", "quarterly", "none")
VISITS_PER_YEAR = {"weekly": 52, "biweekly": 26, "monthly": 13, "quarterly": 4, "none": 0}
LABELS = {"weekly": "Weekly", "biweekly": "Every 2 weeks", "monthly": "Monthly",
          "quarterly": "Quarterly", "none": "No regular visits"}
MAX_PER_CYCLE = 99  # the schema's CHECK allows one or two digits
_STORED = re.compile(r"^([1-9]\d?)/cycle$")
_TYPED = re.compile(r"^(\d+)\s*(?:x|times)?\s*(?:per|/|each|every|a|in)?\s*(?:the\s+)?(?:rotation|call)?\s*"
                    r"(?:cycle|rotation)s?$")


def per_cycle(value: str | None) -> int | None:
    """N for a stored 'N/cycle', else None."""
    m = _STORED.match(value or "")
    return int(m.group(1)) if m else None


def stored_per_cycle(count: int) -> str:
    if not 1 <= count <= MAX_PER_CYCLE:
        raise ValueError(f"visits per cycle must be 1 to {MAX_PER_CYCLE} (use none for no regular visits)")
    return f"{count}/cycle"


def is_stored(value: object) -> bool:
    """Whether a value may be stored in accounts.visit_frequency."""
    return isinstance(value, str) and (value in VISITS_PER_YEAR or per_cycle(value) is not None)


def label(value: str | None) -> str:
    """'3/cycle' -> '3 per cycle', 'biweekly' -> 'Every 2 weeks'."""
    n = per_cycle(value)
    if n is not None:
        return f"{n} per cycle"
    return LABELS.get(value or "", value or "")


def visits_per_year(value: str | None) -> int:
    n = per_cycle(value)
    if n is not None:
        return round(n * 52 / defaults.CYCLE_WEEKS)
    return VISITS_PER_YEAR.get(value or "none", 0)


def interval_days(value: str | None) -> float | None:
    """Days between visits (None for no regular visits): what a due date is counted from."""
    n = per_cycle(value)
    if n is not None:
        return defaults.CYCLE_WEEKS * 7 / n
    per_year = VISITS_PER_YEAR.get(value or "none", 0)
    return 365 / per_year if per_year else None


def visits_in_cycle(value: str | None, weeks: int) -> int:
    """Visits an account of this frequency gets in a cycle of `weeks` (quarterly: 1 when due, decided by the caller)."""
    n = per_cycle(value)
    if n is not None:
        return n
    period = PERIOD_WEEKS.get(value or "")
    if not period:
        return 0
    if period > weeks:
        return 1
    return max(1, int(weeks / period + 0.5))


def _key(text: str) -> str:
    key = str(text).strip().lower().replace("times", "x").replace("visits", "").replace("visit", "")
    return " ".join(f" {key} ".replace(" a ", " per ").split())


_WORDS = {
    "weekly": "weekly", "every week": "weekly", "once a week": "weekly", "1 per week": "weekly",
    "1x week": "weekly", "1x per week": "weekly", "1/week": "weekly", "w": "weekly", "52 per year": "weekly",
    "biweekly": "biweekly", "bi-weekly": "biweekly", "fortnightly": "biweekly", "every 2 weeks": "biweekly",
    "every two weeks": "biweekly", "every other week": "biweekly", "2 weekly": "biweekly", "2w": "biweekly",
    "26 per year": "biweekly",
    "monthly": "monthly", "every month": "monthly", "once a month": "monthly", "every 4 weeks": "monthly",
    "every four weeks": "monthly", "1 per month": "monthly", "1x month": "monthly", "1x per month": "monthly",
    "4 weekly": "monthly", "4w": "monthly", "12 per year": "monthly", "13 per year": "monthly",
    "quarterly": "quarterly", "every quarter": "quarterly", "once a quarter": "quarterly",
    "every 3 months": "quarterly", "every three months": "quarterly", "every 13 weeks": "quarterly",
    "4 per year": "quarterly", "1 per quarter": "quarterly", "q": "quarterly",
    "none": "none", "never": "none", "no visits": "none", "no regular visits": "none", "do not visit": "none",
    "0": "none", "n/a": "none",
}
_WORDS = {_key(k): v for k, v in _WORDS.items()} | _WORDS


def parse(text: str) -> str:
    """What people type or CRMs export -> the stored value; ValueError with the reason otherwise.

    'Every 2 weeks', 'Bi-Weekly', 'Fortnightly', 'Quarterly', 'none', and 'N per cycle' in its usual
    spellings ('3 per cycle', '3x per cycle', '3 times a cycle', '3/cycle', '3 visits per rotation').
    """
    key = _key(text)
    found = _WORDS.get(key) or _WORDS.get(key.replace("-", " "))
    if found is not None:
        return found
    if per_cycle(key) is not None:
        return key
    m = _TYPED.match(key.replace(" / ", "/").replace("x/", "x /"))
    if m:
        count = int(m.group(1))
        if count == 0:
            return "none"
        return stored_per_cycle(count)
    raise ValueError("must be weekly, every 2 weeks, monthly, quarterly, N per cycle (e.g. 3 per cycle) or none")
