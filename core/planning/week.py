"""Plan a rep's days: pick the accounts that are due, turn the rep's real constraints into a RoutingProblem, solve.

Days are consecutive calendar dates from `start`; weekends and the rep's time off are skipped.
The time axis is minutes from local midnight (rep's time zone) of the first date.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from core import defaults
from core.clock import local_days_in_utc, utc_text
from core import opening_hours
from core import visit_frequency as frequency
from core.account_value import Account, from_row, read_accounts
from core.planning import fill, travel_times
from core.progress import Progress, check_cancelled
from core.routing.problem import EXTRA
from core.routing.schedule import open_during
from core.routing import (FirstOf, Matrix, MatrixProvider, MaxIterations, MaxRuntime, RoutingProblem, RoutingResult,
                          Shift, Stop, Unserved, default_stop, evaluate, provider_for, solve)
from core.storage.database import Store
from core.words import counted

PRIORITY_BY_TIER = {"A": 1, "B": 2, "C": 3}
WEEKDAY_KEYS = opening_hours.WEEKDAYS


@dataclass(frozen=True)
class PlanOptions:
    """The rep's day rules that are not in the database (defaults suit a US field rep)."""

    lunch_window: tuple[str, str] = defaults.LUNCH_WINDOW
    lunch_minutes: int = defaults.LUNCH_MINUTES
    max_drive_minutes: int | None = 300
    weekends: bool = False
    # Hotel nights: date of the night -> (lat, lon); that day ends and the next day starts there.
    hotels: Mapping[date, tuple[float, float]] = field(default_factory=dict)
    # Fixed appointments: account id -> local datetime (naive = rep's time zone).
    appointments: Mapping[int, datetime] = field(default_factory=dict)
    max_candidates_per_day: int = 14
    routing_url: str = ""
    kmh: float = defaults.SPEED_KMH
    # Fill the days: when too little is due, accounts coming due next are pulled forward (not ones
    # visited in the last `min_days_since_visit` days), until the candidates could fill the hours.
    fill_days: bool = True
    min_days_since_visit: int = 14
    # Minutes of driving worth one minute less between the longest and the shortest day.
    balance: float = 1.0
    # After the search: move visits to the day that passes them and fill the time left with accounts that
    # fit (core.planning.fill). Off only to measure what the search alone gives (benchmarks/plan_fill.py).
    fill_slack: bool = True


@dataclass(frozen=True)
class WeekPlan:
    """A rep's plan over some days: the problem, its matrix (kept so hand edits check instantly) and the result."""

    rep: Mapping[str, Any]
    start: date
    days: tuple[date, ...]
    problem: RoutingProblem
    matrix: Matrix
    result: RoutingResult
    accounts: Mapping[int, Mapping[str, Any]]
    locked: frozenset[int] = frozenset()
    # Why a day stays short of the working hours (shift id -> plain words); dates skipped (date -> why).
    notes: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[date, str] = field(default_factory=dict)
    # Due (or chosen) accounts left out because no planned day is one they may be visited on: id -> why
    # ("closed Mon–Fri", "visits only on Saturdays"). They were never candidates, so not in `result.unserved`.
    not_open: Mapping[int, str] = field(default_factory=dict)

    def fill(self, shift_id: str) -> float:
        """Share of the working hours the day's route takes (leave to back, lunch included)."""
        sh = self.problem.shift(shift_id)
        route = self.result.route_for(shift_id)
        span = sh.end_min - sh.start_min
        return (route.back - route.leave) / span if route is not None and route.visits and span > 0 else 0.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.rep["time_zone"] or defaults.TIME_ZONE)

    def day_of(self, shift_id: str) -> date:
        return date.fromisoformat(shift_id)

    def at(self, minute: float) -> datetime:
        """A minute on the plan's axis as an aware local datetime."""
        base = datetime.combine(self.start, time(0), self.tz)
        local = (base.replace(tzinfo=None) + timedelta(minutes=round(minute))).replace(tzinfo=self.tz)
        return local

    def utc_iso(self, minute: float) -> str:
        return utc_text(self.at(minute))

    def orders(self) -> dict[str, list[int]]:
        return {r.shift_id: r.stop_ids for r in self.result.routes}

    def name(self, account_id: int) -> str:
        return str(self.accounts.get(account_id, {}).get("name", account_id))


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def working_days(store: Store, rep_id: int, start: date, days: int, weekends: bool = False) -> list[date]:
    """The dates in [start, start + days) the rep works: weekdays (unless weekends) without time off."""
    off = {r[0] for r in store.conn.execute(
        "SELECT day FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL)", (rep_id,))}
    out = []
    for k in range(days):
        d = start + timedelta(days=k)
        if (weekends or d.weekday() < 5) and d.isoformat() not in off:
            out.append(d)
    return out


