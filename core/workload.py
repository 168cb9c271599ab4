"""Workload and capacity: how many hours a year an account costs a given rep, and how many hours a rep has.

workload(account, rep) = visits per year x (visit minutes + travel per visit), where travel per visit
is a share of the drive from the rep's home: a day's drive out and back is shared by about
VISITS_PER_TRIP visits, plus a short hop between neighbouring stops. A plain 2 x distance per visit
would charge every visit a full round trip, which no rep drives.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from core import defaults
from core import visit_frequency
from core.geo import CIRCUITY, EARTH_RADIUS_M

VISITS_PER_TRIP = 4
HOP_MINUTES = 10.0
SPEED_KMH = defaults.SPEED_KMH


def visits_per_year(account: Mapping[str, Any]) -> int:
    """Visits a year from the account's frequency (its tier sets that in the demo)."""
    if (account.get("status") or "active") == "inactive":
        return 0
    return visit_frequency.visits_per_year(account.get("visit_frequency"))


def road_km_matrix(lats_a, lons_a, lats_b, lons_b) -> np.ndarray:
    """Offline road distance estimate (great circle x circuity) between two point sets, in km."""
    la = np.radians(np.asarray(lats_a, dtype=float))[:, None]
    lo_a = np.radians(np.asarray(lons_a, dtype=float))[:, None]
    lb = np.radians(np.asarray(lats_b, dtype=float))[None, :]
    lo_b = np.radians(np.asarray(lons_b, dtype=float))[None, :]
    h = np.sin((lb - la) / 2) ** 2 + np.cos(la) * np.cos(lb) * np.sin((lo_b - lo_a) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * CIRCUITY / 1000


def travel_minutes_per_visit(road_km) -> Any:
    """Travel charged to one visit for an account this many road km from the rep's home."""
    return HOP_MINUTES + 2 * (np.asarray(road_km) / SPEED_KMH * 60) / VISITS_PER_TRIP


def capacity_hours(rep: Mapping[str, Any]) -> float:
    """Hours a rep has in a year: hours per week x working weeks."""
    return float(rep.get("capacity_hours_week") or 0) * float(rep.get("working_weeks") or 0)


def workload_matrix(accounts: list[Mapping[str, Any]], reps: list[Mapping[str, Any]]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(workload minutes per year, travel minutes per year), each accounts x reps.

    Accounts without a location (or at 0°, 0°) are charged the visit time only (no travel can be estimated).
    """
    n, m = len(accounts), len(reps)
    if n == 0 or m == 0:
        return np.zeros((n, m)), np.zeros((n, m))
    vpy = np.array([visits_per_year(a) for a in accounts], dtype=float)
    minutes = np.array([float(a.get("visit_minutes") or 0) for a in accounts])
    lat = np.array([a["lat"] if a.get("lat") is not None else np.nan for a in accounts], dtype=float)
    lon = np.array([a["lon"] if a.get("lon") is not None else np.nan for a in accounts], dtype=float)
    hlat = np.array([r["home_lat"] if r.get("home_lat") is not None else np.nan for r in reps], dtype=float)
    hlon = np.array([r["home_lon"] if r.get("home_lon") is not None else np.nan for r in reps], dtype=float)
    # 0°, 0° is a failed geocode, not a place: charge no travel rather than a trip to the Atlantic.
    null_island = (np.abs(lat) < 0.5) & (np.abs(lon) < 0.5)
    lat = np.where(null_island, np.nan, lat)
    lon = np.where(null_island, np.nan, lon)
    km = road_km_matrix(lat, lon, hlat, hlon)
    travel = np.where(np.isnan(km), 0.0, travel_minutes_per_visit(np.nan_to_num(km))) * vpy[:, None]
    work = vpy[:, None] * minutes[:, None] + travel
    return work, travel


def account_hours(account: Mapping[str, Any], rep: Mapping[str, Any] | None) -> float:
    """Workload hours a year of one account for one rep (visit time only when there is no rep or location)."""
    if rep is None:
        return visits_per_year(account) * float(account.get("visit_minutes") or 0) / 60
    work, _travel = workload_matrix([account], [rep])
    return float(work[0, 0]) / 60
