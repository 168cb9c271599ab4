"""Receipt files on the server: stored by SHA-256 (checked against the bytes), readable as their expense is.

A laptop uploads a receipt's bytes before it pushes the rows that point at it; the same file twice is
stored once. Reading a file is allowed to whoever uploaded it, and to whoever may read an expense whose
receipt is an attachment row with that SHA-256 (a rep their own, a manager their team's, finance all).
"""

from __future__ import annotations

import json

from core.clock import utc_now
from core.storage.receipt_files import MAX_BYTES as MAX_FILE_BYTES  # noqa: F401  (server.app) the laptop's limit
from core.storage.receipt_files import sniff
from server.auth import Principal
from server.policy import Refused, can_read, scope_of
from server.storage import Tx


class BadFile(Exception):
    """The bytes sent are not the file they claim to be; the message says how (HTTP 422 or 415)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def check_bytes(sha256: str, digest: str, data: bytes) -> str:
    """The file's type; BadFile unless the bytes hash to the name and are a receipt we take."""
    if not data:
        raise BadFile("file: the body is empty")
    if digest != sha256:
        raise BadFile(f"sha256: the bytes sent hash to {digest}, not {sha256}")
    mime = sniff(data[:16])
    if mime is None:
        raise BadFile("file: not a JPEG, PNG or PDF (its first bytes say otherwise)", 415)
    return mime


def store_file(tx: Tx, who: Principal, sha256: str, mime: str, data: bytes) -> dict:
    """Keep the bytes once; a second upload of the same file changes nothing."""
    if who.role == "finance":
        raise Refused("files: finance users read receipts but do not upload them")
    if tx.one("SELECT size FROM files WHERE sha256 = ?", (sha256,)) is not None:
        return {"sha256": sha256, "status": "duplicate"}
    tx.execute("INSERT INTO files (sha256, mime, size, content, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
               (sha256, mime, len(data), data, who.user_id,
                utc_now()))
    return {"sha256": sha256, "status": "stored"}


def _contains(column_json: str, key: str, value: str) -> bool:
    try:
        return json.loads(column_json).get(key) == value
    except ValueError:
        return False


def may_read(tx: Tx, who: Principal, sha256: str, uploaded_by: int) -> bool:
    if who.role == "admin" or who.user_id == uploaded_by:
        return True
    scope = scope_of(tx, who)
    # Rows are JSON text written with (",", ":") separators, so LIKE narrows the candidates; the exact
    # match is checked on the decoded row ('_' in a uid is a LIKE wildcard and may let extra rows in).
    attachments = [r["row_uid"] for r in tx.all(
        "SELECT row_uid, data FROM objects WHERE table_name = 'attachments' AND data LIKE ?",
        (f'%"sha256":"{sha256}"%',)) if _contains(r["data"], "sha256", sha256)]
    for uid in attachments:
        for row in tx.all("SELECT data, owner FROM objects WHERE table_name = 'expenses' AND data LIKE ?",
                          (f'%"receipt_id":"{uid}"%',)):
            if _contains(row["data"], "receipt_id", uid) and can_read(who, scope, "expenses", row["owner"]):
                return True
    return False


def read_file(tx: Tx, who: Principal, sha256: str) -> tuple[str, bytes]:
    """(type, bytes); LookupError when the server does not hold it, Refused when not this user's to read."""
    row = tx.one("SELECT mime, content, uploaded_by FROM files WHERE sha256 = ?", (sha256,))
    if row is None:
        raise LookupError(f"file {sha256}: not on the server (the laptop that has it has not sent it yet)")
    if not may_read(tx, who, sha256, int(row["uploaded_by"])):
        raise Refused(f"file {sha256}: not the receipt of an expense you may see")
    return row["mime"], bytes(row["content"])
