"""Call rotations for a rep: visit patterns from frequencies, the coverage check, the solve, roll-forward and save."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from core.changes import Changes
from core.progress import Progress, check_cancelled
from core.rotation import calendar
from core.rotation.periodic import PeriodicProblem, PeriodicSolution, route_cost, solve_periodic
from core.storage import writes
from core.storage.database import Store

# Weeks between visits; quarterly accounts get one visit in a cycle only when it falls due.
PERIOD_WEEKS = {"weekly": 1, "biweekly": 2, "monthly": 4, "quarterly": 13}
TIER_WEIGHT = {"A": 100.0, "B": 10.0, "C": 1.0}
LUNCH_MINUTES = 30
KMH = 65.0
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
    """One Mon–Fri date of the cycle; off days carry the reason (holiday name or time off)."""

    index: int
    day: date
    off: str = ""

    @property
    def week(self) -> int:
        return self.index // 5

    @property
    def weekday(self) -> str:
        return calendar.WORK_WEEKDAYS[self.index % 5]


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

    @property
    def total_drive_minutes(self) -> float:
        return sum(d.drive_minutes for d in self.days)

    @property
    def visit_count(self) -> int:
        return sum(len(d.stops) for d in self.days)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rep_id": self.rep_id, "rep": self.rep_name, "start": self.start.isoformat(), "weeks": self.weeks,
            "coverage": self.coverage.as_dict(), "total_drive_minutes": round(self.total_drive_minutes, 1),
            "visits": self.visit_count, "seconds": round(self.seconds, 2),
            "days": [{"date": d.day.isoformat(), "week": i // 5 + 1, "weekday": d.day.strftime("%a"), "off": d.off,
                      "drive_minutes": round(d.drive_minutes, 1), "hours": round(d.hours, 2),
                      "warnings": list(d.warnings),
                      "visits": [{"account_id": s.account_id, "name": s.name, "arrive": s.arrive,
                                  "drive_minutes": round(s.drive_minutes, 1), "visit_minutes": s.visit_minutes}
                                 for s in d.stops]} for i, d in enumerate(self.days)],
            "unplaced": [{"account_id": a, "name": n, "reason": r} for a, n, r in self.unplaced],
        }


def _minutes(hhmm: str | None, default: str) -> int:
    h, m = (hhmm or default).split(":")
    return int(h) * 60 + int(m)


def day_minutes(rep: Mapping[str, Any]) -> float:
    """Minutes a rep works in a day: the work window less lunch, no more than a fifth of the weekly hours."""
    window = _minutes(rep.get("work_end"), "17:00") - _minutes(rep.get("work_start"), "08:00") - LUNCH_MINUTES
    weekly = float(rep.get("capacity_hours_week") or 40) * 60 / 5
    return max(0.0, min(window, weekly))


def cycle_calendar(store: Store | None, rep_id: int | None, start: date, weeks: int,
                   extra_off: Mapping[date, str] | None = None) -> list[CycleDay]:
    """The cycle's Mon–Fri days with holidays and the rep's time off marked."""
    dates = calendar.cycle_days(start, weeks)
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
    return [CycleDay(i, d, off.get(d, "")) for i, d in enumerate(dates)]


def visits_in_cycle(frequency: str, weeks: int) -> int:
    """Visits an account of this frequency gets in a cycle (quarterly: 1 when due, decided by the caller)."""
    period = PERIOD_WEEKS.get(frequency)
    if not period:
        return 0
    if period > weeks:
        return 1
    return max(1, int(weeks / period + 0.5))


def visit_patterns(need: AccountNeed, days: Sequence[CycleDay]) -> list[tuple[int, ...]]:
    """Allowed day sets: same weekday, visits `period` weeks apart; an off day moves to the nearest open day that week.

    Patterns that lose a visit to time off are only offered when no complete pattern exists.
    """
    weeks = len(days) // 5
    period = PERIOD_WEEKS.get(need.frequency, 0)
    if not need.visits or not need.weekdays or not period:
        return []
    step = period if need.visits > 1 else 1
    span = (need.visits - 1) * step
    complete: set[tuple[int, ...]] = set()
    partial: set[tuple[int, ...]] = set()
    allowed_idx = [calendar.WORK_WEEKDAYS.index(w) for w in need.weekdays]
    offsets = range(need.earliest_week, min(weeks - span, need.earliest_week + period if need.visits > 1 else weeks))
    for offset in offsets:
        for w in allowed_idx:
            chosen: list[int] = []
            for j in range(need.visits):
                week = offset + j * step
                day = _open_day(days, week, w, allowed_idx, chosen)
                if day is not None:
                    chosen.append(day)
            pattern = tuple(sorted(chosen))
            if len(pattern) == need.visits:
                complete.add(pattern)
            elif pattern:
                partial.add(pattern)
    return sorted(complete) if complete else sorted(partial, key=lambda p: (-len(p), p))


def _open_day(days: Sequence[CycleDay], week: int, weekday: int, allowed: list[int], taken: list[int]) -> int | None:
    """The day (week, weekday) if open, else the nearest open allowed day of that week (later first)."""
    idx = week * 5 + weekday
    if idx < len(days) and not days[idx].off:
        return idx
    for delta in (1, -1, 2, -2, 3, -3, 4, -4):
        w = weekday + delta
        if 0 <= w < 5 and w in allowed:
            j = week * 5 + w
            if j < len(days) and not days[j].off and j not in taken:
                return j
    return None


def load_needs(store: Store, rep_id: int, start: date, weeks: int) -> tuple[list[AccountNeed], list[int]]:
    """(needs, ids of quarterly accounts not due in this cycle) for the rep's active, located accounts."""
    end = calendar.cycle_days(start, weeks)[-1]
    monday = start - timedelta(days=start.weekday())
    rows = store.conn.execute(
        "SELECT id, name, lat, lon, tier, visit_frequency, visit_minutes, opening_hours, allowed_weekdays, "
        "last_visit_at FROM accounts WHERE deleted_at IS NULL AND owner_id = ? AND status = 'active' "
        "AND lat IS NOT NULL AND lon IS NOT NULL AND visit_frequency != 'none' ORDER BY id", (rep_id,)).fetchall()
    needs, not_due = [], []
    for r in rows:
        freq = r["visit_frequency"]
        visits = visits_in_cycle(freq, weeks)
        earliest = 0
        if PERIOD_WEEKS.get(freq, 0) > weeks:
            if r["last_visit_at"]:
                due = date.fromisoformat(r["last_visit_at"][:10]) + timedelta(weeks=PERIOD_WEEKS[freq])
                if due > end:
                    not_due.append(r["id"])
                    continue
                earliest = max(0, (due - monday).days // 7)
        needs.append(AccountNeed(r["id"], r["name"], r["lat"], r["lon"], freq, visits, float(r["visit_minutes"] or 0),
                                 calendar.account_weekdays(r["allowed_weekdays"], r["opening_hours"]), r["tier"],
                                 earliest, r["opening_hours"]))
    return needs, not_due


def drive_matrix(points: Sequence[tuple[float, float]], kmh: float = KMH) -> np.ndarray:
    """Offline drive minutes between points (great circle × circuity at an average speed), as core.routing does."""
    from core.geo import CIRCUITY, EARTH_RADIUS_M

    pts = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
    lat, lon = pts[:, 0][:, None], pts[:, 1][:, None]
    a = (np.sin((lat.T - lat) / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2)
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))) * CIRCUITY
    return metres / (kmh * 1000 / 60)