def due_accounts(store: Store, rep_id: int, start: date, days: int, limit: int | None = None) -> list[dict]:
    """Active, located accounts of the rep whose next visit falls before the end of the period, most urgent first.

    Due date = last visit + 365 / visits per year; never-visited accounts are due now. Accounts that
    already have a planned visit in the period are left out. Urgency: tier, then days overdue.
    """
    end = start + timedelta(days=days)
    planned = planned_accounts(store, rep_id, start, days)
    rows = [a.as_row() for a in read_accounts(store, owner_id=rep_id, active=True, located=True, visited=True)]
    out = []
    for r in rows:
        if r["id"] in planned:
            continue
        interval = frequency.interval_days(r["visit_frequency"])
        if not interval:
            continue
        if r["last_visit_at"]:
            last = date.fromisoformat(r["last_visit_at"][:10])
            due = last + timedelta(days=interval)
        else:
            due = start
        if due < end:
            row = dict(r)
            row["due"] = due.isoformat()
            row["overdue_days"] = (start - due).days
            out.append(row)
    out.sort(key=lambda a: (PRIORITY_BY_TIER.get(a["tier"], 3), -a["overdue_days"], a["id"]))
    return out[:limit] if limit else out


def _planned_visits(store: Store, rep: Mapping[str, Any], start: date, days: int) -> list[Any]:
    """The rep's planned visits on the local days [start, start + days), checked in to or not, by start."""
    lo, hi = local_days_in_utc(start, days, rep["time_zone"] or defaults.TIME_ZONE)
    return store.conn.execute(
        "SELECT id, account_id, route_id, rotation_plan_id, planned_start, check_in_at FROM visits "
        "WHERE deleted_at IS NULL AND rep_id = ? AND status = 'planned' AND planned_start >= ? AND planned_start < ? "
        "ORDER BY planned_start", (rep["id"], lo, hi)).fetchall()


def planned_accounts(store: Store, rep_id: int, start: date, days: int) -> set[int]:
    """Accounts with a planned visit on the rep's local days [start, start + days).

    One definition for both sides: due_accounts and coming_due leave these out, and plan_week brings back
    the ones booked_visits names (a rotation's visit on its day, an earlier accepted plan's accounts); a
    visit already checked in to is under way and stays out. (They used to leave out a UTC range a day
    longer than the local one, so an account booked on the Saturday after a Mon–Fri week was neither due
    nor booked in it.)
    """
    from core.reps import get_rep

    return {r["account_id"] for r in _planned_visits(store, get_rep(store, rep_id), start, days)}


def booked_visits(store: Store, rep: Mapping[str, Any], start: date, days: int) -> list[dict]:
    """The rep's planned visits on [start, start + days) that nobody has checked in to, each with its local `day`.

    A visit booked by a rotation (or made by hand, on no route) keeps its day when the week is planned;
    one from an earlier accepted week plan is a candidate again (accepting the new plan replaces it).
    """
    tz = ZoneInfo(rep["time_zone"] or defaults.TIME_ZONE)
    out = []
    for r in _planned_visits(store, rep, start, days):
        if r["check_in_at"] is not None:
            continue
        when = datetime.fromisoformat(r["planned_start"].replace("Z", "+00:00")).astimezone(tz)
        row = {k: r[k] for k in ("id", "account_id", "route_id", "rotation_plan_id", "planned_start")}
        out.append({**row, "day": when.date(), "keeps_day": r["rotation_plan_id"] is not None or r["route_id"] is None})
    return out


