"""The immutable routing problem: stops to visit, shifts to visit them in, and where travel times come from.

Time is in minutes on one axis for the whole problem: minute 0 is midnight (rep's local time) of the
problem's first day, so a one-day problem simply uses minutes from that day's midnight and day k of
a week starts at k * 1440.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.routing.matrix import GreatCircleMatrix, MatrixProvider

PRIORITY_LABELS = {0: "appointment", 1: "A", 2: "B", 3: "C", 4: "not due yet"}
EXTRA = 4  # a stop worth doing only if the day has room (an account pulled forward)
OBJECTIVES = ("drive_time", "distance")


@dataclass(frozen=True)
class Stop:
    """A place to visit.

    windows: when the visit may BEGIN, as (earliest, latest) minutes on the problem's time axis
    (so an account open 08:00–17:00 with a 45-minute visit has the window (480, 975)); empty means
    any time within the shift. priority: 1 = A, 2 = B, 3 = C, 4 = an extra (not due yet, fills a day
    with room); when not everything fits, extras go first, then C. appointment: a fixed start minute (overrides windows, outranks every priority).
    required: the solver must visit it (benchmarks); the app leaves it False so a plan always exists.
    shift_id: pin the stop to one shift (a locked stop stays on its day while the rest is re-optimised).
    """

    id: Any
    lat: float
    lon: float
    service_minutes: float = 0.0
    windows: tuple[tuple[float, float], ...] = ()
    priority: int = 2
    appointment: float | None = None
    demand: int = 0
    required: bool = False
    name: str = ""
    shift_id: Any = None

    def start_windows(self) -> tuple[tuple[float, float], ...]:
        if self.appointment is not None:
            return ((self.appointment, self.appointment),)
        return tuple(self.windows)


@dataclass(frozen=True)
class Shift:
    """One working day of one rep (or, with count > 1, a fleet of identical vehicles).

    start_min/end_min: leave the start no earlier than start_min, be back at the end by end_min.
    break_window: (earliest start, latest end) of the lunch break, break_minutes its length.
    max_drive_minutes: daily driving limit (None = none).
    """

    id: Any
    day: str = ""
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] | None = None
    start_min: float = 0.0
    end_min: float = 1440.0
    break_window: tuple[float, float] | None = None
    break_minutes: float = 0.0
    max_drive_minutes: float | None = None
    capacity: int | None = None
    count: int = 1

    @property
    def end_point(self) -> tuple[float, float]:
        return self.end if self.end is not None else self.start

    @property
    def has_break(self) -> bool:
        return self.break_window is not None and self.break_minutes > 0


@dataclass(frozen=True)
class RoutingProblem:
    """Everything solve() needs; build it once, solve it as often as you like.

    objective: "drive_time" (the app: minimise minutes behind the wheel; the driving limit is then
    enforced exactly by the engine) or "distance" (benchmarks).
    balance: minutes of driving worth one minute less between the longest and the shortest day
    (0 = no balancing, and spare capacity then goes to the earliest days).
    """

    stops: tuple[Stop, ...]
    shifts: tuple[Shift, ...]
    matrix: MatrixProvider = field(default_factory=GreatCircleMatrix)
    objective: str = "drive_time"
    balance: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        ids = [s.id for s in self.stops]
        if len(set(ids)) != len(ids):
            raise ValueError("stop ids must be unique")
        if len({s.id for s in self.shifts}) != len(self.shifts):
            raise ValueError("shift ids must be unique")
        for s in self.stops:
            if s.priority not in (0, 1, 2, 3, 4):
                raise ValueError(f"stop {s.id}: priority must be 1 (A), 2 (B), 3 (C) or 4 (extra), got {s.priority!r}")
            if s.service_minutes < 0:
                raise ValueError(f"stop {s.id}: service minutes cannot be negative")
            for a, b in s.windows:
                if b < a:
                    raise ValueError(f"stop {s.id}: window ({a}, {b}) ends before it starts")
        for sh in self.shifts:
            if sh.end_min < sh.start_min:
                raise ValueError(f"shift {sh.id}: ends before it starts")

    def stop(self, stop_id: Any) -> Stop:
        for s in self.stops:
            if s.id == stop_id:
                return s
        raise KeyError(f"no stop {stop_id!r}")

    def shift(self, shift_id: Any) -> Shift:
        for s in self.shifts:
            if s.id == shift_id:
                return s
        raise KeyError(f"no shift {shift_id!r}")

    def points(self) -> list[tuple[float, float]]:
        """Matrix points: each shift's start and end, then each stop, in that order."""
        pts: list[tuple[float, float]] = []
        for sh in self.shifts:
            pts += [tuple(sh.start), tuple(sh.end_point)]
        pts += [(s.lat, s.lon) for s in self.stops]
        return pts
