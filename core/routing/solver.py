"""solve(): PyVRP's hybrid genetic search for the routes, then our own timing pass for lunch and the checks.

PyVRP is the engine because it won the Solomon benchmark (see docs/notes/issue-6-routing.md): it handles
time windows, capacity, optional stops with prizes and alternative windows (client groups) natively.
It has no breaks, so the lunch break is placed afterwards by schedule.time_route; the engine is told
the shift is `break_minutes` shorter, so a break almost always fits, and when it does not the
lowest-priority stop of that day is dropped and reported.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Iterable, Mapping

from core.progress import Progress
from core.routing.matrix import Matrix
from core.routing.problem import PRIORITY_LABELS, RoutingProblem, Shift, Stop
from core.routing.result import Route, RoutingResult, Unserved
from core.routing.schedule import EPS, Index, open_during, time_route
from core.routing.stop import CancelRequested, FirstOf, StopCriterion, default_stop

SCALE = 1000  # the engine works in integers: thousandths of a minute / of a distance unit
INF = 2**62


def solve(problem: RoutingProblem, stop: StopCriterion | None = None, seed: int = 0,
          progress: Progress | None = None, matrix: Matrix | None = None) -> RoutingResult:
    """Plan routes for the problem. Always returns a plan; stops that cannot fit are in `unserved` with a reason.

    stop: a criterion (best_cost) -> bool such as MaxRuntime(5) | NoImprovement(2000); default grows with size.
    progress: a core Progress; its cancel ends the search early and the best plan so far is returned.
    """
    started = time.perf_counter()
    mx = matrix or problem.matrix.matrix(problem.points())
    idx = Index(problem)
    unserved: list[Unserved] = []
    candidates: list[Stop] = []
    for s in problem.stops:
        reason = _why_impossible(problem, mx, idx, s)
        if reason:
            unserved.append(Unserved(s.id, reason))
        else:
            candidates.append(s)

    criterion = stop or default_stop(len(candidates))
    cancel = CancelRequested(progress, getattr(criterion, "seconds", None) or _budget(criterion))
    routes_by_shift: dict[Any, list[list[Any]]] = {}
    iterations, engine_runtime = 0, 0.0
    if candidates and problem.shifts:
        orders, dropped, iterations = _run_pyvrp(problem, mx, idx, candidates, FirstOf(criterion, cancel), seed)
        routes_by_shift = orders
        for s in dropped:
            unserved.append(Unserved(s.id, _why_dropped(problem, s)))
    routes, late_drops = _finish(problem, mx, idx, routes_by_shift)
    unserved += late_drops
    order = {s.id: i for i, s in enumerate(problem.stops)}
    unserved.sort(key=lambda u: order[u.stop_id])
    cost = sum((r.drive_minutes if problem.objective == "drive_time" else r.distance) for r in routes)
    return RoutingResult(routes=tuple(routes), unserved=tuple(unserved), cost=cost,
                         runtime=time.perf_counter() - started, iterations=iterations,
                         stopped_by="cancelled" if cancel.triggered else "limit")


def evaluate(problem: RoutingProblem, orders: Mapping[Any, Iterable[Any]], matrix: Matrix | None = None,
             locked: Iterable[Any] = ()) -> RoutingResult:
    """Time a hand-made plan {shift_id: [stop ids in order]} without changing it; each route lists its problems.

    Stops in the problem but in no order are reported unserved ("left out by hand").
    """
    mx = matrix or problem.matrix.matrix(problem.points())
    idx = Index(problem)
    lock = frozenset(locked)
    routes = [time_route(problem, mx, problem.shift(sid), list(ids), idx, locked=lock) for sid, ids in orders.items()]
    planned = {v.stop_id for r in routes for v in r.visits}
    unserved = tuple(Unserved(s.id, "left out by hand") for s in problem.stops if s.id not in planned)
    cost = sum((r.drive_minutes if problem.objective == "drive_time" else r.distance) for r in routes)
    return RoutingResult(routes=tuple(routes), unserved=unserved, cost=cost, engine="check")


def _budget(criterion: Any) -> float | None:
    for c in getattr(criterion, "criteria", ()):
        if hasattr(c, "seconds"):
            return c.seconds
    return None


def _windows_for(stop: Stop, shifts: Iterable[Shift]) -> list[tuple[float, float]]:
    """The stop's start windows clipped to when some shift works (all of them if it is pinned to none)."""
    spans = [(sh.start_min, sh.end_min) for sh in shifts]
    windows = stop.start_windows() or tuple(spans)
    out = []
    for a, b in windows:
        for lo, hi in spans:
            x, y = max(a, lo), min(b, hi)
            if y >= x - EPS:
                out.append((x, max(x, y)))
    return sorted(set(out))