def rep_accounts(store: Store, rep_id: int) -> list[dict]:
    """The rep's active, located accounts by name (id, name, city): what an appointment can be made with."""
    found = read_accounts(store, owner_id=rep_id, active=True, located=True)
    return [{"id": a.id, "name": a.name, "city": a.city} for a in sorted(found, key=lambda a: (a.name.casefold(), a.id))]


def coming_due(store: Store, rep_id: int, start: date, days: int, exclude: Iterable[int] = (),
               min_days_since_visit: int = 14) -> list[dict]:
    """The rep's accounts NOT due in the period, soonest due first: the ones to pull forward when the days
    have room. Accounts visited in the last `min_days_since_visit` days before `start` are left alone."""
    end = start + timedelta(days=days)
    skip = set(exclude) | planned_accounts(store, rep_id, start, days)
    rows = [a.as_row() for a in read_accounts(store, owner_id=rep_id, active=True, located=True, visited=True)
            if a.last_visit_at is not None]
    out = []
    for r in rows:
        interval = frequency.interval_days(r["visit_frequency"])
        if r["id"] in skip or not interval:
            continue
        last = date.fromisoformat(r["last_visit_at"][:10])
        due = last + timedelta(days=interval)
        if due < end or (start - last).days < min_days_since_visit:
            continue
        row = dict(r)
        row.update(due=due.isoformat(), overdue_days=(start - due).days, pulled_forward=True)
        out.append(row)
    out.sort(key=lambda a: (a["due"], PRIORITY_BY_TIER.get(a["tier"], 3), a["id"]))
    return out


def _located(store: Store, ids: Iterable[int]) -> list[dict]:
    """These accounts (deleted ones too: a saved route may name one) that have a location, as rows."""
    return [a.as_row() for a in read_accounts(store, ids=ids, located=True, include_deleted=True)]


def _account(a: Mapping[str, Any] | Account) -> Account:
    return a if isinstance(a, Account) else from_row(a)


def visit_windows(a: Mapping[str, Any] | Account, days: list[date], first: date,
                  service: float) -> tuple[tuple[float, float], ...] | None:
    """Start windows on the plan's axis (close minus visit minutes) on the days the account may be visited.

    () means any time on any day (no hours known, no weekday rule); None means none of these days will
    do (closed, not an allowed weekday, or open too briefly for the visit): the account is then not a
    candidate at all, rather than a stop with an impossible window.
    """
    acc = _account(a)
    if acc.hours is None and acc.allowed_weekdays is None:
        return ()
    allowed = acc.visit_weekdays(WEEKDAY_KEYS)
    out = []
    for d in days:
        if WEEKDAY_KEYS[d.weekday()] not in allowed:
            continue
        offset = (d - first).days * 1440
        for lo, hi in acc.windows_on(d) or ((0, 1440),):
            if hi - service >= lo:
                out.append((offset + lo, offset + hi - service))
    return tuple(out) or None


def why_not_open(a: Mapping[str, Any] | Account, days: list[date], service: float | None = None) -> str:
    """Why an account has no day among `days` (plain words for the plan's notes)."""
    acc = _account(a)
    planned = sorted({WEEKDAY_KEYS[d.weekday()] for d in days}, key=WEEKDAY_KEYS.index)
    if acc.allowed_weekdays is not None and not set(planned) & set(acc.allowed_weekdays):
        return f"visits only on {opening_hours.describe_weekdays_plural(acc.allowed_weekdays)}"
    may = [d for d in planned if acc.allowed_weekdays is None or d in acc.allowed_weekdays]
    if acc.hours is not None and not any(acc.open_on(d) for d in may):
        return f"closed {opening_hours.describe_weekdays(may)}"
    minutes = acc.visit_minutes if service is None else service
    return f"open too briefly on {opening_hours.describe_weekdays(may)} for a {minutes:.0f}-minute visit"


