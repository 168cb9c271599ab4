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
from typing import Any, Iterable, Mapping

from core.progress import Progress
from core.routing import engine
from core.routing.matrix import Matrix
from core.routing.problem import RoutingProblem, Shift, Stop
from core.routing.result import Route, RoutingResult, Unserved
from core.routing.schedule import EPS, Index, open_during, time_route
from core.routing.stop import CancelRequested, StopCriterion, default_stop

BALANCE_MOVES = 300  # the balancing pass stops after this many moves whatever its time (see run_stopped_by_count)
SCALE = 1000  # the engine works in integers: thousandths of a minute / of a distance unit
INF = 2**62


def solve(problem: RoutingProblem, stop: StopCriterion | None = None, seed: int = 0,
          progress: Progress | None = None, matrix: Matrix | None = None) -> RoutingResult:
    """Plan routes for the problem. Always returns a plan; stops that cannot fit are in `unserved` with a reason.

    stop: a criterion (best_cost) -> bool such as MaxRuntime(5) | NoImprovement(2000); default grows with size.
    progress: a core Progress; its cancel ends the search early and the best plan so far is returned.
    """
    called = started = time.perf_counter()
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
    budget = _budget(criterion)
    limit = budget if budget is not None else engine.HARD_CAP_SECONDS
    # The limit counts from the call, and a little of it is kept back for the timing passes afterwards.
    balancing = problem.balance > 0 and len(problem.shifts) > 1
    deadline = started + max(0.0, limit - min(1.0 if balancing else 0.25, (0.2 if balancing else 0.1) * limit))
    cancel = CancelRequested(progress, budget)
    routes_by_shift: dict[Any, list[list[Any]]] = {}
    iterations, stopped_by, engine_name = 0, "limit", "pyvrp"
    run_stopped_by_count = _iteration_cap(criterion) is not None  # nothing to search: the passes alone decide
    if candidates and problem.shifts:
        data, client_stop = _build_model(problem, mx, idx, candidates)
        run = engine.run(data, criterion, seed, deadline, cancel=lambda: cancel(0.0))
        # The passes below share what is left of the limit; the worker server's first start is not part of it.
        started += run.startup
        iterations = run.iterations
        cap = _iteration_cap(criterion)
        run_stopped_by_count = cap is not None and run.stopped_by == "limit" and run.iterations >= cap
        stopped_by = {"deadline": "limit (engine stopped)", "failed": "engine failed"}.get(run.stopped_by,
                                                                                         run.stopped_by)
        if run.routes is None:
            # Nothing came back in time (or the engine broke): build the days by cheapest insertion instead.
            engine_name = "insertion"
        routes_by_shift, dropped = _orders(problem, candidates, client_stop, run.routes)
        for s in dropped:
            unserved.append(Unserved(s.id, _why_dropped(problem, s)))
    routes, late_drops = _finish(problem, mx, idx, routes_by_shift)
    unserved += late_drops
    if routes and not any(sh.capacity is not None for sh in problem.shifts):
        # Normally a short polish (a fifth of the search time); when the engine gave nothing it is the whole plan.
        # With balancing on, the polish gets half of what is left of the limit and balancing the rest.
        polish = 0.1 + 0.2 * (time.perf_counter() - started)
        if budget is not None:
            left = started + budget + 0.3 - time.perf_counter()
            polish = min(polish, left / 3 if balancing else left - 0.1)
        if engine_name == "insertion":
            polish = max(0.25, polish if budget is None else started + budget + 0.3 - time.perf_counter())
        # A search stopped by a count of iterations is meant to give one plan for a seed: then the passes
        # run to their end too (bounded by the stops and BALANCE_MOVES) rather than to a clock.
        counted = run_stopped_by_count
        routes, unserved = _promote(problem, mx, idx, routes, unserved,
                                    budget=math.inf if counted else max(0.02, polish))
        if balancing:
            left = 0.2 + 0.1 * (time.perf_counter() - started)
            if budget is not None:
                left = started + budget + 0.3 - time.perf_counter()
            routes = _balance(problem, mx, idx, routes, math.inf if counted else max(0.05, left))
    order = {s.id: i for i, s in enumerate(problem.stops)}
    unserved.sort(key=lambda u: order[u.stop_id])
    cost = sum((r.drive_minutes if problem.objective == "drive_time" else r.distance) for r in routes)
    return RoutingResult(routes=tuple(routes), unserved=tuple(unserved), cost=cost,
                         runtime=time.perf_counter() - called, iterations=iterations,
                         stopped_by=stopped_by, engine=engine_name)


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