def _why_impossible(problem: RoutingProblem, mx: Matrix, idx: Index, stop: Stop) -> str:
    """A plain reason when no shift could serve this stop even alone; '' when some could."""
    shifts = [sh for sh in problem.shifts if getattr(stop, "shift_id", None) in (None, sh.id)]
    if not shifts:
        return "no working day to put it on"
    windows = stop.start_windows()
    if windows and not any(open_during(stop, sh) for sh in shifts):
        day_open = any(any(b >= (sh.start_min // 1440) * 1440 and a <= (sh.start_min // 1440) * 1440 + 1440
                           for a, b in windows) for sh in shifts)
        return "outside working hours" if day_open else "closed on the days planned"
    reasons = []
    p = idx.stop_pos[stop.id]
    for sh in shifts:
        out_t, back_t = mx.duration[idx.start(sh)][p], mx.duration[p][idx.end(sh)]
        if sh.max_drive_minutes is not None and out_t + back_t > sh.max_drive_minutes + EPS:
            reasons.append("over the driving limit")
            continue
        if sh.capacity is not None and stop.demand > sh.capacity:
            reasons.append("more than the vehicle carries")
            continue
        arrive = sh.start_min + out_t
        ok = False
        for a, b in (windows or ((sh.start_min, sh.end_min),)):
            begin = max(arrive, a)
            if begin <= b + EPS and begin + stop.service_minutes + back_t <= sh.end_min + EPS:
                ok = True
                break
        if ok:
            return ""
        reasons.append("too far to fit in working hours" if arrive + stop.service_minutes + back_t > sh.end_min
                       else "outside working hours")
    return reasons[0] if len(set(reasons)) == 1 else "; ".join(sorted(set(reasons)))


def _why_dropped(problem: RoutingProblem, stop: Stop) -> str:
    label = PRIORITY_LABELS.get(stop.priority, "")
    if stop.priority == 0:
        return "no time left: the appointment clashes with other appointments or the day's limits"
    if stop.priority == 1:
        return "no time left in working hours (tier A)"
    return f"no time left; tier {label} stops are dropped before higher tiers"


def _run_pyvrp(problem: RoutingProblem, mx: Matrix, idx: Index, stops: list[Stop],
               criterion: StopCriterion, seed: int) -> tuple[dict[Any, list[list[Any]]], list[Stop], int]:
    from pyvrp import Model

    m = Model()
    by_drive = problem.objective == "drive_time"
    locs = [m.add_location(x=float(i), y=0.0) for i in range(len(mx.duration))]
    shift_depots = []
    for k, sh in enumerate(problem.shifts):
        start = m.add_depot(locs[2 * k], name=f"start {sh.id}")
        end = m.add_depot(locs[2 * k + 1], name=f"end {sh.id}")
        shift_depots.append((start, end))
    # Prizes step up by tier (x10 a tier) over the cost of the longest detour, so a stop is always worth
    # serving if it fits and a higher tier wins any ordinary trade. Kept moderate on purpose: prizes far
    # above PyVRP's time-warp penalties make it settle on infeasible (late) routes.
    cost_m = mx.duration if by_drive else mx.distance
    max_leg = max((max(row) for row in cost_m), default=1.0)
    base = int(2 * max_leg * SCALE) + 1
    prize_by_priority = {3: base, 2: 10 * base, 1: 100 * base, 0: 1000 * base}
    client_stop: list[Stop] = []
    for s in stops:
        pinned = getattr(s, "shift_id", None)
        shifts = [sh for sh in problem.shifts if pinned in (None, sh.id)]
        windows = _windows_for(s, shifts)
        loc = locs[idx.stop_pos[s.id]]
        prize = 0 if s.required else prize_by_priority[s.priority]
        service = int(round(s.service_minutes * SCALE))
        demand = [s.demand] if any(sh.capacity is not None for sh in problem.shifts) else []
        if len(windows) == 1:
            a, b = windows[0]
            m.add_client(loc, delivery=demand, service_duration=service, tw_early=int(math.ceil(a * SCALE - 1e-6)),
                         tw_late=int(math.floor(b * SCALE + 1e-6)), prize=prize, required=s.required, name=str(s.id))
            client_stop.append(s)
        else:
            group = m.add_client_group(required=s.required)
            for a, b in windows:
                m.add_client(loc, delivery=demand, service_duration=service,
                             tw_early=int(math.ceil(a * SCALE - 1e-6)), tw_late=int(math.floor(b * SCALE + 1e-6)),
                             prize=prize, required=False, group=group, name=str(s.id))
                client_stop.append(s)
    for k, sh in enumerate(problem.shifts):
        start, end = shift_depots[k]
        # fixed_cost: a minute per day index, so with spare capacity the plan fills the earliest days.
        # The engine has no breaks: it must finish `lunch` minutes early so the break fits in afterwards.
        lunch = sh.break_minutes if sh.has_break else 0.0
        span = sh.end_min - sh.start_min - lunch
        limit = INF
        if sh.max_drive_minutes is not None and by_drive:
            limit = int(sh.max_drive_minutes * SCALE)
        m.add_vehicle_type(num_available=sh.count, capacity=[sh.capacity] if sh.capacity is not None else [],
                           start_depot=start, end_depot=end, tw_early=int(sh.start_min * SCALE),
                           tw_late=int((sh.end_min - lunch) * SCALE), shift_duration=max(0, int(span * SCALE)),
                           max_distance=limit, fixed_cost=k * SCALE if by_drive else 0, name=str(sh.id))
    # Durations round up so a plan the engine finds feasible stays feasible in exact arithmetic.
    needed = sorted({2 * k for k in range(len(problem.shifts))} | {2 * k + 1 for k in range(len(problem.shifts))}
                    | {idx.stop_pos[s.id] for s in stops})
    for i in needed:
        for j in needed:
            if i == j:
                continue
            dur = int(math.ceil(mx.duration[i][j] * SCALE - 1e-9))
            cost = dur if by_drive else int(round(mx.distance[i][j] * SCALE))
            m.add_edge(locs[i], locs[j], distance=cost, duration=dur)
    with warnings.catch_warnings():
        # Over-full days are normal here (optional stops); PyVRP's 'struggles to find feasible' note is noise.
        warnings.simplefilter("ignore")
        result = m.solve(criterion, seed=seed, display=False)
    best = result.best
    orders: dict[Any, list[list[Any]]] = {}
    served: set = set()
    for route in best.routes():
        sh = problem.shifts[route.vehicle_type()]
        ids = []
        for act in route.schedule():
            if act.is_client():
                s = client_stop[act.idx]
                if s.id not in served:
                    ids.append(s.id)
                    served.add(s.id)
        orders.setdefault(sh.id, []).append(ids)
    dropped = [s for s in stops if s.id not in served]
    return orders, dropped, result.num_iterations


def _finish(problem: RoutingProblem, mx: Matrix, idx: Index,
            orders: dict[Any, list[list[Any]]]) -> tuple[list[Route], list[Unserved]]:
    """Time each route; while a route breaks a rule (lunch pushed a visit late...), drop its lowest-priority stop."""
    routes, dropped = [], []
    for sh in problem.shifts:
        for vehicle, order in enumerate(orders.get(sh.id, [[]])):
            order = list(order)
            route = time_route(problem, mx, sh, order, idx, vehicle=vehicle)
            while route.warnings and order:
                worst = max(order, key=lambda sid: (idx.stops[sid].priority, _saving(mx, idx, sh, order, sid)))
                order.remove(worst)
                why = "no time left for the lunch break" if sh.has_break else "no time left"
                if any("driving" in w for w in route.warnings):
                    why = "over the driving limit"
                dropped.append(Unserved(worst, why))
                route = time_route(problem, mx, sh, order, idx, vehicle=vehicle)
            routes.append(route)
    return routes, dropped


def _saving(mx: Matrix, idx: Index, sh: Shift, order: list[Any], sid: Any) -> float:
    """Minutes saved by leaving `sid` out of the route: the longer the detour, the better to drop."""
    pos = order.index(sid)
    prev = idx.start(sh) if pos == 0 else idx.stop_pos[order[pos - 1]]
    nxt = idx.end(sh) if pos == len(order) - 1 else idx.stop_pos[order[pos + 1]]
    me = idx.stop_pos[sid]
    return mx.duration[prev][me] + mx.duration[me][nxt] - mx.duration[prev][nxt] + idx.stops[sid].service_minutes
