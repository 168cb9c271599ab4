"""After the search: move visits to the day whose route passes them, fill every day's slack, and say truly why the rest stay out.

The route engine's search is cut off by its time limit, and under load a short search leaves days
with an hour free while near accounts are "not planned" (docs/notes/issue-14-planning.md, Session 5).
These passes are plain, deterministic local search on the timed routes (core.routing.schedule
places lunch and checks opening hours, working hours and the driving limit), so whatever the engine
returned, the plan ends in a state where

- no left-out account fits anywhere: each was tried at every place of every day it may go on;
- no single visit can move to another day for less driving (weighed against day balance as the
  solver's own balancing does);

and a left-out account's reason is computed from those tries ("the closest fit, Thu, needs 52 min
more; 18 min are left"), not assumed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable

from core.routing import Matrix, RoutingProblem, RoutingResult, Unserved
from core.routing.problem import Shift, Stop
from core.routing.result import Route
from core.routing.schedule import Index, open_during, time_route

# Rounds of (relocate, then fill); each stops early when it changes nothing. Counted, not timed, so a
# seed gives one plan whatever the machine's load.
ROUNDS = 4
MAX_MOVES = 400
EPS = 0.5  # minutes: the schedule's own tolerance for "late" and "over"


@dataclass(frozen=True)
class Fit:
    """The cheapest feasible place for a stop on one route: added driving, the route re-timed with it."""

    detour: float
    added: float  # minutes the day gets longer
    route: Route


@dataclass(frozen=True)
class Miss:
    """Why a stop fits nowhere on one day (the best try there)."""

    kind: str  # "closed", "pinned", "driving", "time", "hours"
    need: float = 0.0   # minutes of visit and detour it would add at its cheapest place
    left: float = 0.0   # minutes of the working day still unused


def _legs(mx: Matrix, seq: list[int]) -> float:
    return sum(mx.duration[a][b] for a, b in zip(seq, seq[1:]))


def _seq(idx: Index, sh: Shift, ids: list[Any]) -> list[int]:
    return [idx.start(sh)] + [idx.stop_pos[x] for x in ids] + [idx.end(sh)]


def _length(route: Route) -> float:
    return route.back - route.leave if route.visits else 0.0


def best_fit(problem: RoutingProblem, mx: Matrix, idx: Index, route: Route, stop: Stop) -> Fit | Miss:
    """The cheapest place on `route` where `stop` fits without breaking a rule, else why it does not.

    Places are tried cheapest detour first; one that cannot fit for certain (over the driving limit, or
    more driving + visits + lunch than the working day) is not timed at all.
    """
    sh = problem.shift(route.shift_id)
    if stop.shift_id not in (None, sh.id):
        return Miss("pinned")
    if not open_during(stop, sh):
        return Miss("closed")
    if route.warnings:
        return Miss("time")  # a day already breaking a rule (a booked clash) takes nothing more
    ids = route.stop_ids
    seq = _seq(idx, sh, ids)
    d = mx.duration
    base = _legs(mx, seq)
    services = sum(idx.stops[x].service_minutes for x in ids) + stop.service_minutes
    lunch = sh.break_minutes if sh.has_break else 0.0
    span = sh.end_min - sh.start_min
    me = idx.stop_pos[stop.id]
    places, cheapest, hours_ok, driving = [], None, False, False
    for p in range(len(seq) - 1):
        detour = d[seq[p]][me] + d[me][seq[p + 1]] - d[seq[p]][seq[p + 1]]
        cheapest = detour if cheapest is None else min(cheapest, detour)
        if base + detour + services + lunch > span + EPS:
            continue
        hours_ok = True
        if sh.max_drive_minutes is not None and base + detour > sh.max_drive_minutes + EPS:
            driving = True
            continue
        places.append((detour, p))
    places.sort()
    for detour, p in places:
        timed = time_route(problem, mx, sh, ids[:p] + [stop.id] + ids[p:], idx, vehicle=route.vehicle)
        if not timed.warnings:
            return Fit(detour, _length(timed) - _length(route), timed)
    left = span - (_length(route) + (lunch if not ids else 0.0))
    need = (cheapest or 0.0) + stop.service_minutes
    if places:
        return Miss("hours", need, left)  # the minutes would do, but not within its opening hours and lunch
    return Miss("driving" if hours_ok and driving else "time", need, left)


def _movable(stop: Stop) -> bool:
    return stop.shift_id is None and stop.appointment is None


def _spread(lengths: list[float]) -> float:
    mean = sum(lengths) / len(lengths)
    return sum(abs(x - mean) for x in lengths) / 2


def relocate(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], balance: float,
             deadline: float = math.inf) -> int:
    """Move single visits to the day where they cost less driving (a far account onto the day that goes out
    that way), while the driving saved outweighs `balance` x the days' imbalance added; the moves made."""
    moves = 0
    d = mx.duration
    improved = True
    while improved and moves < MAX_MOVES and time.perf_counter() < deadline:
        improved = False
        for k in range(len(routes)):
            src = routes[k]
            sh = problem.shift(src.shift_id)
            seq = _seq(idx, sh, src.stop_ids)
            for p, sid in enumerate(src.stop_ids):
                stop = idx.stops[sid]
                if not _movable(stop):
                    continue
                me = idx.stop_pos[sid]
                saving = d[seq[p]][me] + d[me][seq[p + 2]] - d[seq[p]][seq[p + 2]]
                without = None
                for j in range(len(routes)):
                    if j == k:
                        continue
                    # Estimate first, from the matrix (as the solver's balancing does): the driving saved less
                    # the cheapest detour there, and the days' lengths moved by those and the visit; only a
                    # move that looks worth it is timed.
                    dseq = _seq(idx, problem.shift(routes[j].shift_id), routes[j].stop_ids)
                    low = _cheapest(d, dseq, me)
                    lengths = [_length(r) for r in routes]
                    est = list(lengths)
                    est[k] = 0.0 if len(src.visits) == 1 else est[k] - saving - stop.service_minutes
                    est[j] = est[j] + low + stop.service_minutes
                    if (saving - low) + balance * (_spread(lengths) - _spread(est)) <= EPS:
                        continue
                    fit = best_fit(problem, mx, idx, routes[j], stop)
                    if not isinstance(fit, Fit):
                        continue
                    if without is None:
                        without = time_route(problem, mx, sh, [x for x in src.stop_ids if x != sid], idx,
                                             vehicle=src.vehicle)
                    if without.warnings:
                        break
                    lengths = [_length(r) for r in routes]
                    after = list(lengths)
                    after[k], after[j] = _length(without), _length(fit.route)
                    gain = (src.drive_minutes + routes[j].drive_minutes - without.drive_minutes
                            - fit.route.drive_minutes) + balance * (_spread(lengths) - _spread(after))
                    if gain > EPS:
                        routes[k], routes[j] = without, fit.route
                        moves += 1
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return moves


