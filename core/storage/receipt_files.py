"""Where receipt files live beside a database, by SHA-256, and how one is written there safely.

`<database>.receipts/<first two hex digits>/<sha256>.<ext>`: core.expenses keeps receipts there and
core.sync uploads and downloads them, so the layout sits below both (the server checks uploads
with the same `sniff` and limit).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.files import write_atomically
from core.storage.database import Store

MAX_BYTES = 25 * 1024 * 1024
KINDS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def sniff(head: bytes) -> str | None:
    """The receipt's type from its magic bytes, whatever its name says; None when it is none of ours."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.lstrip(b"\r\n\t ")[:5] == b"%PDF-":
        return "application/pdf"
    return None


def receipts_folder(store: Store) -> Path:
    return Path(str(store.path) + ".receipts")


def receipt_path(store: Store, sha256: str, mime: str) -> Path:
    return receipts_folder(store) / sha256[:2] / f"{sha256}.{KINDS.get(mime, 'bin')}"


def write_receipt_file(target: Path, data: bytes) -> None:
    """Write beside, then rename: a crash never leaves a half receipt under its hash."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it is named, so a power cut cannot leave it empty

    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, write)
