"""Saved rotations: a draft plan with one slot per visit (save), listed and read back, a slot moved by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.changes import Changes
from core.rotation.model import Rotation
from core.storage import writes
from core.storage.database import Store


def save_rotation(store: Store, rotation: Rotation) -> tuple[int, Changes]:
    """Write the plan (status draft) and one slot per visit (day, order) in one logged transaction.

    The solved arrival times are kept in the plan's params ("arrivals": day → {account id: "HH:MM"}) so
    applying the plan books the visits at the times the solve found. Returns (plan id, Changes).
    """
    params = {**dict(rotation.params), "coverage": rotation.coverage.as_dict(),
              "total_drive_minutes": round(rotation.total_drive_minutes, 1),
              "unplaced": [a for a, _, _ in rotation.unplaced], "workdays": list(rotation.workdays),
              "arrivals": {d.day.isoformat(): {str(s.account_id): s.arrive for s in d.stops}
                           for d in rotation.days if d.stops}}
    with store.atomic():
        plan_id = writes.insert(store, "rotation_plans", {
            "rep_id": rotation.rep_id, "start_date": rotation.start.isoformat(), "weeks": rotation.weeks,
            "params": json.dumps(params, separators=(",", ":")), "status": "draft"})
        slots = [{"plan_id": plan_id, "account_id": s.account_id, "day": d.day.isoformat(), "seq": i + 1}
                 for d in rotation.days for i, s in enumerate(d.stops)]
        slot_ids = writes.insert_many(store, "rotation_slots", slots)
    changes = Changes.of("rotation_plans", [plan_id], "rotation saved").merge(Changes.of("rotation_slots", slot_ids))
    return plan_id, changes


@dataclass(frozen=True)
class SavedPlan:
    """A saved rotation as stored: its rep, first Monday, weeks, status (draft or applied) and params."""

    id: int
    rep_id: int
    start: date
    weeks: int
    status: str
    params: dict[str, Any]
    slots: int = 0

    @property
    def end(self) -> date:
        from datetime import timedelta

        return self.start + timedelta(weeks=self.weeks) - timedelta(days=1)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rep_id": self.rep_id, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "weeks": self.weeks, "status": self.status, "slots": self.slots}


def _plan(row) -> SavedPlan:
    try:
        params = json.loads(row["params"] or "{}")
    except ValueError:
        params = {}
    return SavedPlan(row["id"], row["rep_id"], date.fromisoformat(row["start_date"][:10]), row["weeks"],
                     row["status"], params, row["slots"] if "slots" in row.keys() else 0)


_PLAN_SQL = ("SELECT p.*, (SELECT count(*) FROM rotation_slots s WHERE s.plan_id = p.id AND s.deleted_at IS NULL) "
             "AS slots FROM rotation_plans p WHERE p.deleted_at IS NULL")


def get_plan(store: Store, plan_id: int) -> SavedPlan:
    """The saved plan; raises KeyError naming the id when there is none."""
    row = store.conn.execute(_PLAN_SQL + " AND p.id = ?", (plan_id,)).fetchone()
    if row is None:
        raise KeyError(f"rotation plan {plan_id} does not exist")
    return _plan(row)


def list_plans(store: Store, rep_id: int | None = None) -> list[SavedPlan]:
    """Saved plans, newest first (one rep's when rep_id is given)."""
    sql, args = _PLAN_SQL, ()
    if rep_id is not None:
        sql, args = sql + " AND p.rep_id = ?", (rep_id,)
    return [_plan(r) for r in store.conn.execute(sql + " ORDER BY p.id DESC", args)]


# What rotation code needs of a slot's or a visit's account, from the one account read service.
ACCOUNT_FIELDS = ("name", "tier", "visit_minutes", "allowed_weekdays", "opening_hours", "lat", "lon")


def plan_slots(store: Store, plan_id: int) -> list[dict[str, Any]]:
    """The plan's live slots in day and visit order, with the account's name, tier and visit minutes."""
    from core.account_value import with_account_fields

    return with_account_fields(store, store.conn.execute(
        "SELECT id, account_id, day, seq FROM rotation_slots WHERE plan_id = ? AND deleted_at IS NULL "
        "ORDER BY day, seq, id", (plan_id,)), ACCOUNT_FIELDS)


def move_slot(store: Store, plan_id: int, account_id: int, from_day: date, to_day: date) -> Changes:
    """Edit a draft by hand: move an account's visit from one day of the plan to another (last stop that day).

    Applying the plan again then moves the booked visit too. Raises ValueError with the reason.
    """
    plan = get_plan(store, plan_id)
    if not plan.start <= to_day <= plan.end:
        raise ValueError(f"to: {to_day} is outside rotation plan {plan_id} ({plan.start} to {plan.end})")
    row = store.conn.execute(
        "SELECT id FROM rotation_slots WHERE plan_id = ? AND account_id = ? AND day = ? AND deleted_at IS NULL",
        (plan_id, account_id, from_day.isoformat())).fetchone()
    if row is None:
        raise ValueError(f"from: account {account_id} has no visit on {from_day} in rotation plan {plan_id}")
    seq = store.scalar("SELECT coalesce(max(seq), 0) + 1 FROM rotation_slots WHERE plan_id = ? AND day = ? "
                       "AND deleted_at IS NULL", (plan_id, to_day.isoformat()))
    with store.atomic():
        writes.update(store, "rotation_slots", row["id"], {"day": to_day.isoformat(), "seq": seq})
    return Changes.of("rotation_slots", [row["id"]], f"visit moved to {to_day:%a %d %b}")
