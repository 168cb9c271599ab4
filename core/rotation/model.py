"""What a rotation is made of: accounts' needs, the cycle's days, the coverage figures and a solved cycle."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from core import defaults, visit_frequency
from core.rotation import calendar

# Weeks between visits; quarterly accounts get one visit in a cycle only when it falls due.
PERIOD_WEEKS = visit_frequency.PERIOD_WEEKS
TIER_WEIGHT = {"A": 100.0, "B": 10.0, "C": 1.0}
LUNCH_MINUTES = defaults.LUNCH_MINUTES
KMH = defaults.SPEED_KMH
# Balance weight: adding an hour of work to a full day costs about as much as BALANCE hours more driving.
BALANCE = 1.5


@dataclass(frozen=True)
class AccountNeed:
    """What one account needs from the cycle: how many visits, how long, on which weekdays and from which week."""

    account_id: int
    name: str
    lat: float
    lon: float
    frequency: str
    visits: int
    minutes: float
    weekdays: tuple[str, ...]
    tier: str | None = None
    earliest_week: int = 0
    opening_hours: str | None = None


@dataclass(frozen=True)
class CycleDay:
    """One working date of the cycle (Mon–Fri unless the rep works more days); off days carry the reason."""

    index: int
    day: date
    off: str = ""
    per_week: int = 5  # working days in each week of the cycle

    @property
    def week(self) -> int:
        return self.index // self.per_week

    @property
    def weekday(self) -> str:
        return calendar.WEEKDAYS[self.day.weekday()]


@dataclass(frozen=True)
class Coverage:
    """Can the rep's hours cover the territory? Figures per week of the cycle, drive time estimated."""

    weeks: int
    working_days: int
    day_hours: float
    available_hours_per_week: float
    visit_hours_per_week: float
    drive_hours_per_week: float
    visits: int
    accounts: int
    too_far: int = 0

    @property
    def needed_hours_per_week(self) -> float:
        return self.visit_hours_per_week + self.drive_hours_per_week

    @property
    def shortfall_hours_per_week(self) -> float:
        return max(0.0, self.needed_hours_per_week - self.available_hours_per_week)

    @property
    def fits(self) -> bool:
        return self.shortfall_hours_per_week <= 1e-9

    @property
    def tight(self) -> bool:
        """Needed hours within 10% of what is available."""
        return self.needed_hours_per_week >= 0.9 * self.available_hours_per_week

    @property
    def visits_short(self) -> int:
        """How many of the cycle's visits the missing hours stand for (at the average visit + drive time)."""
        if self.fits or not self.visits:
            return 0
        per_visit = (self.needed_hours_per_week * self.weeks) / self.visits
        return min(self.visits, math.ceil(self.shortfall_hours_per_week * self.weeks / per_visit - 1e-9))

    def summary(self) -> str:
        head = (f"Coverage: {self.accounts} accounts need {self.visits} visits in {self.weeks} weeks: "
                f"{self.needed_hours_per_week:.1f} h/week ({self.visit_hours_per_week:.1f} visiting + "
                f"~{self.drive_hours_per_week:.1f} driving) against {self.available_hours_per_week:.1f} h/week "
                f"available ({self.working_days} working days of {self.day_hours:.1f} h).")
        if self.too_far:
            head += (f" {self.too_far} account{'s are' if self.too_far > 1 else ' is'} too far from home "
                     f"for a day trip.")
        if self.fits and self.tight:
            return head + (" The hours just cover the territory: driving is an estimate, so expect a few "
                           "visits not to fit when accounts are spread out.")
        if self.fits:
            return head + " The hours cover the territory."
        return head + (f" Short by {self.shortfall_hours_per_week:.1f} h/week, about {self.visits_short} visits "
                       f"in the cycle.")

    def as_dict(self) -> dict[str, Any]:
        return {"weeks": self.weeks, "working_days": self.working_days, "day_hours": round(self.day_hours, 2),
                "available_hours_per_week": round(self.available_hours_per_week, 2),
                "needed_hours_per_week": round(self.needed_hours_per_week, 2),
                "visit_hours_per_week": round(self.visit_hours_per_week, 2),
                "drive_hours_per_week": round(self.drive_hours_per_week, 2),
                "shortfall_hours_per_week": round(self.shortfall_hours_per_week, 2),
                "visits": self.visits, "visits_short": self.visits_short, "accounts": self.accounts,
                "fits": self.fits, "tight": self.tight, "too_far": self.too_far}


@dataclass(frozen=True)
class RotationStop:
    account_id: int
    name: str
    drive_minutes: float
    visit_minutes: float
    arrive: str = ""


@dataclass(frozen=True)
class RotationDay:
    day: date
    stops: tuple[RotationStop, ...]
    drive_minutes: float
    off: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def hours(self) -> float:
        return (self.drive_minutes + sum(s.visit_minutes for s in self.stops)) / 60


@dataclass(frozen=True)
class Rotation:
    """A solved cycle: every working day with its ordered stops, what could not be placed and why."""

    rep_id: int
    rep_name: str
    start: date
    weeks: int
    days: tuple[RotationDay, ...]
    coverage: Coverage
    unplaced: tuple[tuple[int, str, str], ...]  # (account id, name, reason)
    not_due: tuple[int, ...] = ()
    seconds: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)
    workdays: tuple[str, ...] = calendar.WORK_WEEKDAYS  # the weekdays of each week, in order

    @property
    def per_week(self) -> int:
        return len(self.workdays)

    @property
    def total_drive_minutes(self) -> float:
        return sum(d.drive_minutes for d in self.days)

    @property
    def visit_count(self) -> int:
        return sum(len(d.stops) for d in self.days)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rep_id": self.rep_id, "rep": self.rep_name, "start": self.start.isoformat(), "weeks": self.weeks,
            "workdays": list(self.workdays),
            "coverage": self.coverage.as_dict(), "total_drive_minutes": round(self.total_drive_minutes, 1),
            "visits": self.visit_count, "seconds": round(self.seconds, 2),
            "days": [{"date": d.day.isoformat(), "week": i // self.per_week + 1, "weekday": d.day.strftime("%a"), "off": d.off,
                      "drive_minutes": round(d.drive_minutes, 1), "hours": round(d.hours, 2),
                      "warnings": list(d.warnings),
                      "visits": [{"account_id": s.account_id, "name": s.name, "arrive": s.arrive,
                                  "drive_minutes": round(s.drive_minutes, 1), "visit_minutes": s.visit_minutes}
                                 for s in d.stops]} for i, d in enumerate(self.days)],
            "unplaced": [{"account_id": a, "name": n, "reason": r} for a, n, r in self.unplaced],
        }


def minutes_of(hhmm: str | None, default: str) -> int:
    h, m = (hhmm or default).split(":")
    return int(h) * 60 + int(m)


def day_minutes(rep: Mapping[str, Any]) -> float:
    """Minutes a rep works in a day: the work window less lunch, no more than a fifth of the weekly hours."""
    window = minutes_of(rep.get("work_end"), defaults.WORK_END) - minutes_of(rep.get("work_start"), defaults.WORK_START) - LUNCH_MINUTES
    weekly = float(rep.get("capacity_hours_week") or 40) * 60 / 5
    return max(0.0, min(window, weekly))

