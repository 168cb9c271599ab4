"""Applying a saved rotation: dated visits on the rep's calendar, kept current after misses and time off.

A saved rotation stays a draft (rotation_plans + rotation_slots). Applying it books one planned visit per
slot from today on (visits.rotation_plan_id = the plan). Applying again compares the plan with its booked
future visits and changes only what differs, so applying twice writes nothing the second time, and an edit
moves, adds or removes only that plan's future planned visits (never a checked-in, done or missed one, and
never another plan's). Re-planning rolls missed visits forward and moves visits off days that became time off.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from core import defaults
from core.changes import Changes
from core.rotation import calendar
from core.rotation.missed import PlannedVisit, _utc, roll_forward
from core.rotation.model import day_minutes, minutes_of
from core.rotation.problem import drive_matrix
from core.account_value import with_account_fields
from core.rotation.saved import ACCOUNT_FIELDS, SavedPlan, get_plan, list_plans, plan_slots
from core.storage import writes
from core.storage.database import Store

# A day counts as having room below this share of its hours: driving to an added stop is not known yet.
ROOM = 0.85
TIERS = ("A", "B", "C", "none")


@dataclass(frozen=True)
class ApplyResult:
    """What applying (or re-planning) a rotation did to the rep's calendar."""

    plan_id: int
    added: int = 0
    moved: int = 0
    removed: int = 0
    kept: int = 0
    rolled_forward: int = 0
    moved_off_days: int = 0
    not_rebooked: tuple[tuple[int, str, str], ...] = ()  # (account id, name, reason)
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        parts = [f"Rotation plan {self.plan_id}: {self.added} visits booked, {self.moved} re-timed or moved, "
                 f"{self.removed} removed, {self.kept} unchanged"]
        if self.rolled_forward:
            parts.append(f"{self.rolled_forward} missed visits rolled forward")
        if self.moved_off_days:
            parts.append(f"{self.moved_off_days} visits moved off days off")
        if self.not_rebooked:
            parts.append(f"{len(self.not_rebooked)} could not be re-booked (no day with room left in the cycle)")
        return "; ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "added": self.added, "moved": self.moved, "removed": self.removed,
                "kept": self.kept, "rolled_forward": self.rolled_forward, "moved_off_days": self.moved_off_days,
                "not_rebooked": [{"account_id": a, "name": n, "reason": r} for a, n, r in self.not_rebooked]}


@dataclass(frozen=True)
class TierCoverage:
    """One tier's visits of an applied rotation: done, due by today (done + missed + still open), planned."""

    tier: str
    done: int
    due: int
    missed: int
    planned: int

    @property
    def share(self) -> float | None:
        return self.done / self.due if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return {"tier": self.tier, "done": self.done, "due": self.due, "missed": self.missed, "planned": self.planned}


def _rep(store: Store, rep_id: int) -> Mapping[str, Any]:
    from core.reps import get_rep

    return get_rep(store, rep_id)