def split_open(accounts: Iterable[Mapping[str, Any]], days: list[date],
               keep: Iterable[int] = ()) -> tuple[list[Mapping[str, Any]], dict[int, str]]:
    """(accounts with a day among `days` they may be visited on, {id: why not} for the rest); `keep` always stay."""
    keep = set(keep)
    first = days[0]
    fit, out = [], {}
    for a in accounts:
        service = float(a["visit_minutes"] or 0)
        if a["id"] in keep or visit_windows(a, days, first, service) is not None:
            fit.append(a)
        else:
            out[a["id"]] = why_not_open(a, days, service)
    return fit, out


def build_problem(store: Store, rep: Mapping[str, Any], days: list[date], accounts: Iterable[Mapping[str, Any]],
                  options: PlanOptions = PlanOptions(), locked: Mapping[int, str] | None = None,
                  matrix: MatrixProvider | None = None) -> RoutingProblem:
    """The rep's days and the accounts as a RoutingProblem (locked: account id -> shift id it must stay on)."""
    first = days[0]
    home = (rep["home_lat"], rep["home_lon"])
    if home[0] is None or home[1] is None:
        raise ValueError(f"rep {rep['name']}: home location is missing (set home_lat/home_lon)")
    w0, w1 = _minutes(rep["work_start"] or defaults.WORK_START), _minutes(rep["work_end"] or defaults.WORK_END)
    l0, l1 = _minutes(options.lunch_window[0]), _minutes(options.lunch_window[1])
    shifts = []
    for d in days:
        offset = (d - first).days * 1440
        night_before = options.hotels.get(d - timedelta(days=1))
        night = options.hotels.get(d)
        shifts.append(Shift(id=d.isoformat(), day=d.strftime("%a %d %b"), start=tuple(night_before or home),
                            end=tuple(night or home), start_min=offset + w0, end_min=offset + w1,
                            break_window=(offset + l0, offset + l1) if options.lunch_minutes else None,
                            break_minutes=options.lunch_minutes, max_drive_minutes=options.max_drive_minutes))
    locked = dict(locked or {})
    stops = []
    tz = ZoneInfo(rep["time_zone"] or defaults.TIME_ZONE)
    for a in accounts:
        service = float(a["visit_minutes"] or 0)
        appt = options.appointments.get(a["id"])
        appointment = None
        if appt is not None:
            local = appt if appt.tzinfo is None else appt.astimezone(tz).replace(tzinfo=None)
            appointment = (local.date() - first).days * 1440 + local.hour * 60 + local.minute
        priority = 0 if appointment is not None or a.get("booked_day") else (
            EXTRA if a.get("pulled_forward") else PRIORITY_BY_TIER.get(a.get("tier"), 3))
        stops.append(Stop(id=a["id"], lat=a["lat"], lon=a["lon"], service_minutes=service,
                          windows=visit_windows(a, days, first, service) or (), priority=priority,
                          appointment=appointment, name=a["name"], shift_id=locked.get(a["id"])))
    return RoutingProblem(tuple(stops), tuple(shifts), matrix=matrix or provider_for(options.routing_url, options.kmh),
                          balance=options.balance)


