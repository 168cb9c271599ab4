"""The value solve() returns: routes with times, what could not be served and why, and the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def clock(minutes: float) -> str:
    """Minutes on the problem axis as 'HH:MM' (with '+1d' past midnight of the first day)."""
    m = int(round(minutes))
    day, rest = divmod(m, 1440)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text} +{day}d"


@dataclass(frozen=True)
class Visit:
    """One stop on a route: when the rep arrives, starts, leaves, and the leg that led there."""

    stop_id: Any
    arrival: float
    start: float
    departure: float
    wait_minutes: float
    drive_minutes: float
    distance: float
    late_minutes: float = 0.0
    closed: bool = False
    locked: bool = False


@dataclass(frozen=True)
class Route:
    """What one shift (one vehicle of it) does: leave, visits in order, lunch, come back."""

    shift_id: Any
    visits: tuple[Visit, ...]
    leave: float
    back: float
    drive_minutes: float
    distance: float
    return_drive_minutes: float
    return_distance: float
    break_start: float | None = None
    break_end: float | None = None
    vehicle: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def stop_ids(self) -> list[Any]:
        return [v.stop_id for v in self.visits]

    @property
    def feasible(self) -> bool:
        return not self.warnings


@dataclass(frozen=True)
class Unserved:
    stop_id: Any
    reason: str


@dataclass(frozen=True)
class RoutingResult:
    """A plan: always present, even when some stops could not fit (they are in `unserved` with a reason)."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    cost: float
    runtime: float = 0.0
    iterations: int = 0
    stopped_by: str = "limit"
    engine: str = "pyvrp"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def feasible(self) -> bool:
        return all(r.feasible for r in self.routes)

    @property
    def distance(self) -> float:
        return sum(r.distance for r in self.routes)

    @property
    def drive_minutes(self) -> float:
        return sum(r.drive_minutes for r in self.routes)

    @property
    def served(self) -> list[Any]:
        return [v.stop_id for r in self.routes for v in r.visits]

    def route_for(self, shift_id: Any) -> Route | None:
        for r in self.routes:
            if r.shift_id == shift_id:
                return r
        return None

    def summary(self) -> str:
        """A few plain lines: totals, then one line per route, then what was left out."""
        lines = [f"{len(self.served)} stops on {sum(1 for r in self.routes if r.visits)} routes, "
                 f"{self.drive_minutes:.0f} min driving, distance {self.distance:,.1f}, "
                 f"{len(self.unserved)} unserved ({self.engine}, {self.runtime:.1f} s, stopped by {self.stopped_by})"]
        for r in self.routes:
            if not r.visits:
                continue
            lunch = f", lunch {clock(r.break_start % 1440)}" if r.break_start is not None else ""
            lines.append(f"  {r.shift_id}: {len(r.visits)} stops, {clock(r.leave % 1440)}–{clock(r.back % 1440)}, "
                         f"{r.drive_minutes:.0f} min driving{lunch}" + (f"  ! {'; '.join(r.warnings)}" if r.warnings else ""))
        for u in self.unserved:
            lines.append(f"  not served: {u.stop_id} — {u.reason}")
        return "\n".join(lines)