def coverage_check(needs: Sequence[AccountNeed], days: Sequence[CycleDay], home: tuple[float, float],
                   minutes_per_day: float, travel: np.ndarray | None = None) -> Coverage:
    """Hours needed vs available, per week. Driving is an estimate: each visit costs its mean link to its four
    nearest accounts, and each working day used costs a round trip from home to an average account."""
    weeks = max(1, len(days) // 5)
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

    def coverage(self) -> Coverage:
        home = (self.rep["home_lat"], self.rep["home_lon"])
        return coverage_check(self.needs, self.days, home, self.minutes_per_day, self.travel)

    def problem(self) -> tuple[PeriodicProblem, list[str]]:
        """The periodic problem (node i = needs[i-1]) and, per node, why it has no pattern ('' if it has)."""
        patterns, why = [()], [""]
        for n in self.needs:
            if not n.weekdays:
                patterns.append(())
                why.append("no allowed weekday (allowed_weekdays / opening hours exclude Mon–Fri)")
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


def prepare(store: Store, rep_id: int, start: date, weeks: int) -> RotationInput:
    """Read the rep, the cycle's days and the accounts' needs; raises ValueError with a plain reason."""
    from core.reps import get_rep

    if not 1 <= weeks <= 13:
        raise ValueError(f"weeks: a cycle is 1 to 13 weeks (4–8 is usual), got {weeks}")
    rep = get_rep(store, rep_id)
    if rep["home_lat"] is None or rep["home_lon"] is None:
        raise ValueError(f"rep {rep['name']}: home location is missing (set home_lat/home_lon)")
    start = start - timedelta(days=start.weekday())
    days = cycle_calendar(store, rep_id, start, weeks)
    needs, not_due = load_needs(store, rep_id, start, weeks)
    travel = drive_matrix([(rep["home_lat"], rep["home_lon"]), *[(n.lat, n.lon) for n in needs]])
    return RotationInput(rep=rep, start=start, weeks=weeks, days=tuple(days), needs=tuple(needs),
                         not_due=tuple(not_due), minutes_per_day=day_minutes(rep), travel=travel)


def solve_rotation(data: RotationInput, *, seconds: float = 20.0, seed: int = 0, progress: Progress | None = None,
                   route_days: bool = True) -> Rotation:
    """Assign visit days and route each day; never writes. Always returns a plan; misfits are in `unplaced`."""
    import time

    started = time.perf_counter()
    problem, why = data.problem()
    check_cancelled(progress)
    share = 0.75 if route_days else 1.0
    solution = solve_periodic(problem, seconds=seconds * share, seed=seed, progress=progress)
    days = _days_from_solution(data, problem, solution)
    if route_days:
        days = _route_with_engine(data, days, seconds * (1 - share), seed, progress)
    unplaced = []
    for node in solution.unserved:
        need = data.needs[node - 1]
        trip = 2 * float(data.travel[0, node]) + need.minutes
        if why[node]:
            reason = why[node]
        elif trip > data.minutes_per_day:
            reason = (f"too far for a day trip: {trip / 60:.1f} h with the drive there and back, "
                      f"the day has {data.minutes_per_day / 60:.1f} h")
        else:
            reason = "no day with room left (coverage shortfall)"
        unplaced.append((need.account_id, need.name, reason))
    return Rotation(rep_id=data.rep["id"], rep_name=data.rep["name"], start=data.start, weeks=data.weeks,
                    days=tuple(days), coverage=data.coverage(), unplaced=tuple(unplaced), not_due=data.not_due,
                    seconds=time.perf_counter() - started,
                    params={"seconds": seconds, "seed": seed, "minutes_per_day": data.minutes_per_day,
                            "solver_cost_minutes": round(solution.cost, 1), "iterations": solution.iterations})


def _days_from_solution(data: RotationInput, problem: PeriodicProblem, solution: PeriodicSolution) -> list[RotationDay]:
    out = []
    for d, cday in enumerate(data.days):
        order = [c for r in solution.routes[d] for c in r]
        out.append(_timed_day(data, cday, order))
    return out


def _timed_day(data: RotationInput, cday: CycleDay, nodes: Sequence[int], warnings: tuple[str, ...] = ()) -> RotationDay:
    """A day from node order: drive legs from the matrix, arrival clock times from the rep's start time."""
    t = _minutes(data.rep.get("work_start"), "08:00")
    stops, prev = [], 0
    for c in nodes:
        leg = float(data.travel[prev, c])
        t += leg
        need = data.needs[c - 1]
        stops.append(RotationStop(need.account_id, need.name, leg, need.minutes, f"{int(t) // 60:02d}:{int(t) % 60:02d}"))
        t += need.minutes
        prev = c
    drive = route_cost(data.travel, list(nodes))
    return RotationDay(cday.day, tuple(stops), drive, cday.off, warnings)


def _route_with_engine(data: RotationInput, days: list[RotationDay], seconds: float, seed: int,
                       progress: Progress | None) -> list[RotationDay]:
    """Re-route each day with the app's routing engine (opening hours, lunch, drive limit) for real arrival times.

    The engine's order replaces ours only when it serves every stop; otherwise our order stays and the
    day carries the engine's warning, so a rotation never loses a visit here.
    """
    from core.planning.week import PlanOptions, build_problem
    from core.routing import MaxRuntime, solve
    from core.routing.result import clock

    node_of = {n.account_id: i + 1 for i, n in enumerate(data.needs)}
    need_of = {n.account_id: n for n in data.needs}
    busy = [d for d in days if d.stops]
    per_day = max(0.1, seconds / max(1, len(busy)))
    out = []
    for k, day in enumerate(days):
        if not day.stops:
            out.append(day)
            continue
        check_cancelled(progress)
        if progress is not None:
            progress.update(900 + int(100 * k / len(days)), 1000, f"routing {day.day:%a %d %b}")
        accounts = [{"id": s.account_id, "name": s.name, "lat": need_of[s.account_id].lat,
                     "lon": need_of[s.account_id].lon, "visit_minutes": s.visit_minutes,
                     "tier": need_of[s.account_id].tier, "opening_hours": need_of[s.account_id].opening_hours}
                    for s in day.stops]
        problem = build_problem(None, data.rep, [day.day], accounts, PlanOptions(max_drive_minutes=None))
        result = solve(problem, stop=MaxRuntime(per_day), seed=seed)
        route = result.route_for(day.day.isoformat())
        if route is None or result.unserved:
            reasons = "; ".join(f"{need_of[u.stop_id].name}: {u.reason}" for u in result.unserved[:3])
            out.append(RotationDay(day.day, day.stops, day.drive_minutes, day.off,
                                   (f"the day's hours do not fit every stop ({reasons})",)))
            continue
        stops = tuple(RotationStop(v.stop_id, need_of[v.stop_id].name, float(v.drive_minutes),
                                   need_of[v.stop_id].minutes, clock(v.start)) for v in route.visits)
        nodes = [node_of[s.account_id] for s in stops]
        out.append(RotationDay(day.day, stops, route_cost(data.travel, nodes), day.off, route.warnings))
    return out


def plan_rotation(store: Store, rep_id: int, start: date, weeks: int, *, seconds: float = 20.0, seed: int = 0,
                  progress: Progress | None = None, route_days: bool = True) -> Rotation:
    """prepare() then solve_rotation(): the one call the CLI and the Plan view make (on a worker)."""
    data = prepare(store, rep_id, start, weeks)
    return solve_rotation(data, seconds=seconds, seed=seed, progress=progress, route_days=route_days)


# --- missed visits ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedVisit:
    """A visit as roll-forward sees it: which account, on which day, how long, how important (lower = sooner)."""

    account_id: int
    day: date
    minutes: float
    priority: int = 2
    visit_id: int | None = None


def roll_forward(missed: Sequence[PlannedVisit], booked_minutes: Mapping[date, float], candidates: Sequence[date],
                 minutes_per_day: float, allowed: Callable[[int, date], bool] | None = None
                 ) -> list[tuple[PlannedVisit, date | None]]:
    """Move each missed visit to the first candidate day after it that still has room (and is allowed).

    Most important and oldest first; returns (visit, new day or None when no day has room).
    """
    load = {d: float(booked_minutes.get(d, 0.0)) for d in candidates}
    out = []
    for v in sorted(missed, key=lambda v: (v.priority, v.day, v.account_id)):
        target = None
        for d in sorted(candidates):
            if d <= v.day or (allowed is not None and not allowed(v.account_id, d)):
                continue
            if load[d] + v.minutes <= minutes_per_day + 1e-9:
                target = d
                load[d] += v.minutes
                break
        out.append((v, target))
    return out


def roll_forward_missed(store: Store, rep_id: int, today: date, horizon_days: int = 14,
                        lookback_days: int = 28) -> tuple[list[tuple[int, date | None]], Changes]:
    """Re-book the rep's recently missed visits (not yet re-booked) into the next working days with room.

    Writes one new planned visit per moved visit (the missed one stays as history) in one transaction.
    Returns ([(account id, new day or None)], Changes).
    """
    from core.reps import get_rep

    rep = get_rep(store, rep_id)
    since = (today - timedelta(days=lookback_days)).isoformat()
    rows = store.conn.execute(
        "SELECT v.id, v.account_id, v.planned_start, v.planned_minutes, a.tier, a.allowed_weekdays, a.opening_hours "
        "FROM visits v JOIN accounts a ON a.id = v.account_id WHERE v.deleted_at IS NULL AND v.rep_id = ? "
        "AND v.status = 'missed' AND v.planned_start >= ? AND v.planned_start < ? ORDER BY v.planned_start",
        (rep_id, since, (today + timedelta(days=1)).isoformat())).fetchall()
    start = today + timedelta(days=1)
    days = [d for d in (start + timedelta(days=k) for k in range(horizon_days)) if d.weekday() < 5]
    off = set(calendar.holidays_between(start, start + timedelta(days=horizon_days)))
    off |= {date.fromisoformat(r[0][:10]) for r in store.conn.execute(
        "SELECT day FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL)", (rep_id,))}
    days = [d for d in days if d not in off]
    booked: dict[date, float] = {}
    already: set[int] = set()
    for r in store.conn.execute(
            "SELECT account_id, planned_start, planned_minutes FROM visits WHERE deleted_at IS NULL AND rep_id = ? "
            "AND status = 'planned' AND planned_start >= ?", (rep_id, start.isoformat())):
        d = date.fromisoformat(r["planned_start"][:10])
        booked[d] = booked.get(d, 0.0) + float(r["planned_minutes"] or 0)
        already.add(r["account_id"])
    weekdays = {r["account_id"]: calendar.account_weekdays(r["allowed_weekdays"], r["opening_hours"]) for r in rows}
    missed = [PlannedVisit(r["account_id"], date.fromisoformat(r["planned_start"][:10]),
                           float(r["planned_minutes"] or 45), {"A": 1, "B": 2}.get(r["tier"], 3), r["id"])
              for r in rows if r["account_id"] not in already]
    # Only the latest miss of an account is re-booked.
    latest: dict[int, PlannedVisit] = {}
    for v in missed:
        latest[v.account_id] = v
    moves = roll_forward(list(latest.values()), booked, days, day_minutes(rep) * 0.85,
                         lambda acc, d: calendar.WEEKDAYS[d.weekday()] in weekdays.get(acc, calendar.WORK_WEEKDAYS))
    start_minute = _minutes(rep.get("work_start"), "08:00")
    new_rows = []
    for v, d in moves:
        if d is None:
            continue
        local = f"{d.isoformat()}T{start_minute // 60:02d}:{start_minute % 60:02d}:00"
        new_rows.append({"account_id": v.account_id, "rep_id": rep_id, "planned_start": _utc(local, rep),
                         "planned_minutes": int(v.minutes), "time_zone": rep.get("time_zone") or "America/Chicago",
                         "status": "planned", "notes": f"rolled forward from {v.day.isoformat()}"})
    ids: list[int] = []
    with store.atomic():
        ids = writes.insert_many(store, "visits", new_rows)
    changes = Changes.of("visits", ids, f"{len(ids)} missed visits rolled forward") if ids else Changes()
    return [(v.account_id, d) for v, d in moves], changes


def _utc(local_iso: str, rep: Mapping[str, Any]) -> str:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(rep.get("time_zone") or "America/Chicago")
    moment = datetime.fromisoformat(local_iso).replace(tzinfo=tz).astimezone(timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# --- saving --------------------------------------------------------------------------------------------------

def save_rotation(store: Store, rotation: Rotation) -> tuple[int, Changes]:
    """Write the plan and one slot per visit (day, order) in one logged transaction; returns (plan id, Changes)."""
    params = {**dict(rotation.params), "coverage": rotation.coverage.as_dict(),
              "total_drive_minutes": round(rotation.total_drive_minutes, 1),
              "unplaced": [a for a, _, _ in rotation.unplaced]}
    with store.atomic():
        plan_id = writes.insert(store, "rotation_plans", {
            "rep_id": rotation.rep_id, "start_date": rotation.start.isoformat(), "weeks": rotation.weeks,
            "params": json.dumps(params, separators=(",", ":")), "status": "draft"})
        slots = [{"plan_id": plan_id, "account_id": s.account_id, "day": d.day.isoformat(), "seq": i + 1}
                 for d in rotation.days for i, s in enumerate(d.stops)]
        slot_ids = writes.insert_many(store, "rotation_slots", slots)
    changes = Changes.of("rotation_plans", [plan_id], "rotation saved").merge(Changes.of("rotation_slots", slot_ids))
    return plan_id, changes
