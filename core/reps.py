"""Sales reps: who they are, where they start their day and how many hours they have."""

from __future__ import annotations

from typing import Any, Mapping

from core.changes import Changes
from core.storage import writes
from core.storage.database import Store


def list_reps(store: Store, include_inactive: bool = False) -> list[dict[str, Any]]:
    sql = "SELECT * FROM reps WHERE deleted_at IS NULL"
    if not include_inactive:
        sql += " AND active = 1"
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY name")]


def get_rep(store: Store, rep_id: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM reps WHERE id = ?", (rep_id,)).fetchone()
    if row is None:
        raise KeyError(f"rep {rep_id} does not exist")
    return dict(row)


def find_rep(store: Store, text: str) -> dict[str, Any]:
    """A rep by id, email or (unique, case-insensitive) name — what a CLI user types after --rep."""
    text = text.strip()
    if text.isdigit():
        return get_rep(store, int(text))
    rows = store.conn.execute(
        "SELECT * FROM reps WHERE deleted_at IS NULL AND (lower(email) = lower(?) OR lower(name) = lower(?)"
        " OR lower(name) LIKE lower(?))", (text, text, f"%{text}%")).fetchall()
    exact = [r for r in rows if text.lower() in ((r["email"] or "").lower(), r["name"].lower())]
    if len(exact) == 1:
        return dict(exact[0])
    if len(rows) == 1:
        return dict(rows[0])
    if not rows:
        raise KeyError(f"no rep matches {text!r}")
    raise KeyError(f"{text!r} matches {len(rows)} reps: " + ", ".join(r["name"] for r in rows[:5]))


def create_rep(store: Store, values: Mapping[str, Any]) -> tuple[int, Changes]:
    if not str(values.get("name") or "").strip():
        raise ValueError("name: a name is required")
    rep_id = writes.insert(store, "reps", dict(values))
    return rep_id, Changes.of("reps", [rep_id], "rep added")


def update_rep(store: Store, rep_id: int, values: Mapping[str, Any]) -> Changes:
    if "capacity_hours_week" in values and not 0 < float(values["capacity_hours_week"]) <= 80:
        raise ValueError("capacity_hours_week: must be between 0 and 80 hours")
    old = writes.update(store, "reps", rep_id, values)
    return Changes.of("reps", [rep_id], "rep edited") if old else Changes()