def plan_week(store: Store, rep_id: int, start: date, days: int, *, seconds: float | None = None, seed: int = 0,
              options: PlanOptions = PlanOptions(), account_ids: Iterable[int] | None = None,
              progress: Progress | None = None) -> WeekPlan:
    """Choose the due accounts, build the problem and solve it; never writes. Accept the result with accept()."""
    from core.reps import get_rep

    rep = get_rep(store, rep_id)
    dates = working_days(store, rep_id, start, days, options.weekends)
    if not dates:
        raise ValueError(f"no working days between {start} and {start + timedelta(days=days - 1)}")
    if progress is not None:
        progress.update(0, 100, "Choosing due accounts")
    pinned: dict[int, str] = {}
    if account_ids is not None:
        wanted = list(account_ids)
        accounts = _located(store, wanted)
    else:
        accounts = due_accounts(store, rep_id, start, days)
        booked, again = _booked(store, rep, dates, start, days, options)
        pinned = {a["id"]: a["booked_day"] for a in booked}
    # Closed or not allowed on every planned day: not a candidate, and the notes say why.
    left_out = {a["id"]: a for a in accounts}
    accounts, not_open = split_open(accounts, dates, keep=options.appointments)
    if account_ids is None:
        # What is already on the calendar comes first: a rotation's visits on their days, and the
        # accounts of an accepted plan for these days (else accepting this one would drop them).
        again, again_closed = split_open(again, dates, keep=options.appointments)
        not_open.update(again_closed)
        left_out.update({a["id"]: a for a in again})
        room = max(0, options.max_candidates_per_day * len(dates) - len(booked) - len(again))
        overflow = accounts[room:]  # due, but more than the search takes: tried later on days with time left
        accounts = booked + again + accounts[:room]
    else:
        overflow = []
    pool_left = True
    if account_ids is None and options.fill_days:
        extra, pool_left = _fill(store, rep, dates, accounts, options, start, days)
        accounts += extra
    accounts = [a for a in accounts if a["id"] not in options.appointments] + \
        _appointment_accounts(store, options, {a["id"] for a in accounts})
    check_cancelled(progress)
    problem = build_problem(store, rep, dates, accounts, options, locked=pinned)
    if progress is not None:
        progress.update(0, 100, "Computing travel times")
    mx = travel_times.matrix_for(store, problem.points(), options.routing_url, options.kmh)
    check_cancelled(progress)
    if seconds is None and len(dates) > 1:
        # A week is worth a longer look than one day (same as the Plan view's default of 10 s).
        seconds = min(30.0, 2.0 * len(dates))
    stop = _week_stop(seconds, len(problem.stops))
    result = solve(problem, stop=stop, seed=seed, progress=progress, matrix=mx)
    # The search is cut off by its time limit: fill each day's slack with what still fits, move visits to the
    # day whose route passes them, and give every account left out the reason found by trying it.
    reserve: set[int] = set()
    if options.fill_slack:
        guard = _fill_guard(seconds)
        result = fill.improve(problem, mx, result, seconds=guard)
        if account_ids is None:
            problem, mx, result, accounts, reserve = _fill_from_reserve(
                store, rep, dates, problem, mx, result, accounts, overflow, options, start, days)
    problem, mx, result, accounts = _without_unused_extras(problem, mx, result, accounts, reserve)
    plan = WeekPlan(rep=rep, start=dates[0], days=tuple(dates), problem=problem, matrix=mx, result=result,
                    accounts={**{i: left_out[i] for i in not_open}, **{a["id"]: a for a in accounts}},
                    skipped=_skipped(store, rep_id, start, days, options.weekends, set(dates)), not_open=not_open)
    return replace(plan, notes=short_day_notes(plan, pool_left=pool_left and options.fill_days and account_ids is None,
                                               chosen=account_ids is not None,
                                               min_days_since_visit=options.min_days_since_visit))


# The engine's search stops after this many iterations a second of its limit, or at the limit, whichever
# comes first: counted iterations make a seed give one plan (a time limit alone gives whatever the
# machine's load allowed). ~150 a second ran on a 5-day demo week at load 5 on 2 cores, so the count is
# normally what stops it, and a quiet machine is done before the limit.
ITERATIONS_PER_SECOND = 100


def _week_stop(seconds: float | None, stops: int) -> Any:
    if seconds is None:
        return default_stop(stops)
    return FirstOf(MaxRuntime(seconds), MaxIterations(max(1, int(ITERATIONS_PER_SECOND * seconds))))


# A rough drive per visit for sizing the candidate list (the solver decides the real order and times).
TRAVEL_GUESS_MINUTES = 15
# Candidates worth up to this many times the working hours: the engine needs some to choose from.
FILL_FACTOR = 1.5
FULL_DAY = 0.85