def _tz(rep: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(rep.get("time_zone") or defaults.TIME_ZONE)


def _local(utc_iso: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(tz)


def rep_today(rep: Mapping[str, Any]) -> date:
    """Today in the rep's time zone."""
    return datetime.now(timezone.utc).astimezone(_tz(rep)).date()


def days_off(store: Store, rep_id: int, start: date, end: date) -> dict[date, str]:
    """Holidays and the rep's (or everyone's) time off in [start, end]."""
    off = dict(calendar.holidays_between(start, end))
    for r in store.conn.execute(
            "SELECT day, reason FROM time_off WHERE deleted_at IS NULL AND (rep_id = ? OR rep_id IS NULL) "
            "AND day >= ? AND day <= ?", (rep_id, start.isoformat(), end.isoformat() + "~")):
        try:
            off[date.fromisoformat(r["day"][:10])] = r["reason"] or "time off"
        except ValueError:
            continue
    return off


def _workdays(plan: SavedPlan) -> tuple[str, ...]:
    return calendar.ordered_weekdays(plan.params.get("workdays") or calendar.WORK_WEEKDAYS)


def _day_times(rep: Mapping[str, Any], plan: SavedPlan, day: str, slots: Sequence[Mapping[str, Any]]
               ) -> list[tuple[str, int]]:
    """(UTC planned start, minutes) per slot of one day: the solved times when every slot has one, else the
    stops timed in order from the rep's start time with offline drive legs from home."""
    stored = plan.params.get("arrivals", {}).get(day, {})
    clocks = [stored.get(str(s["account_id"])) if isinstance(stored, dict) else None for s in slots]
    if not all(clocks):
        points = [(rep["home_lat"], rep["home_lon"]), *[(s["lat"], s["lon"]) for s in slots]]
        legs = drive_matrix(points) if None not in points[0] else None
        t, prev, clocks = float(minutes_of(rep.get("work_start"), defaults.WORK_START)), 0, []
        for k, s in enumerate(slots, 1):
            t += float(legs[prev, k]) if legs is not None else 0.0
            clocks.append(f"{int(t) // 60:02d}:{int(t) % 60:02d}")
            t += float(s["visit_minutes"] or 0)
            prev = k
    return [(_utc(f"{day}T{c}:00", rep), int(s["visit_minutes"] or 0)) for c, s in zip(clocks, slots)]


def _booked(store: Store, plan_id: int, tz: ZoneInfo, since: date) -> list[dict[str, Any]]:
    """The plan's live visits whose local day is on or after `since`, with their local day."""
    rows = store.conn.execute(
        "SELECT id, account_id, planned_start, planned_minutes, status, check_in_at, notes FROM visits "
        "WHERE deleted_at IS NULL AND rotation_plan_id = ?", (plan_id,)).fetchall()
    out = []
    for r in rows:
        if not r["planned_start"]:
            continue
        d = dict(r)
        d["day"] = _local(r["planned_start"], tz).date()
        if d["day"] >= since:
            out.append(d)
    return out


def _load(slots: Sequence[Mapping[str, Any]]) -> dict[date, float]:
    load: dict[date, float] = {}
    for s in slots:
        d = date.fromisoformat(s["day"])
        load[d] = load.get(d, 0.0) + float(s["visit_minutes"] or 0)
    return load


def _rebook(store: Store, plan: SavedPlan, rep: Mapping[str, Any], today: date,
            moving: Sequence[tuple[PlannedVisit, Mapping[str, Any]]], slots: list[dict[str, Any]],
            off: Mapping[date, str]) -> tuple[list[tuple[PlannedVisit, date | None]], list[int]]:
    """Place visits on the plan's open future days with room (on days their account allows); writes slots.

    `moving` pairs each visit with its slot row (to update) or an account row (a new slot is added).
    Returns the moves and the touched slot ids.
    """
    workdays = _workdays(plan)
    candidates = [plan.start + timedelta(days=k) for k in range((plan.end - plan.start).days + 1)]
    candidates = [d for d in candidates if d >= today and d not in off
                  and calendar.WEEKDAYS[d.weekday()] in workdays]
    taken = {(s["account_id"], date.fromisoformat(s["day"])) for s in slots}
    allowed_days = {}
    for _, row in moving:
        allowed_days[row["account_id"]] = calendar.account_weekdays(row["allowed_weekdays"], row["opening_hours"],
                                                                    workdays)

    def allowed(account_id: int, d: date) -> bool:
        return calendar.WEEKDAYS[d.weekday()] in allowed_days[account_id] and (account_id, d) not in taken

    live = [s for s in slots if date.fromisoformat(s["day"]) not in off]
    moves = roll_forward([v for v, _ in moving], _load(live), candidates, day_minutes(rep) * ROOM, allowed)
    row_of = {id(v): row for v, row in moving}
    touched = []
    for v, d in moves:
        if d is None:
            continue
        row = row_of[id(v)]
        seq = 1 + max((s["seq"] or 0 for s in slots if s["day"] == d.isoformat()), default=0)
        if "seq" in row:  # an existing slot moves
            writes.update(store, "rotation_slots", row["id"], {"day": d.isoformat(), "seq": seq})
            sid = row["id"]
            for s in slots:
                if s["id"] == sid:
                    s["day"], s["seq"] = d.isoformat(), seq
        else:
            sid = writes.insert(store, "rotation_slots", {"plan_id": plan.id, "account_id": v.account_id,
                                                          "day": d.isoformat(), "seq": seq})
            slots.append({**row, "id": sid, "day": d.isoformat(), "seq": seq})
        taken.add((v.account_id, d))
        touched.append(sid)
    return moves, touched


def apply_rotation(store: Store, plan_id: int, today: date | None = None, *, _extra: Mapping[str, Any] | None = None
                   ) -> ApplyResult:
    """Book the plan's visits from today on as planned visits; apply again to bring them in line with the plan.

    Slots on days that became time off are first moved to the next open day of the cycle with room. Only the
    plan's own future planned visits that nobody has checked in to are moved, re-timed or removed. One logged
    transaction; returns what changed and the Changes for the views.
    """
    plan = get_plan(store, plan_id)
    rep = _rep(store, plan.rep_id)
    tz = _tz(rep)
    today = today or rep_today(rep)
    off = days_off(store, plan.rep_id, plan.start, plan.end)
    extra = dict(_extra or {})
    with store.atomic():
        slots = plan_slots(store, plan_id)
        # Slots on days now off (time off added since the plan was saved) move first.
        stranded = [(PlannedVisit(s["account_id"], date.fromisoformat(s["day"]), float(s["visit_minutes"] or 0),
                                  {"A": 1, "B": 2}.get(s["tier"], 3)), s)
                    for s in slots if date.fromisoformat(s["day"]) in off and date.fromisoformat(s["day"]) >= today]
        moved_slots: list[int] = []
        not_rebooked = list(extra.get("not_rebooked", ()))
        moved_off = 0
        if stranded:
            moves, moved_slots = _rebook(store, plan, rep, today, stranded, slots, off)
            moved_off = sum(1 for _, d in moves if d is not None)
            names = {s["account_id"]: s["name"] for _, s in stranded}
            not_rebooked += [(v.account_id, names[v.account_id], f"{v.day}: {off[v.day]}, no open day with room "
                              "left in the cycle") for v, d in moves if d is None]
        by_day: dict[str, list[dict[str, Any]]] = {}
        for s in slots:
            d = date.fromisoformat(s["day"])
            if d >= today and d not in off:
                by_day.setdefault(s["day"], []).append(s)
        wanted: dict[tuple[int, date], tuple[str, int]] = {}
        for day, day_slots in by_day.items():
            day_slots.sort(key=lambda s: (s["seq"] or 0, s["id"]))
            for s, timing in zip(day_slots, _day_times(rep, plan, day, day_slots)):
                wanted[(s["account_id"], date.fromisoformat(day))] = timing
        booked = _booked(store, plan_id, tz, today)
        fixed = {(v["account_id"], v["day"]) for v in booked if v["status"] != "planned" or v["check_in_at"]}
        open_visits = [v for v in booked if v["status"] == "planned" and not v["check_in_at"]]
        added, updated, removed, kept = [], [], [], 0
        seen: set[tuple[int, date]] = set()
        for v in open_visits:
            key = (v["account_id"], v["day"])
            if key not in wanted or key in seen:
                writes.delete(store, "visits", v["id"])
                removed.append(v["id"])
                continue
            seen.add(key)
            start, minutes = wanted[key]
            if v["planned_start"] != start or (v["planned_minutes"] or 0) != minutes:
                writes.update(store, "visits", v["id"], {"planned_start": start, "planned_minutes": minutes})
                updated.append(v["id"])
            else:
                kept += 1
        tz_name = rep.get("time_zone") or defaults.TIME_ZONE
        rows = [{"account_id": acc, "rep_id": plan.rep_id, "planned_start": start, "planned_minutes": minutes,
                 "time_zone": tz_name, "status": "planned", "rotation_plan_id": plan_id}
                for (acc, _), (start, minutes) in sorted(wanted.items(), key=lambda kv: kv[1][0])
                if (acc, _) not in seen and (acc, _) not in fixed]
        added = writes.insert_many(store, "visits", rows) if rows else []
        plan_changed = plan.status != "applied"
        if plan_changed:
            writes.update(store, "rotation_plans", plan_id, {"status": "applied"})
    changes = Changes()
    touched_visits = added + updated + removed + list(extra.get("visit_ids", ()))
    if touched_visits:
        changes = changes.merge(Changes.of("visits", touched_visits))
    slot_ids = moved_slots + list(extra.get("slot_ids", ()))
    if slot_ids:
        changes = changes.merge(Changes.of("rotation_slots", slot_ids))
    if plan_changed:
        changes = changes.merge(Changes.of("rotation_plans", [plan_id]))
    result = ApplyResult(plan_id, len(added), len(updated), len(removed), kept, int(extra.get("rolled", 0)),
                         moved_off, tuple(not_rebooked))
    return replace(result, changes=Changes(changes.rows, result.summary()))


def replan(store: Store, plan_id: int, today: date | None = None) -> ApplyResult:
    """Keep an applied rotation current: roll its missed visits forward, move visits off new time off, re-apply.

    A missed visit (status 'missed', not yet rolled forward) gets a new slot and a planned visit on the next
    open day of the cycle that its account allows and that still has room, most important tier first; the
    missed visit stays as history and the new one says "rolled forward from DATE".
    """
    plan = get_plan(store, plan_id)
    rep = _rep(store, plan.rep_id)
    tz = _tz(rep)
    today = today or rep_today(rep)
    off = days_off(store, plan.rep_id, plan.start, plan.end)
    visit_ids, slot_ids, not_rebooked = [], [], []
    rolled = 0
    with store.atomic():
        rows = with_account_fields(store, store.conn.execute(
            "SELECT id, account_id, planned_start, planned_minutes FROM visits "
            "WHERE deleted_at IS NULL AND rotation_plan_id = ? AND status = 'missed' ORDER BY planned_start",
            (plan_id,)), ACCOUNT_FIELDS)
        notes = {r[0] for r in store.conn.execute(
            "SELECT notes FROM visits WHERE deleted_at IS NULL AND rotation_plan_id = ? AND notes LIKE "
            "'rolled forward from %'", (plan_id,))}
        missed = []
        for r in rows:
            day = _local(r["planned_start"], tz).date()
            if f"rolled forward from {day.isoformat()}" in notes:
                continue
            missed.append((PlannedVisit(r["account_id"], day, float(r["visit_minutes"] or r["planned_minutes"] or 0),
                                        {"A": 1, "B": 2}.get(r["tier"], 3), r["id"]), dict(r)))
        if missed:
            slots = plan_slots(store, plan_id)
            before = {s["id"] for s in slots}
            moves, slot_ids = _rebook(store, plan, rep, today, missed, slots, off)
            start = minutes_of(rep.get("work_start"), defaults.WORK_START)
            new = []
            for v, d in moves:
                if d is None:
                    not_rebooked.append((v.account_id, next(r["name"] for _, r in missed if r["account_id"] ==
                                         v.account_id), f"missed on {v.day}: no open day with room left in the cycle"))
                    continue
                # Booked here (with the note); the apply below times the day and keeps it.
                new.append({"account_id": v.account_id, "rep_id": plan.rep_id, "rotation_plan_id": plan_id,
                            "planned_start": _utc(f"{d.isoformat()}T{start // 60:02d}:{start % 60:02d}:00", rep),
                            "planned_minutes": int(v.minutes), "time_zone": rep.get("time_zone") or defaults.TIME_ZONE,
                            "status": "planned", "notes": f"rolled forward from {v.day.isoformat()}"})
            visit_ids = writes.insert_many(store, "visits", new) if new else []
            rolled = len(visit_ids)
            slot_ids = [s for s in slot_ids if s not in before] + [s for s in slot_ids if s in before]
        result = apply_rotation(store, plan_id, today, _extra={"visit_ids": visit_ids, "slot_ids": slot_ids,
                                                               "rolled": rolled, "not_rebooked": not_rebooked})
    return result


def add_time_off(store: Store, rep_id: int, day: date, reason: str = "time off",
                 today: date | None = None) -> tuple[list[ApplyResult], Changes]:
    """Record a day off for the rep and re-plan each of the rep's applied rotations that covers that day.

    The visits booked on that day move to the next open day of the cycle with room; one transaction.
    """
    rep = _rep(store, rep_id)
    reason = (reason or "").strip() or "time off"
    exists = store.scalar("SELECT id FROM time_off WHERE deleted_at IS NULL AND rep_id = ? AND day = ?",
                          (rep_id, day.isoformat()))
    results = []
    with store.atomic():
        changes = Changes()
        if exists is None:
            tid = writes.insert(store, "time_off", {"rep_id": rep_id, "day": day.isoformat(), "reason": reason})
            changes = Changes.of("time_off", [tid], f"{rep['name']}: {day:%a %d %b} off ({reason})")
        for plan in list_plans(store, rep_id):
            if plan.status == "applied" and plan.start <= day <= plan.end:
                result = replan(store, plan.id, today)
                results.append(result)
                changes = changes.merge(result.changes)
    return results, changes


def tier_coverage(store: Store, plan_id: int, today: date | None = None) -> list[TierCoverage]:
    """Per account tier (A, B, C, none): visits done against visits due by today, for an applied rotation.

    Due = the plan's visits dated up to today plus any done early; a missed visit that was rolled forward
    counts once, through its replacement. Cancelled visits are not due.
    """
    plan = get_plan(store, plan_id)
    rep = _rep(store, plan.rep_id)
    tz = _tz(rep)
    today = today or rep_today(rep)
    rows = with_account_fields(store, store.conn.execute(
        "SELECT status, planned_start, notes, account_id FROM visits WHERE deleted_at IS NULL AND rotation_plan_id = ?",
        (plan_id,)), ("tier",))
    rolled = {(r["account_id"], r["notes"][len("rolled forward from "):][:10]) for r in rows
              if (r["notes"] or "").startswith("rolled forward from ")}
    figures = {t: [0, 0, 0, 0] for t in TIERS}  # done, due, missed, planned
    for r in rows:
        if r["status"] == "cancelled" or not r["planned_start"]:
            continue
        day = _local(r["planned_start"], tz).date()
        if r["status"] == "missed" and (r["account_id"], day.isoformat()) in rolled:
            continue
        f = figures[r["tier"] if r["tier"] in ("A", "B", "C") else "none"]
        f[3] += 1
        if r["status"] == "done":
            f[0] += 1
        if r["status"] == "missed":
            f[2] += 1
        if r["status"] == "done" or day <= today:
            f[1] += 1
    return [TierCoverage(t, *figures[t]) for t in TIERS if figures[t][3] or t != "none"]


def coverage_text(figures: Sequence[TierCoverage]) -> str:
    """'A 3/4 done · B 10/12 · C 0/5' (done / due by today), or a note that nothing is due yet."""
    parts = [f"{f.tier if f.tier != 'none' else 'no tier'} {f.done}/{f.due}" for f in figures if f.planned]
    if not parts:
        return "No visits booked from this rotation yet."
    missed = sum(f.missed for f in figures)
    text = "Visits done / due by today: " + " · ".join(parts)
    return text + (f" ({missed} missed)" if missed else "")