def _cheapest(d: Any, seq: list[int], me: int) -> float:
    return min(d[a][me] + d[me][b] - d[a][b] for a, b in zip(seq, seq[1:]))


def exchange(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], balance: float,
             deadline: float = math.inf) -> int:
    """Swap two visits between days when both then sit on the day that passes them (the far one onto the day
    that goes out that way, a near one back); pairs ranked by a matrix estimate, only the promising timed."""
    moves = 0
    d = mx.duration
    while moves < MAX_MOVES and time.perf_counter() < deadline:
        guesses = []
        seqs = [_seq(idx, problem.shift(r.shift_id), r.stop_ids) for r in routes]
        for k in range(len(routes)):
            for j in range(k + 1, len(routes)):
                sk, sj = seqs[k], seqs[j]
                for pa, a in enumerate(routes[k].stop_ids):
                    if not _movable(idx.stops[a]):
                        continue
                    ma = idx.stop_pos[a]
                    save_a = d[sk[pa]][ma] + d[ma][sk[pa + 2]] - d[sk[pa]][sk[pa + 2]]
                    for pb, b in enumerate(routes[j].stop_ids):
                        if not _movable(idx.stops[b]):
                            continue
                        mb = idx.stop_pos[b]
                        save_b = d[sj[pb]][mb] + d[mb][sj[pb + 2]] - d[sj[pb]][sj[pb + 2]]
                        est = (_cheapest(d, sj[:pb + 1] + sj[pb + 2:], ma) + _cheapest(d, sk[:pa + 1] + sk[pa + 2:], mb)
                               - save_a - save_b)
                        if est < -EPS:
                            guesses.append((est, k, a, j, b))
        guesses.sort(key=lambda g: (g[0], g[1], g[3], str(g[2]), str(g[4])))
        done = False
        for _, k, a, j, b in guesses[:12]:
            src, dst = routes[k], routes[j]
            sh_k, sh_j = problem.shift(src.shift_id), problem.shift(dst.shift_id)
            k_without = time_route(problem, mx, sh_k, [x for x in src.stop_ids if x != a], idx, vehicle=src.vehicle)
            j_without = time_route(problem, mx, sh_j, [x for x in dst.stop_ids if x != b], idx, vehicle=dst.vehicle)
            if k_without.warnings or j_without.warnings:
                continue
            new_k = best_fit(problem, mx, idx, k_without, idx.stops[b])
            new_j = best_fit(problem, mx, idx, j_without, idx.stops[a])
            if not isinstance(new_k, Fit) or not isinstance(new_j, Fit):
                continue
            lengths = [_length(r) for r in routes]
            after = list(lengths)
            after[k], after[j] = _length(new_k.route), _length(new_j.route)
            gain = (src.drive_minutes + dst.drive_minutes - new_k.route.drive_minutes - new_j.route.drive_minutes) \
                + balance * (_spread(lengths) - _spread(after))
            if gain > EPS:
                routes[k], routes[j] = new_k.route, new_j.route
                moves += 1
                done = True
                break
        if not done:
            break
    return moves


