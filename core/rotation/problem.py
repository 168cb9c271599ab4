"""Building a rotation's problem: the cycle's days, each account's need and allowed day patterns, the coverage check."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping, Sequence

import numpy as np

from core import visit_frequency
from core.rotation import calendar
from core.rotation.model import (BALANCE, KMH, PERIOD_WEEKS, TIER_WEIGHT, AccountNeed, Coverage, CycleDay,
                                 day_minutes)
from core.rotation.periodic import PeriodicProblem
from core.storage.database import Store

def cycle_calendar(store: Store | None, rep_id: int | None, start: date, weeks: int,
                   extra_off: Mapping[date, str] | None = None,
                   workdays: Sequence[str] = calendar.WORK_WEEKDAYS) -> list[CycleDay]:
    """The cycle's working days (Mon–Fri unless `workdays` says more) with holidays and the rep's time off marked."""
    workdays = calendar.ordered_weekdays(workdays)
    dates = calendar.cycle_days(start, weeks, workdays)
    off: dict[date, str] = dict(calendar.holidays_between(dates[0], dates[-1]))
    if store is not None:
        for r in store.conn.execute(
                "SELECT day, reason FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL)",
                (rep_id,)):
            try:
                off[date.fromisoformat(r["day"][:10])] = r["reason"] or "time off"
            except ValueError:
                continue
    off.update(extra_off or {})
    return [CycleDay(i, d, off.get(d, ""), len(workdays)) for i, d in enumerate(dates)]


def visits_in_cycle(frequency: str, weeks: int) -> int:
    """Visits an account of this frequency gets in a cycle (quarterly: 1 when due, decided by the caller; N per cycle: N)."""
    return visit_frequency.visits_in_cycle(frequency, weeks)


def per_cycle_patterns(need: AccountNeed, days: Sequence[CycleDay], most: int = 7) -> list[tuple[int, ...]]:
    """Day sets for an 'N per cycle' account: N of its allowed open days, spread evenly over the cycle's calendar.

    The ideal visits are `cycle length / N` calendar days apart; each pattern starts at another phase
    of that spacing and takes, for each ideal date, the nearest allowed open day not yet taken. N larger
    than the weeks simply puts several visits in a week. With fewer allowed open days than N, the one
    pattern is every one of them (the solve reports the visits short).
    """
    open_days = [d.index for d in days if d.weekday in need.weekdays and not d.off]
    if not need.visits or not open_days:
        return []
    if need.visits >= len(open_days):
        return [tuple(open_days)]
    first = days[0].day - timedelta(days=days[0].day.weekday())
    span = 7 * (len(days) // (days[0].per_week or 5) or 1)
    at = {i: (days[i].day - first).days for i in open_days}
    gap = span / need.visits
    phases = max(1, min(2 * most, math.ceil(2 * gap)))

    def apart(a: float, b: float) -> float:  # the cycle repeats: day 27 is a day before the next day 0
        d = abs(a - b) % span
        return min(d, span - d)

    found: set[tuple[int, ...]] = set()
    for k in range(phases):
        taken: list[int] = []
        for j in range(need.visits):
            target = (k * gap / phases + j * gap) % span
            taken.append(min((i for i in open_days if i not in taken), key=lambda i: (apart(at[i], target), at[i])))
        found.add(tuple(sorted(taken)))

    def unevenness(p: tuple[int, ...]) -> int:
        gaps = [at[b] - at[a] for a, b in zip(p, p[1:])] + [at[p[0]] + span - at[p[-1]]]
        return max(gaps) - min(gaps)

    # Keep the evenest day sets (a phase that lands on weekends bunches two visits together).
    best = min(unevenness(p) for p in found)
    return sorted(p for p in found if unevenness(p) <= best + 1)[:most]


def visit_patterns(need: AccountNeed, days: Sequence[CycleDay]) -> list[tuple[int, ...]]:
    """Allowed day sets: same weekday, visits `period` weeks apart; an off day moves to the nearest open day that week.

    Patterns that lose a visit to time off are only offered when no complete pattern exists.
    """
    per_week = days[0].per_week if days else 5
    weeks = len(days) // per_week
    workdays = [d.weekday for d in days[:per_week]]
    if visit_frequency.per_cycle(need.frequency) is not None:
        return per_cycle_patterns(need, days)
    period = PERIOD_WEEKS.get(need.frequency, 0)
    if not need.visits or not need.weekdays or not period:
        return []
    step = period if need.visits > 1 else 1
    span = (need.visits - 1) * step
    complete: set[tuple[int, ...]] = set()
    partial: set[tuple[int, ...]] = set()
    allowed_idx = [workdays.index(w) for w in need.weekdays if w in workdays]
    offsets = range(need.earliest_week, min(weeks - span, need.earliest_week + period if need.visits > 1 else weeks))
    for offset in offsets:
        for w in allowed_idx:
            chosen: list[int] = []
            for j in range(need.visits):
                week = offset + j * step
                day = _open_day(days, week, w, allowed_idx, chosen, per_week)
                if day is not None:
                    chosen.append(day)
            pattern = tuple(sorted(chosen))
            if len(pattern) == need.visits:
                complete.add(pattern)
            elif pattern:
                partial.add(pattern)
    return sorted(complete) if complete else sorted(partial, key=lambda p: (-len(p), p))


def _open_day(days: Sequence[CycleDay], week: int, weekday: int, allowed: list[int], taken: list[int],
              per_week: int = 5) -> int | None:
    """The day (week, weekday) if open, else the nearest open allowed day of that week (later first)."""
    idx = week * per_week + weekday
    if idx < len(days) and not days[idx].off:
        return idx
    for delta in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6):
        w = weekday + delta
        if 0 <= w < per_week and w in allowed:
            j = week * per_week + w
            if j < len(days) and not days[j].off and j not in taken:
                return j
    return None


def load_needs(store: Store, rep_id: int, start: date, weeks: int,
               workdays: Sequence[str] = calendar.WORK_WEEKDAYS) -> tuple[list[AccountNeed], list[int]]:
    """(needs, ids of quarterly accounts not due in this cycle) for the rep's active, located accounts."""
    end = calendar.cycle_days(start, weeks, workdays)[-1]
    monday = start - timedelta(days=start.weekday())
    from core.account_value import read_accounts

    needs, not_due = [], []
    for a in read_accounts(store, owner_id=rep_id, active=True, located=True, visited=True):
        freq = a.visit_frequency
        visits = visits_in_cycle(freq, weeks)
        earliest = 0
        if PERIOD_WEEKS.get(freq, 0) > weeks:
            if a.last_visit_at:
                due = date.fromisoformat(a.last_visit_at[:10]) + timedelta(weeks=PERIOD_WEEKS[freq])
                if due > end:
                    not_due.append(a.id)
                    continue
                earliest = max(0, (due - monday).days // 7)
        needs.append(AccountNeed(a.id, a.name, a.lat, a.lon, freq, visits, float(a.visit_minutes),
                                 a.visit_weekdays(calendar.ordered_weekdays(list(workdays))),
                                 a.tier, earliest, a.opening_hours_json))
    return needs, not_due


def drive_matrix(points: Sequence[tuple[float, float]], kmh: float = KMH) -> np.ndarray:
    """Drive minutes between points from the routing engine's offline estimate (core.routing.matrix), as an array."""
    from core.routing.matrix import GreatCircleMatrix

    if not len(points):
        return np.zeros((0, 0))
    return np.asarray(GreatCircleMatrix(kmh=kmh).matrix([tuple(p) for p in points]).duration, dtype=float)


def coverage_check(needs: Sequence[AccountNeed], days: Sequence[CycleDay], home: tuple[float, float],
                   minutes_per_day: float, travel: np.ndarray | None = None) -> Coverage:
    """Hours needed vs available, per week. Driving is an estimate: each visit costs its mean link to its four
    nearest accounts, and each working day used costs a round trip from home to an average account."""
    weeks = max(1, len(days) // (days[0].per_week if days else 5))
    working = [d for d in days if not d.off]
    visits = sum(n.visits for n in needs)
    visit_minutes = sum(n.visits * n.minutes for n in needs)
    drive = 0.0
    if needs:
        if travel is None:
            travel = drive_matrix([home, *[(n.lat, n.lon) for n in needs]])
        sub = travel[1:, 1:].copy()
        np.fill_diagonal(sub, np.inf)
        k = min(4, len(needs) - 1)
        link = np.sort(sub, axis=1)[:, :k].mean(axis=1) if k > 0 else np.zeros(len(needs))
        drive = float(sum(n.visits * link[i] for i, n in enumerate(needs)))
        days_used = min(len(working), math.ceil((visit_minutes + drive) / max(1.0, minutes_per_day)))
        drive += days_used * 2 * float(np.mean(travel[0, 1:]))
    available = len(working) * minutes_per_day
    too_far = 0
    if needs and travel is not None:
        too_far = sum(1 for i, n in enumerate(needs) if 2 * travel[0, i + 1] + n.minutes > minutes_per_day)
    return Coverage(too_far=too_far, weeks=weeks, working_days=len(working), day_hours=minutes_per_day / 60,
                    available_hours_per_week=available / 60 / weeks, visit_hours_per_week=visit_minutes / 60 / weeks,
                    drive_hours_per_week=drive / 60 / weeks, visits=visits, accounts=len(needs))


@dataclass(frozen=True)
class RotationInput:
    """Everything the solve needs, read from the database once (so a worker can solve without it)."""

    rep: Mapping[str, Any]
    start: date
    weeks: int
    days: tuple[CycleDay, ...]
    needs: tuple[AccountNeed, ...]
    not_due: tuple[int, ...]
    minutes_per_day: float
    travel: np.ndarray
    workdays: tuple[str, ...] = calendar.WORK_WEEKDAYS

    def coverage(self) -> Coverage:
        home = (self.rep["home_lat"], self.rep["home_lon"])
        return coverage_check(self.needs, self.days, home, self.minutes_per_day, self.travel)

    def problem(self) -> tuple[PeriodicProblem, list[str]]:
        """The periodic problem (node i = needs[i-1]) and, per node, why it has no pattern ('' if it has)."""
        patterns, why = [()], [""]
        for n in self.needs:
            if not n.weekdays:
                patterns.append(())
                why.append(f"no allowed weekday (allowed_weekdays / opening hours exclude "
                           f"{calendar.describe_weekdays(self.workdays)}, the rep's working days)")
                continue
            p = visit_patterns(n, self.days)
            patterns.append(tuple(p))
            why.append("" if p else "every allowed day in the cycle is a holiday or time off")
        vehicles = tuple(0 if d.off else 1 for d in self.days)
        penalty = [0.0] + [1e5 * TIER_WEIGHT.get(n.tier or "C", 1.0) * max(1, n.visits) for n in self.needs]
        problem = PeriodicProblem(
            travel=self.travel, demand=tuple([0.0] * (len(self.needs) + 1)),
            service=(0.0, *[n.minutes for n in self.needs]), patterns=tuple(patterns), vehicles=vehicles,
            capacity=tuple([None] * len(self.days)), max_duration=tuple([self.minutes_per_day] * len(self.days)),
            penalty=tuple(penalty), names=("home", *[n.name for n in self.needs]),
            balance_weight=BALANCE / max(1.0, self.minutes_per_day))
        return problem, why


def prepare(store: Store, rep_id: int, start: date, weeks: int,
            workdays: Sequence[str] | None = None) -> RotationInput:
    """Read the rep, the cycle's days and the accounts' needs; raises ValueError with a plain reason.

    `workdays` are the weekdays the rep works (default Monday–Friday; e.g. add "sat" for Saturday calls).
    """
    from core.reps import get_rep

    workdays = calendar.ordered_weekdays(workdays or calendar.WORK_WEEKDAYS)
    if not 1 <= weeks <= 13:
        raise ValueError(f"weeks: a cycle is 1 to 13 weeks (4–8 is usual), got {weeks}")
    rep = get_rep(store, rep_id)
    if rep["home_lat"] is None or rep["home_lon"] is None:
        raise ValueError(f"rep {rep['name']}: home location is missing (set home_lat/home_lon)")
    start = start - timedelta(days=start.weekday())
    days = cycle_calendar(store, rep_id, start, weeks, workdays=workdays)
    needs, not_due = load_needs(store, rep_id, start, weeks, workdays)
    travel = drive_matrix([(rep["home_lat"], rep["home_lon"]), *[(n.lat, n.lon) for n in needs]])
    return RotationInput(rep=rep, start=start, weeks=weeks, days=tuple(days), needs=tuple(needs),
                         not_due=tuple(not_due), minutes_per_day=day_minutes(rep), travel=travel,
                         workdays=workdays)


