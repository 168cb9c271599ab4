"""Effective-dated ownership: who owned an account on a given day, and its whole history."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.storage.database import Store


def _day(value: date | str) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ValueError(f"date: use YYYY-MM-DD (got {value!r})") from None


def owner_on(store: Store, account_id: int, day: date | str) -> int | None:
    """The rep who owned the account on that day (None when nobody did or history does not reach back).

    A period covers valid_from <= day < valid_to: on a hand-over day the new owner holds the account.
    """
    row = store.conn.execute(
        "SELECT rep_id FROM assignments WHERE account_id = ? AND deleted_at IS NULL AND valid_from <= ? "
        "AND (valid_to IS NULL OR valid_to > ?) ORDER BY valid_from DESC, id DESC LIMIT 1",
        (account_id, _day(day), _day(day))).fetchone()
    return row["rep_id"] if row else None


def owners_on(store: Store, day: date | str) -> dict[int, int | None]:
    """account id -> owner on that day, for every account with history covering the day."""
    d = _day(day)
    out: dict[int, int | None] = {}
    # Ordered so the latest-starting period of each account is written last and wins.
    for r in store.conn.execute(
            "SELECT account_id, rep_id FROM assignments WHERE deleted_at IS NULL AND valid_from <= ? "
            "AND (valid_to IS NULL OR valid_to > ?) ORDER BY account_id, valid_from, id", (d, d)):
        out[r["account_id"]] = r["rep_id"]
    return out


def ownership_history(store: Store, account_id: int) -> list[dict[str, Any]]:
    """Every ownership period of an account, oldest first, with the rep's name."""
    return [dict(r) for r in store.conn.execute(
        "SELECT a.valid_from, a.valid_to, a.rep_id, r.name AS rep, a.territory_id, a.reason, a.scenario_id "
        "FROM assignments a LEFT JOIN reps r ON r.id = a.rep_id "
        "WHERE a.account_id = ? AND a.deleted_at IS NULL ORDER BY a.valid_from, a.id", (account_id,))]


def find_account(store: Store, text: str) -> dict[str, Any]:
    """An account by id, CRM id or unique name, as a CLI user types it."""
    text = text.strip()
    if text.isdigit():
        row = store.conn.execute("SELECT id, name FROM accounts WHERE id = ?", (int(text),)).fetchone()
        if row:
            return dict(row)
    rows = store.conn.execute(
        "SELECT id, name FROM accounts WHERE deleted_at IS NULL AND (external_id = ? OR lower(name) = lower(?))",
        (text, text)).fetchall()
    if len(rows) == 1:
        return dict(rows[0])
    if not rows:
        raise KeyError(f"no account matches {text!r} (give its number, CRM id or exact name)")
    raise KeyError(f"{text!r} matches {len(rows)} accounts; give its number instead")
