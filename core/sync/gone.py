"""Rows that moved out of this user's sight on the server (an account given to another rep): hidden here at
the pull that says so, and shown again, whole, when they come back.

Hiding is the row's tombstone written with plain SQL, not through core.storage.writes: it is nobody's delete
and must not sync back as one. The row itself stays, because this user's own past visits, trips and expenses
point at it. Its confirmed clock readings are dropped, so if it ever comes back every field the server holds
wins over the stale copy. This user's future planned visits to a moved account are cancelled as their own,
logged edits (the visits are theirs, so their manager sees why): a rep should not be sent to an account that
is no longer theirs. Past and checked-in visits stay as they are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from core.clock import utc_text
from core.storage import writes
from core.storage.database import Store


_NOUNS = {"expense_reports": "expense report", "rotation_plans": "rotation plan", "time_off": "day off",
          "route_stops": "route stop", "rotation_slots": "rotation slot", "routing_decisions": "routing decision",
          "expense_audit": "expense audit entry"}


# Rows that hang under another row (the server's policy.PARENT): hidden when they move, as their parent
# did, but not counted in the sync's summary ("2 assignments moved to another rep" would say nothing new).
UNDER_OTHERS = frozenset({"assignments", "route_stops", "rotation_slots", "routing_decisions", "expense_audit"})


def noun(table: str) -> str:
    """A table's rows as people say one ('account', 'expense report'); the server's messages use it too."""
    return _NOUNS.get(table, table[:-1] if table.endswith("s") else table)


def is_gone(store: Store, table: str, uid: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM sync_gone WHERE table_name = ? AND row_uid = ?", (table, uid)))


def owner_name(store: Store, owner_uid: str | None) -> str:
    """Who a row went to, as people call them here."""
    if not owner_uid:
        return "the unassigned pool"
    return store.scalar("SELECT name FROM reps WHERE uid = ?", (owner_uid,)) or "another rep"


def gone_owner(store: Store, table: str, uid: str) -> tuple[bool, str | None]:
    """(whether the row went away, the rep uid it went to)."""
    row = store.conn.execute("SELECT owner_uid FROM sync_gone WHERE table_name = ? AND row_uid = ?",
                             (table, uid)).fetchone()
    return (row is not None, row["owner_uid"] if row else None)


def hide(store: Store, table: str, uid: str, row_id: int, owner_uid: str | None,
         my_rep_uid: str | None) -> list[int]:
    """Hide one row that went away; returns the ids of this user's future visits to it, now cancelled.
    Call inside the pull's transaction."""
    now = utc_text(datetime.now(timezone.utc))
    store.conn.execute(f"UPDATE {table} SET deleted_at = coalesce(deleted_at, ?), updated_at = ? WHERE id = ?",
                       (now, now, row_id))
    store.conn.execute("DELETE FROM sync_versions WHERE table_name = ? AND row_uid = ?", (table, uid))
    store.conn.execute("INSERT INTO sync_gone (table_name, row_uid, owner_uid, gone_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(table_name, row_uid) DO UPDATE SET owner_uid = excluded.owner_uid, "
                       "gone_at = excluded.gone_at", (table, uid, owner_uid, now))
    if table != "accounts" or not my_rep_uid:
        return []
    me = store.scalar("SELECT id FROM reps WHERE uid = ?", (my_rep_uid,))
    if me is None:
        return []
    planned = [r[0] for r in store.conn.execute(
        "SELECT id FROM visits WHERE account_id = ? AND rep_id = ? AND status = 'planned' AND check_in_at IS NULL "
        "AND deleted_at IS NULL AND planned_start >= ?", (row_id, me, now))]
    reason = f"account moved to {owner_name(store, owner_uid)}"
    for visit_id in planned:
        writes.update(store, "visits", visit_id, {"status": "cancelled", "outcome": reason})
    return planned


def unhide(store: Store, table: str, uid: str, row_id: int, values: dict[str, Any]) -> None:
    """The row is back in this user's sight: its tombstone is the server's again (the pull then writes
    every other field, as no confirmed reading is left to beat). Inside the pull's transaction."""
    store.conn.execute(f"UPDATE {table} SET deleted_at = ? WHERE id = ?", (values.get("deleted_at"), row_id))
    store.conn.execute("DELETE FROM sync_gone WHERE table_name = ? AND row_uid = ?", (table, uid))


def keep_hidden(store: Store) -> list[tuple[str, int]]:
    """Hide again any row that went away but was shown here since (say, restored from the deleted accounts):
    the server refuses that restore, and a stale copy must not come back into lists. Returns (table, id)."""
    now = utc_text(datetime.now(timezone.utc))
    shown = []
    for (table,) in store.conn.execute("SELECT DISTINCT table_name FROM sync_gone").fetchall():
        ids = [r[0] for r in store.conn.execute(
            f"SELECT t.id FROM {table} t JOIN sync_gone g ON g.table_name = ? AND g.row_uid = t.uid "
            "WHERE t.deleted_at IS NULL", (table,))]
        for row_id in ids:
            store.conn.execute(f"UPDATE {table} SET deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, row_id))
            shown.append((table, row_id))
    return shown
