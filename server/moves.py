"""Rows that change hands: the record of each owner change, "gone" markers in pulls, and edits refused because
the row moved away from their writer.

When a manager gives an account to another rep (or books refresh takes it back to the pool), the rep who had
it can no longer read it, so pulls stop sending it; without a word their laptop would keep a stale copy for
good. Each owner change is kept in `moves` with a sequence number, and a pull tells whoever could read the row
under its old owner, and cannot under its owner now, that it has gone. An edit the old owner made offline is
refused with a reason that says where the row went, and its value is kept as a conflict the new owner (and
their manager) can see and restore, so it is never lost unseen.
"""

from __future__ import annotations

import json

from core.clock import utc_now
from core.sync.gone import noun
from server.auth import Principal
from server.policy import Scope, can_read, in_scope
from server.storage import Tx

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

def record(tx: Tx, seq: int, table: str, row_uid: str, from_owner: str | None, to_owner: str | None,
           who: Principal) -> None:
    """Keep one owner change (called in the push's transaction, with its own sequence number)."""
    tx.execute("INSERT INTO moves (seq, table_name, row_uid, from_owner, to_owner, moved_by, moved_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (seq, table, row_uid, from_owner, to_owner, who.user_id, utc_now()))


def gone_after(tx: Tx, since: int, limit: int) -> list[dict]:
    """Owner changes after the cursor, each with the row's owner now (not the one it moved to then: a row
    that came back since is not gone)."""
    return tx.all("SELECT m.seq, m.table_name, m.row_uid, m.from_owner, o.owner AS now_owner FROM moves m "
                  "LEFT JOIN objects o ON o.table_name = m.table_name AND o.row_uid = m.row_uid "
                  "WHERE m.seq > ? ORDER BY m.seq LIMIT ?", (since, limit))


def gone_marker(who: Principal, scope: Scope, move: dict) -> str | None:
    """The pull's JSON for one move when it took the row out of this user's sight, else None."""
    table = move["table_name"]
    if not can_read(who, scope, table, move["from_owner"]) or can_read(who, scope, table, move["now_owner"]):
        return None
    return _dumps({"table": table, "row_uid": move["row_uid"], "seq": move["seq"], "owner": move["now_owner"]})


def _rep_name(tx: Tx, rep_uid: str) -> str:
    row = tx.one("SELECT data FROM objects WHERE table_name = 'reps' AND row_uid = ?", (rep_uid,))
    return (json.loads(row["data"]).get("name") if row else None) or "another rep"


def moved_away(tx: Tx, scope: Scope, table: str, row_uid: str, owner: str | None) -> str | None:
    """Why an edit of a row this user cannot change any more is refused, when it moved away from them
    (it had an owner in their scope once); None for a row that was never theirs."""
    for move in tx.all("SELECT from_owner, moved_at FROM moves WHERE table_name = ? AND row_uid = ? ORDER BY seq DESC",
                       (table, row_uid)):
        if in_scope(scope, move["from_owner"]):
            where = f"now belongs to {_rep_name(tx, owner)}" if owner else "is back in the unassigned pool"
            return f"{noun(table)} {where} (moved {move['moved_at'][:10]}); not yours any more"
    return None


def hand_over(tx: Tx, seq, who: Principal, table: str, row_uid: str, data: dict, versions: dict,
              values: dict, hlc: str, owner: str | None) -> None:
    """Keep each value of a refused edit to a moved row as a conflict its owner now can see and restore."""
    for column, value in values.items():
        if data.get(column) == value:
            continue
        tx.execute("INSERT INTO conflicts (seq, table_name, row_uid, column_name, kept_value, kept_hlc, lost_value, "
                   "lost_hlc, owner, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (seq.next(), table, row_uid, column, _dumps(data.get(column)), versions.get(column), _dumps(value),
                    hlc, owner, f"edited by {who.email} after it moved away from them; refused there, restore "
                                 "to keep their value", utc_now()))