def _iteration_cap(criterion: Any) -> int | None:
    """The count of iterations inside a criterion (MaxIterations, the smallest when composed); None when none."""
    from core.routing.stop import MaxIterations

    if isinstance(criterion, MaxIterations):
        return criterion.iterations
    found = [c for c in (_iteration_cap(c) for c in getattr(criterion, "criteria", ())) if c is not None]
    return min(found) if found else None


def _budget(criterion: Any) -> float | None:
    """The time limit inside a criterion (the smallest, when several are composed); None when it has none."""
    if hasattr(criterion, "seconds"):
        return float(criterion.seconds)
    found = [b for b in (_budget(c) for c in getattr(criterion, "criteria", ())) if b is not None]
    return min(found) if found else None


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
    """Why the search left a stop out although it fits on its own: the days are full."""
    if stop.priority == 0:
        return "no time left: the appointment clashes with other visits or the day's limits"
    # The account's tier is shown beside its name wherever this is printed, so it is not repeated here.
    return "no time left in the days planned"


def _day_windows(stop: Stop, sh: Shift, offset: float) -> tuple[tuple[float, float], ...]:
    """The stop's start windows during this shift, relative to the shift's own midnight; () = cannot go."""
    if stop.shift_id not in (None, sh.id):
        return ()
    windows = stop.start_windows() or ((sh.start_min, sh.end_min),)
    out = set()
    for a, b in windows:
        x, y = max(a, sh.start_min), min(b, sh.end_min)
        if y >= x - EPS:
            out.add((x - offset, max(x, y) - offset))
    return tuple(sorted(out))