def _fill(store: Store, rep: Mapping[str, Any], dates: list[date], due: list[dict], options: PlanOptions,
          start: date, days: int) -> tuple[list[dict], bool]:
    """Accounts to pull forward so the candidates could fill the working hours; (accounts, whether more are left)."""
    w0, w1 = _minutes(rep["work_start"] or defaults.WORK_START), _minutes(rep["work_end"] or defaults.WORK_END)
    capacity = len(dates) * max(0, w1 - w0 - options.lunch_minutes)
    load = sum(float(a["visit_minutes"] or 0) + TRAVEL_GUESS_MINUTES for a in due)
    room = options.max_candidates_per_day * len(dates) - len(due)
    pool = coming_due(store, rep["id"], start, days, exclude=[a["id"] for a in due] + list(options.appointments),
                      min_days_since_visit=options.min_days_since_visit)
    pool, _ = split_open(pool, dates)  # not due: one closed on these days is simply not pulled forward
    out = []
    for a in pool:
        if load >= FILL_FACTOR * capacity or len(out) >= room:
            break
        out.append(a)
        load += float(a["visit_minutes"] or 0) + TRAVEL_GUESS_MINUTES
    return out, len(out) < len(pool)


def _fill_guard(seconds: float | None) -> float:
    """Wall seconds the fill passes may take at most (normally they need 0.1-0.3 s of CPU on a demo week)."""
    return max(0.75, 0.25 * (seconds or 2.0))


# A day with at least this many minutes free is offered more accounts after the search (_fill_from_reserve),
# the nearest RESERVE_PER_DAY to its route.
RESERVE_MINUTES = 30
RESERVE_PER_DAY = 8


def _fill_from_reserve(store: Store, rep: Mapping[str, Any], dates: list[date], problem: RoutingProblem, mx: Matrix,
                       result: RoutingResult, accounts: list[dict], overflow: list[dict], options: PlanOptions,
                       start: date, days: int) -> tuple[RoutingProblem, Matrix, RoutingResult, list[dict], set[int]]:
    """Days still with time free after filling get the accounts the search never saw: due ones beyond its
    candidate list, then ones coming due later (not visited in the last days); the nearest to each such day's
    route are added and tried. Those that do not fit are dropped again (the search never chose them)."""
    span = {sh.id: sh.end_min - sh.start_min for sh in problem.shifts}
    short = [r for r in result.routes if span[r.shift_id] - (r.back - r.leave if r.visits else 0) >= RESERVE_MINUTES
             and len(r.visits) > 0]
    if not short:
        return problem, mx, result, accounts, set()
    have = {s.id for s in problem.stops} | set(options.appointments)
    pool = [a for a in overflow if a["id"] not in have]
    if options.fill_days:
        later = coming_due(store, rep["id"], start, days, exclude=have | {a["id"] for a in pool},
                           min_days_since_visit=options.min_days_since_visit)
        pool += split_open(later, dates)[0]
    if not pool:
        return problem, mx, result, accounts, set()
    chosen: dict[int, dict] = {}
    for route in short:
        points = [(problem.stop(v.stop_id).lat, problem.stop(v.stop_id).lon) for v in route.visits]

        def near(a: Mapping[str, Any], points=points) -> tuple[float, int]:
            return min((a["lat"] - y) ** 2 + (a["lon"] - x) ** 2 for y, x in points), a["id"]

        for a in sorted((a for a in pool if a["id"] not in chosen), key=near)[:RESERVE_PER_DAY]:
            chosen[a["id"]] = a
    extra = list(chosen.values())
    added = build_problem(store, rep, dates, extra, options).stops
    bigger = replace(problem, stops=problem.stops + added)
    big_mx = travel_times.matrix_for(store, bigger.points(), options.routing_url, options.kmh)
    tried = replace(result, unserved=result.unserved + tuple(Unserved(s.id, "") for s in added))
    tried = fill.improve(bigger, big_mx, tried, pool=[u.stop_id for u in tried.unserved],
                         seconds=_fill_guard(None))
    return bigger, big_mx, tried, accounts + extra, set(chosen)


