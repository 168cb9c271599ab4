"""Receipt files: checked by their first bytes (JPEG, PNG, PDF), stored once by SHA-256 beside the database.

Files live in `<database>.receipts/<first two hex digits>/<sha256>.<ext>`, never inside SQLite, so the
database stays small and a receipt is never stored twice; `attachments` holds one row per file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.expenses.common import ExpenseError
from core.storage import writes
from core.storage.database import Store
# The layout is shared with core.sync (which moves the files), so it lives in core.storage.
from core.storage.receipt_files import (KINDS, MAX_BYTES, receipt_path, receipts_folder, sniff,  # noqa: F401
                                        write_receipt_file)

__all__ = ["KINDS", "MAX_BYTES", "attachment", "read_receipt", "receipt_path", "receipts_folder", "sniff",
           "store_receipt"]


def read_receipt(path: Path | str) -> tuple[bytes, str]:
    """The file's bytes and type, or ExpenseError saying why it is not a receipt we accept."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExpenseError(f"receipt: cannot read {path} ({exc.strerror})") from None
    if size == 0:
        raise ExpenseError(f"receipt: {path.name} is empty")
    if size > MAX_BYTES:
        raise ExpenseError(f"receipt: {path.name} is {size / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
    data = path.read_bytes()
    mime = sniff(data[:16])
    if mime is None:
        raise ExpenseError(f"receipt: {path.name} is not a JPEG, PNG or PDF file (its first bytes say otherwise)")
    return data, mime


def store_receipt(store: Store, path: Path | str) -> tuple[int, bool]:
    """Keep the file (once) and return (attachment id, whether this exact file was already stored)."""
    data, mime = read_receipt(path)
    digest = hashlib.sha256(data).hexdigest()
    existing = store.conn.execute("SELECT id FROM attachments WHERE sha256 = ?", (digest,)).fetchone()
    target = receipt_path(store, digest, mime)
    if not target.exists():
        write_receipt_file(target, data)
    if existing is not None:
        return existing["id"], True
    aid = writes.insert(store, "attachments", {"sha256": digest, "filename": Path(path).name, "mime": mime,
                                               "size": len(data)})
    return aid, False


def attachment(store: Store, attachment_id: int) -> dict | None:
    row = store.conn.execute("SELECT * FROM attachments WHERE id = ?", (attachment_id,)).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["path"] = str(receipt_path(store, row["sha256"], row["mime"]))
    return found
