"""Missed visits: move each to the next working day with room (pure), and re-book a rep's recent misses (writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Mapping, Sequence

from core import defaults
from core.account_value import with_account_fields
from core.changes import Changes
from core.clock import utc_text
from core.rotation import calendar
from core.rotation.model import day_minutes, minutes_of
from core.storage import writes
from core.storage.database import Store

@dataclass(frozen=True)
class PlannedVisit:
    """A visit as roll-forward sees it: which account, on which day, how long, how important (lower = sooner)."""

    account_id: int
    day: date
    minutes: float
    priority: int = 2
    visit_id: int | None = None


def roll_forward(missed: Sequence[PlannedVisit], booked_minutes: Mapping[date, float], candidates: Sequence[date],
                 minutes_per_day: float, allowed: Callable[[int, date], bool] | None = None
                 ) -> list[tuple[PlannedVisit, date | None]]:
    """Move each missed visit to the first candidate day after it that still has room (and is allowed).

    Most important and oldest first; returns (visit, new day or None when no day has room).
    """
    load = {d: float(booked_minutes.get(d, 0.0)) for d in candidates}
    out = []
    for v in sorted(missed, key=lambda v: (v.priority, v.day, v.account_id)):
        target = None
        for d in sorted(candidates):
            if d <= v.day or (allowed is not None and not allowed(v.account_id, d)):
                continue
            if load[d] + v.minutes <= minutes_per_day + 1e-9:
                target = d
                load[d] += v.minutes
                break
        out.append((v, target))
    return out


def roll_forward_missed(store: Store, rep_id: int, today: date, horizon_days: int = 14,
                        lookback_days: int = 28) -> tuple[list[tuple[int, date | None]], Changes]:
    """Re-book the rep's recently missed visits (not yet re-booked) into the next working days with room.

    Writes one new planned visit per moved visit (the missed one stays as history) in one transaction.
    Returns ([(account id, new day or None)], Changes).
    """
    from core.reps import get_rep

    rep = get_rep(store, rep_id)
    since = (today - timedelta(days=lookback_days)).isoformat()
    rows = with_account_fields(store, store.conn.execute(
        "SELECT id, account_id, planned_start, planned_minutes FROM visits WHERE deleted_at IS NULL AND rep_id = ? "
        "AND status = 'missed' AND planned_start >= ? AND planned_start < ? ORDER BY planned_start",
        (rep_id, since, (today + timedelta(days=1)).isoformat())), ("tier", "allowed_weekdays", "opening_hours"))
    start = today + timedelta(days=1)
    days = [d for d in (start + timedelta(days=k) for k in range(horizon_days)) if d.weekday() < 5]
    off = set(calendar.holidays_between(start, start + timedelta(days=horizon_days)))
    off |= {date.fromisoformat(r[0][:10]) for r in store.conn.execute(
        "SELECT day FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL)", (rep_id,))}
    days = [d for d in days if d not in off]
    booked: dict[date, float] = {}
    already: set[int] = set()
    for r in store.conn.execute(
            "SELECT account_id, planned_start, planned_minutes FROM visits WHERE deleted_at IS NULL AND rep_id = ? "
            "AND status = 'planned' AND planned_start >= ?", (rep_id, start.isoformat())):
        d = date.fromisoformat(r["planned_start"][:10])
        booked[d] = booked.get(d, 0.0) + float(r["planned_minutes"] or 0)
        already.add(r["account_id"])
    weekdays = {r["account_id"]: calendar.account_weekdays(r["allowed_weekdays"], r["opening_hours"]) for r in rows}
    missed = [PlannedVisit(r["account_id"], date.fromisoformat(r["planned_start"][:10]),
                           float(r["planned_minutes"] or 45), {"A": 1, "B": 2}.get(r["tier"], 3), r["id"])
              for r in rows if r["account_id"] not in already]
    # Only the latest miss of an account is re-booked.
    latest: dict[int, PlannedVisit] = {}
    for v in missed:
        latest[v.account_id] = v
    moves = roll_forward(list(latest.values()), booked, days, day_minutes(rep) * 0.85,
                         lambda acc, d: calendar.WEEKDAYS[d.weekday()] in weekdays.get(acc, calendar.WORK_WEEKDAYS))
    start_minute = minutes_of(rep.get("work_start"), defaults.WORK_START)
    new_rows = []
    for v, d in moves:
        if d is None:
            continue
        local = f"{d.isoformat()}T{start_minute // 60:02d}:{start_minute % 60:02d}:00"
        new_rows.append({"account_id": v.account_id, "rep_id": rep_id, "planned_start": _utc(local, rep),
                         "planned_minutes": int(v.minutes), "time_zone": rep.get("time_zone") or defaults.TIME_ZONE,
                         "status": "planned", "notes": f"rolled forward from {v.day.isoformat()}"})
    ids: list[int] = []
    with store.atomic():
        ids = writes.insert_many(store, "visits", new_rows)
    changes = Changes.of("visits", ids, f"{len(ids)} missed visits rolled forward") if ids else Changes()
    return [(v.account_id, d) for v, d in moves], changes


def _utc(local_iso: str, rep: Mapping[str, Any]) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(rep.get("time_zone") or defaults.TIME_ZONE)
    return utc_text(datetime.fromisoformat(local_iso).replace(tzinfo=tz))