def _without_unused_extras(problem: RoutingProblem, mx: Matrix, result: RoutingResult, accounts: list[dict],
                           reserve: Iterable[int] = ()) -> tuple[RoutingProblem, Matrix, RoutingResult, list[dict]]:
    """Pulled-forward accounts the plan did not use are dropped (they were never due, so not 'not planned'),
    and so are accounts tried only after the search (`reserve`) that did not fit."""
    served = set(result.served)
    reserve = set(reserve)
    gone = {s.id for s in problem.stops if (s.priority == EXTRA or s.id in reserve) and s.id not in served}
    if not gone:
        return problem, mx, result, accounts
    base = 2 * len(problem.shifts)
    keep = list(range(base)) + [base + i for i, s in enumerate(problem.stops) if s.id not in gone]
    sub = Matrix(tuple(tuple(mx.distance[i][j] for j in keep) for i in keep),
                 tuple(tuple(mx.duration[i][j] for j in keep) for i in keep))
    problem = replace(problem, stops=tuple(s for s in problem.stops if s.id not in gone))
    result = replace(result, unserved=tuple(u for u in result.unserved if u.stop_id not in gone))
    return problem, sub, result, [a for a in accounts if a["id"] not in gone]


def _booked(store: Store, rep: Mapping[str, Any], dates: list[date], start: date, days: int,
            options: PlanOptions) -> tuple[list[dict], list[dict]]:
    """(accounts whose visit keeps its day, flagged `booked_day`; accounts of an earlier accepted plan)."""
    working = {d.isoformat() for d in dates}
    keep: dict[int, str] = {}
    again: list[int] = []
    for v in booked_visits(store, rep, start, days):
        if v["account_id"] in options.appointments or v["account_id"] in keep:
            continue
        if v["keeps_day"]:
            if v["day"].isoformat() in working:  # a day off since: the rotation's Re-plan moves it, not this
                keep[v["account_id"]] = v["day"].isoformat()
        elif v["account_id"] not in again:
            again.append(v["account_id"])
    rows = {a["id"]: a for a in _located(store, list(keep) + again)}
    booked = [{**rows[i], "booked_day": day} for i, day in keep.items() if i in rows]
    return booked, [rows[i] for i in again if i in rows and i not in keep]


def _skipped(store: Store, rep_id: int, start: date, days: int, weekends: bool, planned: set[date]) -> dict[date, str]:
    off = {r[0]: (r[1] or "") for r in store.conn.execute(
        "SELECT day, reason FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL)", (rep_id,))}
    out = {}
    for k in range(days):
        d = start + timedelta(days=k)
        if d in planned:
            continue
        if d.isoformat() in off:
            why = off[d.isoformat()]
            out[d] = f"time off ({why})" if why else "time off"
        elif not weekends and d.weekday() >= 5:
            out[d] = "weekend"
    return out


def short_day_notes(plan: WeekPlan, pool_left: bool = False, chosen: bool = False,
                    min_days_since_visit: int = 14) -> dict[str, str]:
    """Why each day under 85 % of the working hours stays short, in plain words (shift id -> text).

    Found by trying every account left out on that day (core.planning.fill), so a day with an hour free
    never says "too far" about an account 10 minutes away: that account would have been put there.
    """
    notes = {}
    left_out = [plan.problem.stop(u.stop_id) for u in plan.result.unserved]
    for sh in plan.problem.shifts:
        if plan.fill(sh.id) >= FULL_DAY:
            continue
        route = plan.result.route_for(sh.id)
        parts = []
        tried = fill.day_note(plan.problem, plan.matrix, route, left_out) if route is not None else ""
        if tried:
            parts.append(tried)
        elif chosen:
            parts.append("no more of the chosen accounts fit this day")
        elif pool_left:
            parts.append("more accounts come due later; none of those tried fits this day")
        else:
            parts.append(f"every account due or coming due is planned (the rest were visited in the last "
                         f"{min_days_since_visit} days)")
        weekday = plan.day_of(sh.id).strftime("%A")
        closed = [u for u in plan.result.unserved if not open_during(plan.problem.stop(u.stop_id), sh)]
        if closed:
            parts.append(f"{counted(len(closed), 'account')} still due "
                         f"{'are' if len(closed) != 1 else 'is'} closed on {weekday}s or outside working hours")
        if sh.start != sh.end_point:
            parts.append("the day ends at a hotel")
        notes[sh.id] = "; ".join(parts)
    return notes


def _appointment_accounts(store: Store, options: PlanOptions, have: set[int]) -> list[dict]:
    ids = [i for i in options.appointments]
    if not ids:
        return []
    return _located(store, ids)


