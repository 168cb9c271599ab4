"""What every subcommand shares: opening the database with clear errors, JSON output, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.storage.database import DatabaseError, Store, open_database


class CliError(Exception):
    """One clear line for the user and a non-zero exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_db_argument(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--db", metavar="PATH", required=required, help="the FieldAtlas database file")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")


def open_store(path: str | Path, *, create: bool = False) -> Store:
    """Open the database or raise CliError with the reason (the file is left untouched)."""
    try:
        return open_database(Path(path), create=create)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc


def emit(args: argparse.Namespace, text: str, data: Any) -> None:
    """Print human text, or JSON when --json was given."""
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif text:
        print(text)


class BarProgress:
    """The core Progress protocol as a tqdm bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, description: str, enabled: bool | None = None) -> None:
        from tqdm import tqdm

        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = tqdm(total=0, desc=description, disable=not self.enabled, file=sys.stderr, leave=False)

    def update(self, done: int, total: int, message: str = "") -> None:
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        if message:
            self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def cancelled(self) -> bool:
        return False

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> "BarProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iso_date(text: str) -> date:
    """argparse type for YYYY-MM-DD dates, with a message that names the value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def zoned_time(text: str | None, option: str = "--at") -> datetime | None:
    """An ISO time that names its zone ('2026-11-30T14:05Z', '...-06:00'); None when not given."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{option}: not an ISO time: {text!r}") from None
    if when.tzinfo is None:
        raise CliError(f"{option}: give a time zone, e.g. {text}Z or {text}-06:00")
    return when
