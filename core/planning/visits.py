"""Visits on the road: list a day's visits, check in, check out with an outcome and notes, or mark one missed (offline, logged)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from core import defaults
from core.clock import local_days_in_utc, utc_text
from core.account_value import read_account, with_account_fields
from core.changes import Changes
from core.storage import writes
from core.storage.database import Store

OUTCOMES = ("Order placed", "Follow-up scheduled", "Demo given", "Quote requested", "Relationship check-in",
            "Issue resolved", "No decision yet", "Met new buyer", "Nobody available")


def _utc(when: datetime | None) -> str:
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("check-in/out time needs a time zone")
    return utc_text(when)


def visits_on(store: Store, rep_id: int, day: date, tz_name: str = defaults.TIME_ZONE) -> list[dict[str, Any]]:
    """The rep's visits whose planned start falls on `day` in the rep's time zone, in planned order."""
    lo, hi = local_days_in_utc(day, 1, tz_name)
    rows = with_account_fields(store, store.conn.execute(
        "SELECT * FROM visits WHERE deleted_at IS NULL AND rep_id = ? AND planned_start >= ? AND planned_start < ? "
        "ORDER BY planned_start",
        (rep_id, lo, hi)), ("name", "city"))
    return [{**{k: v for k, v in r.items() if k not in ("name", "city")}, "account_name": r["name"],
             "account_city": r["city"]} for r in rows]


def _visit(store: Store, visit_id: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM visits WHERE id = ? AND deleted_at IS NULL", (visit_id,)).fetchone()
    if row is None:
        raise KeyError(f"visit {visit_id} does not exist")
    return dict(row)


def check_in(store: Store, visit_id: int, when: datetime | None = None) -> Changes:
    """Record arrival at the account; a visit already checked out cannot be checked in again."""
    v = _visit(store, visit_id)
    if v["check_out_at"]:
        raise ValueError(f"visit {visit_id}: already checked out at {v['check_out_at']}")
    if v["status"] in ("cancelled",):
        raise ValueError(f"visit {visit_id}: status is {v['status']}, cannot check in")
    with store.atomic():
        writes.update(store, "visits", visit_id, {"check_in_at": _utc(when)})
    return Changes.of("visits", [visit_id], "checked in")


def check_out(store: Store, visit_id: int, outcome: str, notes: str | None = None,
              when: datetime | None = None) -> Changes:
    """Record leaving with an outcome: the visit is done and the account's last visit moves to the check-in."""
    v = _visit(store, visit_id)
    if not (outcome or "").strip():
        raise ValueError("outcome: say how the visit went (e.g. 'Order placed')")
    out_at = _utc(when)
    in_at = v["check_in_at"] or out_at
    if out_at < in_at:
        raise ValueError(f"check-out {out_at} is before check-in {in_at}")
    with store.atomic():
        writes.update(store, "visits", visit_id, {"check_in_at": in_at, "check_out_at": out_at, "status": "done",
                                                  "outcome": outcome.strip(), "notes": (notes or "").strip() or None})
        try:
            last = read_account(store, v["account_id"]).last_visit_at
        except KeyError:
            pass  # a visit of an account that is not there: nothing to move on
        else:
            if (last or "") < in_at:
                writes.update(store, "accounts", v["account_id"], {"last_visit_at": in_at})
    return Changes.of("visits", [visit_id], "checked out").merge(Changes.of("accounts", [v["account_id"]]))


def mark_missed(store: Store, visit_id: int, reason: str | None = None) -> Changes:
    """Record that a planned visit did not happen; a rotation's re-plan then rolls it forward.

    Only a planned visit that was never checked in can be missed: a check-in means the rep was there,
    and a done or cancelled visit is history.
    """
    v = _visit(store, visit_id)
    if v["status"] != "planned":
        raise ValueError(f"visit {visit_id}: status is {v['status']}, only a planned visit can be marked missed")
    if v["check_in_at"]:
        raise ValueError(f"visit {visit_id}: checked in at {v['check_in_at']}; check it out instead")
    note = (reason or "").strip()
    with store.atomic():
        writes.update(store, "visits", visit_id, {"status": "missed", "notes": note or v["notes"]})
    return Changes.of("visits", [visit_id], "marked missed")