def insert(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], pool: Iterable[Any],
           deadline: float = math.inf) -> list[Any]:
    """Cheapest feasible insertion, most important first: while some left-out stop fits somewhere, put the
    highest-priority one with the least added driving there; the stops placed, in order."""
    waiting = list(dict.fromkeys(pool))
    fits: dict[tuple[Any, int], Fit | Miss] = {}
    placed = []
    while waiting and time.perf_counter() < deadline:
        best = None
        for sid in waiting:
            stop = idx.stops[sid]
            for k, route in enumerate(routes):
                key = (sid, k)
                if key not in fits:
                    fits[key] = best_fit(problem, mx, idx, route, stop)
                fit = fits[key]
                if isinstance(fit, Fit):
                    rank = (stop.priority, fit.detour, fit.added, k, str(sid))
                    if best is None or rank < best[0]:
                        best = (rank, sid, k, fit)
        if best is None:
            break
        _, sid, k, fit = best
        routes[k] = fit.route
        waiting.remove(sid)
        placed.append(sid)
        for key in [key for key in fits if key[1] == k]:
            del fits[key]
    return placed


def _day(sh: Shift) -> str:
    return sh.day.split(" ")[0] if sh.day else str(sh.id)


def why_left_out(problem: RoutingProblem, mx: Matrix, idx: Index, routes: list[Route], stop: Stop) -> str:
    """Plain words for a stop that fits on no day, from trying it on each."""
    if stop.priority == 0:
        return "no time left: the appointment clashes with other visits or the day's limits"
    misses = [(problem.shift(r.shift_id), best_fit(problem, mx, idx, r, stop)) for r in routes]
    open_days = [(sh, m) for sh, m in misses if isinstance(m, Miss) and m.kind not in ("closed", "pinned")]
    if not open_days:
        return "closed on the days planned"
    timed = [(sh, m) for sh, m in open_days if m.kind in ("time", "hours")]
    driving = [sh for sh, m in open_days if m.kind == "driving"]
    if not timed:
        return f"over the {driving[0].max_drive_minutes:.0f}-minute driving limit on every day it could go"
    sh, m = min(timed, key=lambda t: (t[1].need - t[1].left, t[0].start_min))
    if m.kind == "hours" or m.need <= m.left:
        text = (f"no time left within its opening hours: {_day(sh)} has {max(0.0, m.left):.0f} min free, "
                f"but not while it is open")
    else:
        text = (f"no time left: it needs {m.need:.0f} min with the detour, the best day ({_day(sh)}) "
                f"has {max(0.0, m.left):.0f} free")
    if driving:
        text += f"; {', '.join(_day(d) for d in driving)} at the driving limit"
    return text


