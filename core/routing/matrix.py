"""Where travel times come from: offline great-circle estimates, planar distances, or an OSRM table service; cached."""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, Sequence

from core import defaults
from core.geo import CIRCUITY, haversine_m

Point = tuple[float, float]


@dataclass(frozen=True)
class Matrix:
    """Square matrices over the given points: distance (metres, or plane units) and duration (minutes)."""

    distance: tuple[tuple[float, ...], ...]
    duration: tuple[tuple[float, ...], ...]


class MatrixProvider(Protocol):
    def matrix(self, points: Sequence[Point]) -> Matrix: ...


@dataclass(frozen=True)
class GreatCircleMatrix:
    """Offline estimate: great-circle distance x a circuity factor, driven at an average speed."""

    circuity: float = CIRCUITY
    kmh: float = defaults.SPEED_KMH
    # Parking and walking in: every leg costs a few minutes however short.
    leg_minutes: float = 0.0

    def matrix(self, points: Sequence[Point]) -> Matrix:
        n = len(points)
        dist = [[0.0] * n for _ in range(n)]
        dur = [[0.0] * n for _ in range(n)]
        per_minute = self.kmh * 1000 / 60
        for i, (la, lo) in enumerate(points):
            for j in range(i + 1, n):
                d = haversine_m(la, lo, points[j][0], points[j][1]) * self.circuity
                t = d / per_minute + (self.leg_minutes if d > 0 else 0.0)
                dist[i][j] = dist[j][i] = d
                dur[i][j] = dur[j][i] = t
        return Matrix(tuple(map(tuple, dist)), tuple(map(tuple, dur)))


@dataclass(frozen=True)
class PlaneMatrix:
    """Euclidean distance on planar (x, y) points, travel time = distance (the Solomon convention)."""

    def matrix(self, points: Sequence[Point]) -> Matrix:
        rows = tuple(tuple(math.hypot(a[0] - b[0], a[1] - b[1]) for b in points) for a in points)
        return Matrix(rows, rows)


class RoutingServiceError(Exception):
    """The table service could not be reached or answered nonsense."""


@dataclass(frozen=True)
class OsrmMatrix:
    """An OSRM-compatible `/table/v1/driving/` service; falls back to the offline estimate when unreachable.

    fallback=None makes failures raise RoutingServiceError instead (for tests and diagnostics).
    """

    url: str
    timeout: float = 10.0
    fallback: MatrixProvider | None = GreatCircleMatrix()

    def matrix(self, points: Sequence[Point]) -> Matrix:
        try:
            return self._fetch(points)
        except RoutingServiceError:
            if self.fallback is None:
                raise
            return self.fallback.matrix(points)

    def fetch(self, points: Sequence[Point]) -> Matrix:
        """Ask the service (no fallback): raises RoutingServiceError when it cannot answer."""
        return self._fetch(points)

    def _fetch(self, points: Sequence[Point]) -> Matrix:
        if len(points) < 2:
            return GreatCircleMatrix().matrix(points)
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self.url.rstrip('/')}/table/v1/driving/{coords}?annotations=duration,distance"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise RoutingServiceError(f"routing service {self.url}: {exc}") from exc
        if data.get("code") != "Ok" or "durations" not in data:
            raise RoutingServiceError(f"routing service {self.url}: {data.get('message') or data.get('code')}")
        n = len(points)
        durations = data["durations"]
        distances = data.get("distances")
        offline = GreatCircleMatrix().matrix(points)
        dur = [[0.0] * n for _ in range(n)]
        dist = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                sec = durations[i][j]
                # OSRM answers null for unroutable pairs; the estimate is better than refusing to plan.
                dur[i][j] = offline.duration[i][j] if sec is None else sec / 60
                metres = distances[i][j] if distances else None
                dist[i][j] = offline.distance[i][j] if metres is None else metres
        return Matrix(tuple(map(tuple, dist)), tuple(map(tuple, dur)))


class CachedMatrix:
    """Remembers point-to-point legs in memory so re-solving after a hand edit costs no new lookups."""

    def __init__(self, inner: MatrixProvider, max_legs: int = 2_000_000) -> None:
        self.inner = inner
        self.max_legs = max_legs
        self._legs: OrderedDict[tuple[Point, Point], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def matrix(self, points: Sequence[Point]) -> Matrix:
        pts = rounded(points)
        known = self.known(pts)
        if known is not None:
            return known
        self.misses += 1
        fresh = self.inner.matrix(pts)
        self.remember(pts, fresh)
        return fresh

    def known(self, points: Sequence[Point]) -> Matrix | None:
        """The matrix over these points if every leg is already remembered, else None (no lookup made)."""
        pts = rounded(points)
        with self._lock:
            if not all((a, b) in self._legs for a in pts for b in pts if a != b):
                return None
            dist = tuple(tuple(0.0 if a == b else self._legs[(a, b)][0] for b in pts) for a in pts)
            dur = tuple(tuple(0.0 if a == b else self._legs[(a, b)][1] for b in pts) for a in pts)
        return Matrix(dist, dur)

    def remember(self, points: Sequence[Point], mx: Matrix) -> None:
        """Keep every leg of a matrix over these points (e.g. read back from the database)."""
        pts = rounded(points)
        with self._lock:
            for i, a in enumerate(pts):
                for j, b in enumerate(pts):
                    self._legs[(a, b)] = (mx.distance[i][j], mx.duration[i][j])
            while len(self._legs) > self.max_legs:
                self._legs.popitem(last=False)


def rounded(points: Sequence[Point]) -> list[Point]:
    """Points as cache keys: six decimals (about 10 cm), as accounts store them."""
    return [(round(p[0], 6), round(p[1], 6)) for p in points]


_shared: dict[str, CachedMatrix] = {}


def provider_key(routing_url: str = "", kmh: float = defaults.SPEED_KMH) -> str:
    """The name travel times are kept under: one per routing service (or offline speed)."""
    return f"osrm:{routing_url.rstrip('/')}" if routing_url else f"estimate:{kmh:g}"


def provider_for(routing_url: str = "", kmh: float = defaults.SPEED_KMH) -> MatrixProvider:
    """The matrix provider the app uses: the configured OSRM service, else the offline estimate; cached per URL."""
    key = f"{routing_url}|{kmh}"
    if key not in _shared:
        inner: MatrixProvider = OsrmMatrix(routing_url) if routing_url else GreatCircleMatrix(kmh=kmh)
        _shared[key] = CachedMatrix(inner)
    return _shared[key]
