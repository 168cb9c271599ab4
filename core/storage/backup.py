"""Rotating copies of the database made with SQLite's online backup API (safe while it is open)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

KEEP = 10


def backup_folder(db_path: Path, backup_dir: Path | None = None) -> Path:
    return backup_dir or db_path.parent / "backups"


def backup_database(db_path: Path, backup_dir: Path | None = None, *, reason: str = "daily",
                    keep: int = KEEP) -> Path:
    """Copy the database to backups/<name>-<utc time>-<reason>.sqlite and keep the newest `keep`."""
    folder = backup_folder(db_path, backup_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{db_path.stem}-{stamp}-{reason}.sqlite"
    source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    for old in list_backups(db_path, backup_dir)[keep:]:
        old.unlink(missing_ok=True)
    return target


def list_backups(db_path: Path, backup_dir: Path | None = None) -> list[Path]:
    """Backups of this database, newest first."""
    folder = backup_folder(db_path, backup_dir)
    if not folder.exists():
        return []
    return sorted(folder.glob(f"{db_path.stem}-*.sqlite"), key=lambda p: p.name, reverse=True)


def backup_if_due(db_path: Path, backup_dir: Path | None = None, *, every: timedelta = timedelta(days=1)) -> Path | None:
    """Make the daily backup when the newest one is older than `every`."""
    existing = list_backups(db_path, backup_dir)
    if existing:
        newest = datetime.fromtimestamp(existing[0].stat().st_mtime, timezone.utc)
        if datetime.now(timezone.utc) - newest < every:
            return None
    return backup_database(db_path, backup_dir, reason="daily")