def _build_model(problem: RoutingProblem, mx: Matrix, idx: Index, stops: list[Stop]) -> tuple[Any, list[Stop]]:
    """One PyVRP model for all shifts. Each shift keeps time from its own midnight, so an account open
    08:00-17:00 every day is ONE client (not one per day); days it cannot be visited (closed, or pinned
    elsewhere) are cut off by giving that shift its own routing profile without edges to it."""
    from pyvrp import Model

    m = Model()
    by_drive = problem.objective == "drive_time"
    offsets = [(sh.start_min // 1440) * 1440 for sh in problem.shifts]
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
    # An extra (not due yet) is worth a detour of up to about the longest leg, never a due visit.
    prize_by_priority = {4: base // 2 + 1, 3: base, 2: 10 * base, 1: 100 * base, 0: 1000 * base}
    client_stop: list[Stop] = []
    allowed: dict[Any, list[bool]] = {}
    demand_on = any(sh.capacity is not None for sh in problem.shifts)
    for s in stops:
        per_shift = [_day_windows(s, sh, off) for sh, off in zip(problem.shifts, offsets)]
        allowed[s.id] = [bool(w) for w in per_shift]
        # Days with different hours (e.g. a shorter Saturday) become alternatives; the timing pass
        # afterwards catches the rare visit put in another day's window.
        windows = sorted({w for ws in per_shift for w in ws})
        loc = locs[idx.stop_pos[s.id]]
        prize = 0 if s.required else prize_by_priority[s.priority]
        service = int(round(s.service_minutes * SCALE))
        demand = [s.demand] if demand_on else []
        group = m.add_client_group(required=s.required) if len(windows) > 1 else None
        for a, b in windows:
            m.add_client(loc, delivery=demand, service_duration=service, tw_early=int(math.ceil(a * SCALE - 1e-6)),
                         tw_late=int(math.floor(b * SCALE + 1e-6)), prize=prize,
                         required=s.required and group is None, group=group, name=str(s.id))
            client_stop.append(s)
    restricted = any(not all(v) for v in allowed.values())
    profiles = [m.add_profile(name=str(sh.id)) for sh in problem.shifts] if restricted else [None]
    for k, sh in enumerate(problem.shifts):
        start, end = shift_depots[k]
        off = offsets[k]
        # fixed_cost: a minute per day index, so with spare capacity the plan fills the earliest days
        # (unless the days are to be balanced: then the balancing pass spreads the work afterwards).
        # The engine has no breaks: it must finish `lunch` minutes early so the break fits in afterwards.
        lunch = sh.break_minutes if sh.has_break else 0.0
        span = sh.end_min - sh.start_min - lunch
        limit = INF
        if sh.max_drive_minutes is not None and by_drive:
            limit = int(sh.max_drive_minutes * SCALE)
        m.add_vehicle_type(num_available=sh.count, capacity=[sh.capacity] if sh.capacity is not None else [],
                           start_depot=start, end_depot=end, tw_early=int((sh.start_min - off) * SCALE),
                           tw_late=int((sh.end_min - lunch - off) * SCALE), shift_duration=max(0, int(span * SCALE)),
                           max_distance=limit, fixed_cost=k * SCALE if by_drive and not problem.balance else 0,
                           profile=profiles[k] if restricted else None, name=str(sh.id))
    depots = {2 * k for k in range(len(problem.shifts))} | {2 * k + 1 for k in range(len(problem.shifts))}
    stop_locs = [(idx.stop_pos[s.id], s.id) for s in stops]
    for k, prof in enumerate(profiles):
        # Durations round up so a plan the engine finds feasible stays feasible in exact arithmetic.
        needed = sorted(depots | {p for p, sid in stop_locs if prof is None or allowed[sid][k]})
        for i in needed:
            row_d, row_t = mx.distance[i], mx.duration[i]
            for j in needed:
                if i == j:
                    continue
                dur = int(math.ceil(row_t[j] * SCALE - 1e-9))
                cost = dur if by_drive else int(round(row_d[j] * SCALE))
                m.add_edge(locs[i], locs[j], distance=cost, duration=dur, profile=prof)
    # Edges left out (a day a stop cannot go) default to PyVRP's MAX_VALUE (2**44); with client groups and
    # per-day profiles that made PyVRP 0.14.1's local search spin for ever (an overflow, we believe: see
    # docs/notes/issue-14-planning.md). A value far above any real day but far below int64 limits avoids it.
    missing = max(10**9, 1000 * int(max_leg * SCALE))
    return m.data(missing_value=min(missing, 1 << 44)), client_stop


def _orders(problem: RoutingProblem, stops: list[Stop], client_stop: list[Stop],
            routes: list[tuple[int, list[int]]] | None) -> tuple[dict[Any, list[list[Any]]], list[Stop]]:
    """The engine's routes (vehicle type, client indices) as stop ids per shift, and the stops it left out."""
    orders: dict[Any, list[list[Any]]] = {}
    served: set = set()
    for vehicle_type, clients in routes or []:
        sh = problem.shifts[vehicle_type]
        ids = []
        for c in clients:
            s = client_stop[c]
            if s.id not in served:
                ids.append(s.id)
                served.add(s.id)
        orders.setdefault(sh.id, []).append(ids)
    dropped = [s for s in stops if s.id not in served]
    return orders, dropped


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


def _promote(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], unserved: list[Unserved],
             budget: float = 0.5) -> tuple[list[Route], list[Unserved]]:
    """Make "A before B before C" hold: put each left-out stop, most important first, where it fits,
    bumping lower-tier stops off that route if needed (within `budget` seconds).

    The engine weighs tiers through prizes, which a short search does not always settle; this pass only
    re-times routes and never makes one break a rule.
    """
    reason = {u.stop_id: u.reason for u in unserved}
    pool = sorted((u.stop_id for u in unserved if u.reason.startswith("no time left")),
                  key=lambda sid: idx.stops[sid].priority)
    routes = list(routes)
    deadline = time.perf_counter() + budget
    for sid in pool:
        if time.perf_counter() > deadline:
            break
        stop = idx.stops[sid]
        me = idx.stop_pos[sid]
        tries = []
        for k, route in enumerate(routes):
            sh = problem.shift(route.shift_id)
            if stop.shift_id not in (None, sh.id) or not open_during(stop, sh):
                continue
            seq = [idx.start(sh)] + [idx.stop_pos[x] for x in route.stop_ids] + [idx.end(sh)]
            for pos in range(len(seq) - 1):
                detour = mx.duration[seq[pos]][me] + mx.duration[me][seq[pos + 1]] - mx.duration[seq[pos]][seq[pos + 1]]
                tries.append((detour, k, pos))
        tries.sort()
        best = None
        # Plain insertion at the cheapest few places first; bumping lower tiers only if that fails.
        for detour, k, pos in tries[:8]:
            route = routes[k]
            order = route.stop_ids[:pos] + [sid] + route.stop_ids[pos:]
            timed = time_route(problem, mx, problem.shift(route.shift_id), order, idx, vehicle=route.vehicle)
            if not timed.warnings:
                best = (k, timed, [])
                break
        if best is None and any(idx.stops[x].priority > stop.priority for r in routes for x in r.stop_ids):
            for detour, k, pos in tries[:6]:
                route = routes[k]
                sh = problem.shift(route.shift_id)
                order = route.stop_ids[:pos] + [sid] + route.stop_ids[pos:]
                bumped: list[Any] = []
                timed = time_route(problem, mx, sh, order, idx, vehicle=route.vehicle)
                while timed.warnings:
                    lower = [x for x in order if idx.stops[x].priority > stop.priority]
                    if not lower:
                        break
                    out = max(lower, key=lambda x: (idx.stops[x].priority, _saving(mx, idx, sh, order, x)))
                    order.remove(out)
                    bumped.append(out)
                    timed = time_route(problem, mx, sh, order, idx, vehicle=route.vehicle)
                if timed.warnings:
                    continue
                cost = (len(bumped), sum(4 - idx.stops[b].priority for b in bumped))
                if best is None or cost < best[0]:
                    best = (cost, k, timed, bumped)
                if len(bumped) == 1:
                    break
            if best is not None:
                best = best[1:]
        if best is None:
            continue
        k, timed, bumped = best
        routes[k] = timed
        reason.pop(sid, None)
        for b in bumped:
            reason[b] = _why_dropped(problem, idx.stops[b])
    order = {s.id: i for i, s in enumerate(problem.stops)}
    left = [Unserved(sid, why) for sid, why in reason.items()]
    left.sort(key=lambda u: order[u.stop_id])
    return routes, left


def day_length(route: Route) -> float:
    """Minutes from leaving to coming back (0 for a day without visits)."""
    return route.back - route.leave if route.visits else 0.0


def _balance(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], budget: float) -> list[Route]:
    """Even out the days: move a visit from a longer day to a shorter one while the drive minutes added are
    worth less than the imbalance saved (problem.balance minutes of driving per minute of day length moved
    towards the mean).

    Moves are ranked by an estimate from the matrix (detour and saving), and only the best few are timed
    exactly (timing places lunch, so it is the slow part); it only re-times routes, so it never breaks a rule.
    """
    deadline = time.perf_counter() + budget
    routes = list(routes)
    movable = [k for k, r in enumerate(routes) if problem.shift(r.shift_id).count == 1]
    if len(movable) < 2:
        return routes
    d = mx.duration

    def spread(lengths: dict[int, float]) -> float:
        # Half the total distance from the mean day: every minute moved from a long day to a short one
        # counts (max - min alone does not move while two days are empty), and it equals max - min for two days.
        mean = sum(lengths.values()) / len(lengths)
        return sum(abs(x - mean) for x in lengths.values()) / 2

    moves = 0
    while time.perf_counter() < deadline and moves < BALANCE_MOVES:
        moves += 1
        lengths = {k: day_length(routes[k]) for k in movable}
        before = spread(lengths)
        guesses = []
        for s_k in movable:
            src_route = routes[s_k]
            src_sh = problem.shift(src_route.shift_id)
            src_seq = [idx.start(src_sh)] + [idx.stop_pos[x] for x in src_route.stop_ids] + [idx.end(src_sh)]
            for pos_out, sid in enumerate(src_route.stop_ids):
                stop = idx.stops[sid]
                if stop.shift_id is not None or stop.appointment is not None:
                    continue  # locked to its day, or a fixed appointment
                me = idx.stop_pos[sid]
                a, b = src_seq[pos_out], src_seq[pos_out + 2]
                saved_drive = d[a][me] + d[me][b] - d[a][b]
                for k in movable:
                    if k == s_k or lengths[k] >= lengths[s_k] - stop.service_minutes:
                        continue
                    sh = problem.shift(routes[k].shift_id)
                    if not open_during(stop, sh):
                        continue
                    seq = [idx.start(sh)] + [idx.stop_pos[x] for x in routes[k].stop_ids] + [idx.end(sh)]
                    for q in range(len(seq) - 1):
                        detour = d[seq[q]][me] + d[me][seq[q + 1]] - d[seq[q]][seq[q + 1]]
                        est = dict(lengths)
                        est[s_k] = 0.0 if len(src_route.visits) == 1 else est[s_k] - saved_drive - stop.service_minutes
                        est[k] = est[k] + detour + stop.service_minutes
                        gain = problem.balance * (before - spread(est)) - (detour - saved_drive)
                        if gain > 0:
                            guesses.append((gain, s_k, sid, k, q))
        guesses.sort(key=lambda g: -g[0])
        moved = False
        without: dict[tuple[int, Any], Route] = {}  # the source day re-timed without the stop, once per stop
        for _, s_k, sid, k, q in guesses[:8]:
            if time.perf_counter() > deadline:
                break
            src_route = routes[s_k]
            if (s_k, sid) not in without:
                without[(s_k, sid)] = time_route(problem, mx, problem.shift(src_route.shift_id),
                                                 [x for x in src_route.stop_ids if x != sid], idx,
                                                 vehicle=src_route.vehicle)
            src = without[(s_k, sid)]
            order = routes[k].stop_ids
            dst = time_route(problem, mx, problem.shift(routes[k].shift_id), order[:q] + [sid] + order[q:], idx,
                             vehicle=routes[k].vehicle)
            if src.warnings or dst.warnings:
                continue
            after = dict(lengths)
            after[s_k], after[k] = day_length(src), day_length(dst)
            gain = problem.balance * (before - spread(after)) - (
                src.drive_minutes + dst.drive_minutes - src_route.drive_minutes - routes[k].drive_minutes)
            if gain > 1e-6:
                routes[s_k], routes[k] = src, dst
                moved = True
                break
        if not moved:
            break
    return routes