def check_order(plan: WeekPlan, orders: Mapping[str, Iterable[int]], locked: Iterable[int] = ()) -> RoutingResult:
    """Time a hand-edited plan at once (no search): late arrivals, closed accounts, limits, in route warnings."""
    full = {sh.id: list(orders.get(sh.id, [])) for sh in plan.problem.shifts}
    return evaluate(plan.problem, full, matrix=plan.matrix, locked=locked)


def with_order(plan: WeekPlan, orders: Mapping[str, Iterable[int]], locked: Iterable[int] = ()) -> WeekPlan:
    """The plan with a hand-edited order (checked) in place of the solver's.

    Accounts the solver could not fit keep their reason; only ones the user took out read "left out by hand".
    """
    lock = frozenset(locked)
    checked = check_order(plan, orders, lock)
    earlier = {u.stop_id: u.reason for u in plan.result.unserved}
    unserved = tuple(Unserved(u.stop_id, earlier.get(u.stop_id, u.reason)) for u in checked.unserved)
    return replace(plan, result=replace(checked, unserved=unserved), locked=lock)


def reoptimise(plan: WeekPlan, orders: Mapping[str, Iterable[int]], locked: Iterable[int], *,
               seconds: float | None = None, seed: int = 0, progress: Progress | None = None) -> WeekPlan:
    """Solve again with the locked stops pinned to the day they are on now; the rest may move anywhere."""
    lock = frozenset(locked)
    day_of = {sid: shift for shift, ids in orders.items() for sid in ids}
    stops = tuple(replace(s, shift_id=day_of.get(s.id) if s.id in lock else None,
                          priority=0 if s.id in lock and s.id in day_of else s.priority)
                  for s in plan.problem.stops)
    problem = replace(plan.problem, stops=stops)
    stop = MaxRuntime(seconds) if seconds is not None else default_stop(len(stops))
    result = solve(problem, stop=stop, seed=seed, progress=progress, matrix=plan.matrix)
    routes = tuple(replace(r, visits=tuple(replace(v, locked=v.stop_id in lock) for v in r.visits))
                   for r in result.routes)
    return replace(plan, problem=problem, result=replace(result, routes=routes), locked=lock)


def load_accepted(store: Store, rep_id: int, start: date, days: int, options: PlanOptions = PlanOptions()) -> WeekPlan | None:
    """The rep's saved (accepted) routes in the period as a WeekPlan, re-timed; None when nothing is saved."""
    from core.reps import get_rep

    rep = get_rep(store, rep_id)
    end = start + timedelta(days=days)
    routes = store.conn.execute(
        "SELECT id, day FROM routes WHERE deleted_at IS NULL AND rep_id = ? AND day >= ? AND day < ? "
        "AND status IN ('accepted', 'done') ORDER BY day", (rep_id, start.isoformat(), end.isoformat())).fetchall()
    if not routes:
        return None
    orders: dict[str, list[int]] = {}
    for r in routes:
        orders[r["day"]] = [row[0] for row in store.conn.execute(
            "SELECT account_id FROM route_stops WHERE deleted_at IS NULL AND route_id = ? ORDER BY seq", (r["id"],))]
    dates = sorted(set(working_days(store, rep_id, start, days, options.weekends))
                   | {date.fromisoformat(d) for d in orders})
    ids = [a for ids in orders.values() for a in ids]
    accounts = _located(store, ids)
    _, not_open = split_open(accounts, dates)
    problem = build_problem(store, rep, dates, accounts, options)
    mx = travel_times.matrix_for(store, problem.points(), options.routing_url, options.kmh)
    plan = WeekPlan(rep=rep, start=dates[0], days=tuple(dates), problem=problem, matrix=mx,
                    result=evaluate(problem, {sh.id: orders.get(sh.id, []) for sh in problem.shifts}, matrix=mx),
                    accounts={a["id"]: a for a in accounts},
                    not_open={aid: f"saved on a day it cannot be visited: {why}" for aid, why in not_open.items()})
    return replace(plan, result=replace(plan.result, extra={"route_ids": [r["id"] for r in routes]}))