def day_note(problem: RoutingProblem, mx: Matrix, route: Route, left_out: Iterable[Stop]) -> str:
    """Why a day keeps free time although accounts are left out (tried on it); '' when none could go that day."""
    idx = Index(problem)
    sh = problem.shift(route.shift_id)
    tries = [(s, best_fit(problem, mx, idx, route, s)) for s in left_out]
    tries = [(s, m) for s, m in tries if isinstance(m, Miss) and m.kind not in ("closed", "pinned")]
    if not tries:
        return ""
    if any(m.kind == "driving" for _, m in tries) and all(m.kind in ("driving", "time") for _, m in tries):
        near = [(s, m) for s, m in tries if m.kind == "driving"]
        if near and sh.max_drive_minutes is not None and route.drive_minutes >= sh.max_drive_minutes - 60:
            return (f"at the {sh.max_drive_minutes:.0f}-minute driving limit ({route.drive_minutes:.0f} min driven): "
                    f"the accounts left out would take it over")
    s, m = min(tries, key=lambda t: (t[1].need - t[1].left, t[0].priority, str(t[0].id)))
    if m.kind == "hours" or m.need <= m.left:
        return f"the accounts left out are not open when this day has time ({s.name or s.id} the nearest)"
    return (f"nothing left out fits the {max(0.0, m.left):.0f} min free: the nearest, {s.name or s.id}, "
            f"needs {m.need:.0f} min with the detour")


def improve(problem: RoutingProblem, mx: Matrix, result: RoutingResult, pool: Iterable[Any] | None = None,
            rounds: int = ROUNDS, seconds: float = math.inf) -> RoutingResult:
    """The result after relocating and filling (pool: the stops that may be added; default every left-out
    stop); left-out stops get reasons from trying them. Days of more than one vehicle are left as they are.

    The passes are bounded by counts (ROUNDS, MAX_MOVES), so a given result always ends the same way;
    `seconds` is only a guard for a huge or very loaded case (the plan is then valid, just less filled).
    """
    deadline = time.perf_counter() + seconds
    if any(sh.count != 1 for sh in problem.shifts) or not result.routes:
        return result
    idx = Index(problem)
    routes = list(result.routes)
    left = {u.stop_id: u.reason for u in result.unserved}
    pool = [sid for sid in (left if pool is None else pool) if sid in left and sid in idx.stops]
    moved = filled = 0
    for _ in range(rounds):
        m = relocate(problem, mx, idx, routes, problem.balance, deadline)
        m += exchange(problem, mx, idx, routes, problem.balance, deadline)
        placed = insert(problem, mx, idx, routes, [sid for sid in pool if sid in left], deadline)
        for sid in placed:
            left.pop(sid)
        moved += m
        filled += len(placed)
        if not m and not placed:
            break
    tried = set(pool)
    unserved = tuple(Unserved(sid, why_left_out(problem, mx, idx, routes, idx.stops[sid]) if sid in tried else why)
                     for sid, why in left.items())
    cost = sum((r.drive_minutes if problem.objective == "drive_time" else r.distance) for r in routes)
    return replace(result, routes=tuple(routes), unserved=unserved, cost=cost,
                   extra={**result.extra, "relocated": moved, "filled": filled})
