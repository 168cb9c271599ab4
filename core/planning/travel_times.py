"""Travel times kept in the database per routing provider, so a re-plan of a known week starts warm.

Only a routing service's answers are stored: the offline estimate is computed faster than it could
be read back. Reads and writes go straight to the cache table (like geocode_cache): derived data,
not change-logged, never synced.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from core import defaults
from core.clock import utc_text
from core.routing.matrix import (CachedMatrix, Matrix, OsrmMatrix, RoutingServiceError, provider_for, provider_key,
                                 rounded)
from core.storage.database import Store

Point = tuple[float, float]


def _key(p: Point) -> str:
    return f"{p[0]:.6f},{p[1]:.6f}"


def stored(store: Store, provider: str, points: Sequence[Point]) -> Matrix | None:
    """The matrix over these points from the database when every leg is there, else None."""
    pts = rounded(points)
    keys = sorted({_key(p) for p in pts})
    if len(keys) < 2:
        return None
    marks = ",".join("?" * len(keys))
    legs = {(r[0], r[1]): (r[2], r[3]) for r in store.conn.execute(
        f"SELECT a, b, distance_m, minutes FROM travel_times WHERE provider = ? AND a IN ({marks}) AND b IN ({marks})",
        [provider, *keys, *keys])}
    names = [_key(p) for p in pts]
    if any((a, b) not in legs for a in names for b in names if a != b):
        return None
    dist = tuple(tuple(0.0 if a == b else legs[(a, b)][0] for b in names) for a in names)
    dur = tuple(tuple(0.0 if a == b else legs[(a, b)][1] for b in names) for a in names)
    return Matrix(dist, dur)


def keep(store: Store, provider: str, points: Sequence[Point], mx: Matrix) -> None:
    """Store every leg of the matrix (replacing older answers for the same legs)."""
    names = [_key(p) for p in rounded(points)]
    now = utc_text(datetime.now(timezone.utc))
    rows = [(provider, a, b, mx.distance[i][j], mx.duration[i][j], now)
            for i, a in enumerate(names) for j, b in enumerate(names) if a != b]
    with store.atomic():
        store.conn.executemany(
            "INSERT OR REPLACE INTO travel_times (provider, a, b, distance_m, minutes, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)


def matrix_for(store: Store, points: Sequence[Point], routing_url: str = "", kmh: float = defaults.SPEED_KMH) -> Matrix:
    """Travel times over the points: memory, then the database, then the provider (whose answer is stored)."""
    cache = provider_for(routing_url, kmh)
    if not routing_url or not isinstance(cache, CachedMatrix) or not isinstance(cache.inner, OsrmMatrix):
        return cache.matrix(points)
    known = cache.known(points)
    if known is not None:
        return known
    key = provider_key(routing_url, kmh)
    from_db = stored(store, key, points)
    if from_db is not None:
        cache.remember(points, from_db)
        return from_db
    try:
        fresh = cache.inner.fetch(rounded(points))
    except RoutingServiceError:
        return cache.matrix(points)  # the offline estimate stands in; it is not kept under the service's name
    cache.remember(points, fresh)
    keep(store, key, points, fresh)
    return fresh
