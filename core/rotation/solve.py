"""Solving a rotation: assign visit days with the periodic solver, then time and route each day (never writes)."""

from __future__ import annotations

import time
from datetime import date
from typing import Sequence

from core import defaults
from core.progress import Progress, check_cancelled
from core.rotation.model import CycleDay, Rotation, RotationDay, RotationStop, minutes_of
from core.rotation.periodic import PeriodicProblem, PeriodicSolution, route_cost, solve_periodic
from core.rotation.problem import RotationInput, prepare
from core.storage.database import Store

def solve_rotation(data: RotationInput, *, seconds: float = 20.0, seed: int = 0, progress: Progress | None = None,
                   route_days: bool = True) -> Rotation:
    """Assign visit days and route each day; never writes. Always returns a plan; misfits are in `unplaced`."""
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
    placed = {c for day in solution.routes for r in day for c in r}
    for node in sorted(placed):
        need = data.needs[node - 1]
        got = sum(1 for day in solution.routes for r in day if node in r)
        if got < need.visits:
            unplaced.append((need.account_id, need.name,
                             f"{got} of its {need.visits} visits placed: the cycle has too few days it may be "
                             f"visited on (allowed weekdays, opening hours, holidays, time off)"))
    return Rotation(rep_id=data.rep["id"], rep_name=data.rep["name"], start=data.start, weeks=data.weeks,
                    days=tuple(days), coverage=data.coverage(), unplaced=tuple(unplaced), not_due=data.not_due,
                    seconds=time.perf_counter() - started, workdays=data.workdays,
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
    t = minutes_of(data.rep.get("work_start"), defaults.WORK_START)
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


def solve_rotation_in_child(data: RotationInput, *, seconds: float = 20.0, seed: int = 0,
                            progress: Progress | None = None, route_days: bool = True) -> Rotation:
    """solve_rotation() in a child process (core/routing/child.py): what the Rotation tab and the CLI call.

    CP-SAT and PyVRP run native code that has crashed the app (docs/notes/session-4-lead.md); in a child a
    crash is SolverCrashed here and Cancel kills the child at once. The solve never writes, so nothing can
    be half-saved; the caller saves the plan it gets back.
    """
    from core.routing import child

    return child.run_in_child(solve_rotation, data, seconds=seconds, seed=seed, route_days=route_days,
                              progress=progress, what="the rotation solver", name="fieldatlas-rotation")


def plan_rotation(store: Store, rep_id: int, start: date, weeks: int, *, seconds: float = 20.0, seed: int = 0,
                  progress: Progress | None = None, route_days: bool = True,
                  workdays: Sequence[str] | None = None) -> Rotation:
    """prepare() then solve_rotation(): the one call the CLI and the Plan view make (on a worker)."""
    data = prepare(store, rep_id, start, weeks, workdays=workdays)
    return solve_rotation(data, seconds=seconds, seed=seed, progress=progress, route_days=route_days)


