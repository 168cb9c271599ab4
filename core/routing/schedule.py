"""Time a given order of stops for one shift: arrivals, waits, the lunch break, and what breaks the rules.

Used after the engine (to place the lunch break and verify) and for hand-edited orders (the instant check).
"""

from __future__ import annotations

from typing import Any, Sequence

from core.routing.matrix import Matrix
from core.routing.problem import RoutingProblem, Shift, Stop
from core.routing.result import Route, Visit, clock

EPS = 1e-6


class Index:
    """Matrix row numbers for shift starts/ends and stops (the order of RoutingProblem.points())."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.shift_pos = {sh.id: k for k, sh in enumerate(problem.shifts)}
        base = 2 * len(problem.shifts)
        self.stop_pos = {s.id: base + i for i, s in enumerate(problem.stops)}
        self.stops = {s.id: s for s in problem.stops}

    def start(self, shift: Shift) -> int:
        return 2 * self.shift_pos[shift.id]

    def end(self, shift: Shift) -> int:
        return 2 * self.shift_pos[shift.id] + 1


def open_during(stop: Stop, shift: Shift) -> bool:
    """Whether any start window of the stop overlaps the shift's working hours."""
    windows = stop.start_windows()
    if not windows:
        return True
    return any(b >= shift.start_min - EPS and a <= shift.end_min + EPS for a, b in windows)


def _begin(stop: Stop, arrival: float, shift: Shift) -> tuple[float, float, bool]:
    """(service start, minutes late, closed) when arriving at `arrival`: the first window of that day still open."""
    day0 = (shift.start_min // 1440) * 1440
    windows = sorted(w for w in stop.start_windows() if w[1] >= day0 and w[0] <= max(shift.end_min, day0 + 1440))
    if not stop.start_windows():
        return arrival, 0.0, False
    for a, b in windows:
        if arrival <= b + EPS:
            return max(arrival, a), 0.0, False
    if not windows:
        return arrival, 0.0, True
    return arrival, arrival - windows[-1][1], False


def _simulate(problem: RoutingProblem, mx: Matrix, idx: Index, shift: Shift, order: Sequence[Any],
              brk: tuple[int, str] | None, leave: float) -> dict:
    """Forward pass; brk = (position, 'before'|'after'): lunch before leaving visit position-1, or on arrival at position."""
    t = leave
    here = idx.start(shift)
    visits, drive, dist = [], 0.0, 0.0
    b_start = b_end = None
    lo, hi = shift.break_window or (0.0, 0.0)

    def take_break(now: float) -> float:
        nonlocal b_start, b_end
        b_start = max(now, lo)
        b_end = b_start + shift.break_minutes
        return b_end

    n = len(order)
    for p in range(n + 1):
        if brk and brk[0] == p and brk[1] == "before":
            t = take_break(t)
        nxt = idx.end(shift) if p == n else idx.stop_pos[order[p]]
        leg_t, leg_d = mx.duration[here][nxt], mx.distance[here][nxt]
        arrival = t + leg_t
        if p == n:
            return_drive, return_dist = leg_t, leg_d
            t = arrival
            break
        stop = idx.stops[order[p]]
        ready = arrival
        if brk and brk[0] == p and brk[1] == "after":
            ready = take_break(arrival)
        start, late, closed = _begin(stop, ready, shift)
        closed = closed or not open_during(stop, shift)
        depart = start + stop.service_minutes
        visits.append(Visit(stop.id, arrival, start, depart, max(0.0, start - ready), leg_t, leg_d, late, closed))
        drive += leg_t
        dist += leg_d
        t = depart
        here = nxt
    drive += return_drive
    dist += return_dist
    return {"visits": visits, "back": t, "drive": drive, "dist": dist, "return_drive": return_drive,
            "return_dist": return_dist, "break": (b_start, b_end)}


def _problems(shift: Shift, sim: dict, names: dict) -> list[str]:
    out = []
    for v in sim["visits"]:
        if v.closed:
            out.append(f"{names.get(v.stop_id, v.stop_id)} is closed that day")
        elif v.late_minutes > 0.5:
            out.append(f"{names.get(v.stop_id, v.stop_id)}: arrives {v.late_minutes:.0f} min late")
    if sim["back"] > shift.end_min + 0.5:
        out.append(f"back at {clock(sim['back'])}, {sim['back'] - shift.end_min:.0f} min after working hours")
    if shift.max_drive_minutes is not None and sim["drive"] > shift.max_drive_minutes + 0.5:
        out.append(f"{sim['drive']:.0f} min driving, over the {shift.max_drive_minutes:.0f}-minute limit")
    b_start, b_end = sim["break"]
    if shift.has_break and sim["visits"]:
        if b_start is None or b_end > shift.break_window[1] + 0.5:
            out.append("no room for the lunch break")
    return out


def time_route(problem: RoutingProblem, mx: Matrix, shift: Shift, order: Sequence[Any],
               idx: Index | None = None, vehicle: int = 0, locked: frozenset = frozenset()) -> Route:
    """Schedule `order` for `shift`: leave as late as useful, place lunch where it costs least, list every problem."""
    idx = idx or Index(problem)
    names = {s.id: (s.name or str(s.id)) for s in problem.stops}
    options: list[tuple[int, str] | None] = [None]
    if shift.has_break and order:
        options = [(p, m) for p in range(len(order) + 1) for m in ("before", "after") if not (p == len(order) and m == "after")]
        options = [o for o in options if not (o[0] == 0 and o[1] == "before")]
    best = None
    for opt in options:
        sim = _simulate(problem, mx, idx, shift, order, opt, shift.start_min)
        # Leave later when the first stop is not open yet: waiting at home beats waiting in the car.
        if sim["visits"] and sim["visits"][0].wait_minutes > 0 and not (opt and opt[0] == 0):
            sim = _simulate(problem, mx, idx, shift, order, opt, shift.start_min + sim["visits"][0].wait_minutes)
        issues = _problems(shift, sim, names)
        key = (len(issues), sum(v.late_minutes for v in sim["visits"]), sim["back"])
        if best is None or key < best[0]:
            best = (key, sim, issues)
    _, sim, issues = best
    visits = tuple(Visit(**{**v.__dict__, "locked": v.stop_id in locked}) for v in sim["visits"])
    leave = (visits[0].arrival - visits[0].drive_minutes) if visits else shift.start_min
    b_start, b_end = sim["break"]
    return Route(shift_id=shift.id, visits=visits, leave=leave, back=sim["back"] if visits else shift.start_min,
                 drive_minutes=sim["drive"] if visits else 0.0, distance=sim["dist"] if visits else 0.0,
                 return_drive_minutes=sim["return_drive"] if visits else 0.0,
                 return_distance=sim["return_dist"] if visits else 0.0,
                 break_start=b_start if visits else None, break_end=b_end if visits else None,
                 vehicle=vehicle, warnings=tuple(issues))
