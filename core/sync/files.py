"""Receipt files travel with sync: uploaded before the push, downloaded after the pull, by SHA-256.

Rows (attachments, expenses) sync as any other. The bytes go separately: a sync first sends every
receipt file the server has not confirmed yet (the server checks the hash and keeps one copy), and
after the pull fetches the file of every receipt an expense here points at and this laptop lacks.
A file the server refuses for good (too big, not a receipt) is remembered with the reason and not
sent again; one the server cannot show yet (403/404: its owner has not sent it) is asked for again at
the next sync. A downloaded file is written only when its bytes hash to its name.
"""

from __future__ import annotations

import hashlib

from core.clock import utc_now
from core.storage.database import Store
from core.storage.receipt_files import receipt_path, write_receipt_file
from core.sync.transport import Refused, Server


def _mark(store: Store, sha256: str, *, refused: str | None = None) -> None:
    with store.atomic():
        store.conn.execute("INSERT INTO sync_files (sha256, on_server_at, refused) VALUES (?, ?, ?) ON CONFLICT(sha256) "
                           "DO UPDATE SET on_server_at = excluded.on_server_at, refused = excluded.refused",
                           (sha256, None if refused else utc_now(), refused))


def upload(store: Store, server: Server) -> tuple[int, list[str]]:
    """Send the receipt files the server has not confirmed; returns (sent, reasons refused)."""
    rows = store.conn.execute(
        "SELECT DISTINCT a.sha256, a.mime FROM attachments a LEFT JOIN sync_files f ON f.sha256 = a.sha256 "
        "WHERE f.sha256 IS NULL ORDER BY a.id").fetchall()
    sent, refused = 0, []
    for row in rows:
        path = receipt_path(store, row["sha256"], row["mime"])
        if not path.exists():
            continue  # a receipt this laptop only knows by its row; download() fetches it
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            _mark(store, row["sha256"], refused="the file here does not match its SHA-256 (damaged on disk)")
            refused.append(f"{path.name}: damaged on disk")
            continue
        try:
            server.put_file(row["sha256"], row["mime"], data)
        except Refused as exc:  # 413, 415, 422, 403: sending it again would get the same answer
            _mark(store, row["sha256"], refused=str(exc))
            refused.append(f"{path.name}: {exc}")
            continue
        _mark(store, row["sha256"])
        sent += 1
    return sent, refused


def download(store: Store, server: Server) -> int:
    """Fetch the receipt files that expenses here point at and this laptop lacks; returns how many."""
    rows = store.conn.execute(
        "SELECT DISTINCT a.sha256, a.mime FROM attachments a JOIN expenses e ON e.receipt_id = a.id "
        "WHERE e.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY a.sha256").fetchall()
    received = 0
    for row in rows:
        target = receipt_path(store, row["sha256"], row["mime"])
        if target.exists():
            continue
        try:
            data = server.get_file(row["sha256"])
        except Refused:
            continue  # not sent by its owner yet (404) or not ours to see (403): asked again next sync
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            continue  # never keep bytes under a name they do not hash to
        write_receipt_file(target, data)
        _mark(store, row["sha256"])
        received += 1
    return received
