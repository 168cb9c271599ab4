"""Importing accounts from a CRM export: one transaction per file, idempotent re-imports, rejects with reasons."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from core import defaults
from core.changes import Changes
from core.importing.mapping import FIELDS, ColumnMapping, MappingProblem, resolve_mapping
from core.importing.reading import FileProblem, Table, open_table
from core.importing.values import RowConverter, RowProblem, match_key, zip5
from core.progress import Progress, check_cancelled, seconds_text
from core.storage import writes
from core.storage.bulk import indexes_rebuilt_after
from core.storage.database import Store

BATCH_ROWS = 2000
# An import expected to add at least this many accounts, and at least as many as there are, drops
# the plain indexes of accounts and builds them again at the end (one sorted pass is faster).
BULK_MIN_NEW_ROWS = 20_000
MAX_PROBLEMS_KEPT = 50
ADDRESS_FIELDS = ("street", "city", "state", "postal_code", "country")
NOT_NULL_DEFAULTS = {"visit_frequency": defaults.VISIT_FREQUENCY, "visit_minutes": defaults.VISIT_MINUTES}
# Coordinates that came with the CRM row: better than a ZIP centre, but nobody told us how good.
IMPORTED_PRECISION = "street"


class ImportAborted(Exception):
    """Bad rows stopped an all-or-nothing import; nothing was written."""

    def __init__(self, problems: list[RowProblem], bad_rows: int, rows_read: int) -> None:
        self.problems = problems
        self.bad_rows = bad_rows
        self.rows_read = rows_read
        more = f" (and {bad_rows - 1:,} more bad rows)" if bad_rows > 1 else ""
        super().__init__(f"{problems[0]}{more}; nothing was imported. Fix the file, or skip bad rows "
                         "(--skip-bad-rows) to import the good ones and get the bad ones in a rejects file")


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    file: str
    source: str
    mapping: dict[str, str]
    read_as: str = ""      # how the file was read: "CSV, comma-separated, UTF-16 LE" (the detected encoding)
    encoding: str = ""     # the detected text encoding as the user would name it; empty for workbooks
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_path: str | None = None
    problems: list[RowProblem] = field(default_factory=list)
    problem_cells: dict[int, list[str | None]] = field(default_factory=dict)  # row -> cells, for showing
    ignored_columns: list[str] = field(default_factory=list)
    owners_not_found: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    seconds: float = 0.0
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        # "Read", not "Imported": rejected rows are read but not imported.
        how = f"{self.source}; {self.read_as}" if self.read_as else self.source
        text = (f"{'Dry run, nothing written. ' if self.dry_run else ''}"
                f"Read {self.rows_read:,} rows from {Path(self.file).name} ({how}): "
                f"{self.inserted:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged")
        if self.duplicates:
            text += f", {self.duplicates:,} repeated rows merged"
        if self.rejected:
            text += f", {self.rejected:,} rejected"
            if self.rejects_path:
                text += f" (see {self.rejects_path})"
        return text + f" in {seconds_text(self.seconds)}."

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "source": self.source, "mapping": self.mapping, "read_as": self.read_as,
                "encoding": self.encoding, "rows_read": self.rows_read,
                "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "duplicates": self.duplicates, "rejected": self.rejected, "rejects_path": self.rejects_path,
                "problems": [p.as_dict() for p in self.problems], "ignored_columns": self.ignored_columns,
                "owners_not_found": self.owners_not_found, "dry_run": self.dry_run,
                "seconds": round(self.seconds, 3)}


class _DryRun(Exception):
    pass


def default_rejects_path(path: Path | str) -> Path:
    """Where bad rows go when the user did not say: beside the input, NAME-rejects.csv."""
    path = Path(path)
    return path.with_name(f"{path.stem}-rejects.csv")


def import_accounts(store: Store, source: Path | str | Table, mapping: str | ColumnMapping | None = "auto", *,
                    skip_bad_rows: bool = False, rejects_path: Path | str | None = None, dry_run: bool = False,
                    sheet: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Import a CSV/XLSX export into accounts in one transaction.

    Without skip_bad_rows the first bad row makes the whole file fail (ImportAborted, nothing written,
    every problem found is listed); with it, bad rows go to the rejects CSV with their reason.
    Raises FileProblem / MappingProblem when the file or mapping cannot be used at all.
    """
    started = time.perf_counter()
    table = source if isinstance(source, Table) else open_table(source, sheet=sheet)
    chosen = resolve_mapping(store, table.headers, mapping)
    result = ImportResult(str(table.path), chosen.source, dict(chosen.columns), dry_run=dry_run,
                          read_as=table.describe(), encoding=table.encoding_label if table.kind == "csv" else "",
                          ignored_columns=chosen.unmapped_headers(table.headers))
    if skip_bad_rows and rejects_path is None:
        rejects_path = default_rejects_path(table.path)
    rejects = _Rejects(Path(rejects_path), table.headers) if (skip_bad_rows and rejects_path) else None
    # A bigger page cache for the length of the import keeps index pages in memory while 100k rows go in.
    cache = store.scalar("PRAGMA cache_size")
    store.conn.execute("PRAGMA cache_size = -65536")
    try:
        with store.atomic():
            # Matching indexes are read inside the transaction, so no other writer slips in between.
            run = _Run(store, table, chosen, result, skip_bad_rows, progress)
            with run.bulk:
                run.go(rejects)
            if result.rows_read == 0:
                raise FileProblem(f"{table.path.name}: the file has a header row but no data rows")
            if run.problems_seen and not skip_bad_rows:
                raise ImportAborted(run.kept_problems, run.bad_rows, result.rows_read)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    except BaseException:
        if rejects:
            rejects.discard()
        raise
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(cache)}")
    if rejects:
        result.rejects_path = str(rejects.finish()) if result.rejected else rejects.discard()
    result.problems = run.kept_problems
    result.problem_cells = run.kept_cells
    result.owners_not_found = dict(sorted(run.owners_not_found.items(), key=lambda kv: -kv[1]))
    result.seconds = time.perf_counter() - started
    if not dry_run and run.touched:
        note = f"{result.inserted:,} accounts imported, {result.updated:,} updated"
        result.changes = Changes.of("accounts", run.touched, note)
    return result


class _Rejects:
    """The rejects CSV, written to a temporary file and renamed into place only when complete."""

    def __init__(self, path: Path, headers: list[str]) -> None:
        self.path = path
        self.headers = headers
        self._fh = None
        self._writer = None
        self._tmp: str | None = None

    def add(self, cells: list[str | None], problems: list[RowProblem]) -> None:
        if self._writer is None:
            folder = self.path.parent if str(self.path.parent) else Path(".")
            try:
                fd, self._tmp = tempfile.mkstemp(prefix=".rejects-", suffix=".csv", dir=folder)
            except OSError as exc:
                raise FileProblem(f"cannot write the rejects file in {folder} ({exc.strerror})") from exc
            # utf-8-sig so Excel shows accented names correctly when the user opens the rejects.
            self._fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow([*self.headers, "Import row", "Import problem"])
        padded = [c if c is not None else "" for c in cells]
        padded += [""] * (len(self.headers) - len(padded))
        reason = "; ".join(f"{p.column}: {p.reason}" for p in problems)
        self._writer.writerow([*padded, problems[0].row, reason])

    def finish(self) -> Path:
        if self._fh is None:
            return self.path
        self._fh.close()
        os.replace(self._tmp, self.path)
        return self.path

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
        return None


class _Run:
    """The state of one import pass: matching indexes, the batch being built, counts."""

    def __init__(self, store: Store, table: Table, mapping: ColumnMapping, result: ImportResult,
                 skip_bad_rows: bool, progress: Progress | None) -> None:
        self.store = store
        self.table = table
        self.mapping = mapping
        self.result = result
        self.skip = skip_bad_rows
        self.progress = progress
        index = {h: i for i, h in enumerate(table.headers) if h}
        self.fields = [(f.key, index[mapping.columns[f.key]], mapping.columns[f.key])
                       for f in FIELDS if f.key in mapping.columns]
        self.convert = RowConverter(self.fields)
        self.width = len(table.headers)
        self.problems_seen = False
        self.kept_problems: list[RowProblem] = []
        self.kept_cells: dict[int, list[str | None]] = {}
        self.bad_rows = 0
        self.touched: set[int] = set()
        self.bulk = contextlib.ExitStack()
        self.bulk_decided = False
        self.owners_not_found: dict[str, int] = {}
        self.reps = self._rep_lookup()
        self.by_name = self._name_index()
        self.owner_mapped = "owner" in mapping.columns
        self.coordinates_mapped = "lat" in mapping.columns

    def _rep_lookup(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.store.query("SELECT id, name, email FROM reps WHERE deleted_at IS NULL ORDER BY id"):
            for key in (row["name"], row["email"]):
                if key:
                    out.setdefault(key.strip().casefold(), row["id"])
        return out

    def _name_index(self) -> dict[tuple[str, str], int]:
        # Memory grows with the number of accounts, not with the size of the file being read.
        out: dict[tuple[str, str], int] = {}
        for row in self.store.conn.execute("SELECT id, name, postal_code FROM accounts WHERE deleted_at IS NULL"):
            key = match_key({"name": row[1], "postal_code": row[2]})
            if key:
                out.setdefault(key, row[0])
        return out

    def go(self, rejects: "_Rejects | None") -> None:
        batch: dict[Any, tuple[int, dict[str, Any]]] = {}
        last_report = 0.0
        broken = self.table.broken_rows  # filled by the reader as it goes
        headers = self.table.headers
        for number, cells in self.table.rows():
            self.result.rows_read += 1
            if broken and number in broken:
                # An unclosed quote: the cells are rows run together, so their values mean nothing.
                index, reason = broken[number]
                column = headers[index] if index < self.width and headers[index] else f"column {index + 1}"
                self._bad([RowProblem(number, column, cells[index], reason)], cells, rejects)
                continue
            values, problems = self.convert(number, cells)
            if len(cells) > self.width:
                extra = [c for c in cells[self.width:] if c is not None and c.strip()]
                if extra:
                    problems.insert(0, RowProblem(
                        number, "(extra cells)", extra[0], f"the row has {len(cells)} cells but the header has "
                        f"{self.width} columns; a delimiter or quote is probably out of place"))
            if problems:
                self._bad(problems, cells, rejects)
            elif not self.problems_seen or self.skip:
                self._add(batch, values)
                if len(batch) >= BATCH_ROWS:
                    self._flush(batch)
                    batch = {}
            now = time.monotonic()
            if now - last_report > 0.1:
                last_report = now
                check_cancelled(self.progress)
                if self.progress is not None:
                    done, total = self.table.progress(number)
                    self.progress.update(done, total, f"{self.result.rows_read:,} rows read")
        if batch and (not self.problems_seen or self.skip):
            self._flush(batch)
        if self.progress is not None:
            done, total = self.table.progress(self.result.rows_read)
            self.progress.update(total, total, f"{self.result.rows_read:,} rows read")

    def _bad(self, problems: list[RowProblem], cells: list[str | None], rejects: "_Rejects | None") -> None:
        self.problems_seen = True
        self.bad_rows += 1
        self.result.rejected += 1 if self.skip else 0
        if len(self.kept_problems) < MAX_PROBLEMS_KEPT:
            self.kept_problems += problems[:MAX_PROBLEMS_KEPT - len(self.kept_problems)]
            self.kept_cells[problems[0].row] = [c if c is None or len(c) <= 200 else c[:200] + "…" for c in cells]
        if rejects is not None:
            rejects.add(cells, problems)

    def _add(self, batch: dict, values: dict[str, Any]) -> None:
        name_key = match_key(values)
        key = ("id", values["external_id"]) if values.get("external_id") else ("name", name_key)
        if key in batch:
            # The same record twice in one file: later non-empty cells win, as a re-import would.
            self.result.duplicates += 1
            merged = batch[key][1]
            merged.update({k: v for k, v in values.items() if v is not None})
        else:
            batch[key] = (name_key, values)

    def _owner_id(self, values: dict[str, Any]) -> int | None:
        owner = values.get("owner")
        if not owner:
            return None
        found = self.reps.get(owner.strip().casefold())
        if found is None:
            self.owners_not_found[owner] = self.owners_not_found.get(owner, 0) + 1
        return found

    def _flush(self, batch: dict) -> None:
        store = self.store
        external = [k[1] for k in batch if k[0] == "id"]
        by_external: dict[str, tuple[int, str | None]] = {}
        for start in range(0, len(external), 500):
            chunk = external[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in store.conn.execute(
                    f"SELECT id, external_id, deleted_at FROM accounts WHERE external_id IN ({marks})", chunk):
                by_external[row[1]] = (row[0], row[2])
        targets: dict[int, dict[str, Any]] = {}
        now = writes.utc_now()
        restore: list[int] = []
        new_rows: list[dict[str, Any]] = []
        new_keys: list[tuple[str, str] | None] = []
        for key, (name_key, values) in batch.items():
            account_id = None
            if key[0] == "id" and key[1] in by_external:
                account_id, deleted_at = by_external[key[1]]
                if deleted_at:
                    restore.append(account_id)
            else:
                candidate = self.by_name.get(name_key) if name_key else None
                if candidate is not None and (key[0] == "name" or self._has_no_external_id(candidate)):
                    account_id = candidate
            if account_id is not None:
                if account_id in targets:
                    self.result.duplicates += 1
                    targets[account_id].update({k: v for k, v in values.items() if v is not None})
                    continue
                if account_id in self.touched:
                    self.result.duplicates += 1
                targets[account_id] = values
            else:
                new_rows.append(self._insert_values(values, now))
                new_keys.append(name_key)
        if not self.bulk_decided:
            self.bulk_decided = True
            if self._expected_new_rows(len(new_rows), len(batch)) >= max(BULK_MIN_NEW_ROWS, len(self.by_name)):
                self.bulk.enter_context(indexes_rebuilt_after(store, "accounts"))
        for account_id in restore:
            writes.restore(store, "accounts", account_id)
        if targets:
            self._update(targets)
        if new_rows:
            ids = writes.insert_many(store, "accounts", new_rows)
            self.result.inserted += len(ids)
            self.touched.update(ids)
            for account_id, name_key in zip(ids, new_keys):
                if name_key:
                    self.by_name.setdefault(name_key, account_id)

    def _expected_new_rows(self, new_in_batch: int, batch_size: int) -> float:
        # From the first batch: the share of new accounts in it, times the rows the file seems to hold.
        done, total = self.table.progress(self.result.rows_read)
        rows_in_file = self.result.rows_read * total / max(done, 1)
        return rows_in_file * new_in_batch / max(batch_size, 1)

    def _has_no_external_id(self, account_id: int) -> bool:
        return self.store.scalar("SELECT external_id IS NULL FROM accounts WHERE id = ?", (account_id,)) == 1

    def _insert_values(self, values: dict[str, Any], now: str) -> dict[str, Any]:
        # The converted values become the new row in place (a copy per row cost 4 % of an import):
        # a new account's values are not needed after it is written.
        owner_id = self._owner_id(values) if self.owner_mapped else None
        row = values  # (the converter sets every mapped field, so all rows have the same keys)
        row.pop("owner", None)
        row["source"] = self.mapping.source
        if "country" in row:
            row["country"] = row["country"] or "US"
        if "status" in row:
            row["status"] = row["status"] or "active"
        for key, default in NOT_NULL_DEFAULTS.items():
            if key in row and row[key] is None:
                row[key] = default  # an empty cell in a new account: the column's default, not NULL
        if self.owner_mapped:
            row["owner_id"] = owner_id
        if self.coordinates_mapped:
            located = row.get("lat") is not None
            row["geocode_precision"] = IMPORTED_PRECISION if located else None
            row["geocoded_at"] = now if located else None
        return row

    def _update(self, targets: dict[int, dict[str, Any]]) -> None:
        ids = list(targets)
        existing: dict[int, Any] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.store.conn.execute(f"SELECT * FROM accounts WHERE id IN ({marks})", chunk):
                existing[row["id"]] = row
        edits: dict[int, tuple[str, dict[str, Any]]] = {}
        # Accounts this import already wrote are repeats within the file: counted as duplicates only.
        repeats = {account_id for account_id in targets if account_id in self.touched}
        for account_id, values in targets.items():
            old = existing[account_id]
            # Empty cells leave what is there: CRM exports often leave out columns a user filled in here.
            new = {k: v for k, v in values.items() if v is not None and k != "owner"}
            if "owner" in values and values["owner"]:
                owner_id = self._owner_id(values)
                if owner_id is not None:
                    new["owner_id"] = owner_id
            if old["geocode_precision"] == "manual":
                # A pin a user placed by hand is never moved by an import.
                new.pop("lat", None)
                new.pop("lon", None)
            elif "lat" in new:
                new["geocode_precision"] = IMPORTED_PRECISION
            elif old["lat"] is not None and any(
                    k in new and _differs(k, old[k], new[k]) for k in ADDRESS_FIELDS):
                # The address moved and no coordinates came with it: the old point would mislead.
                new.update(lat=None, lon=None, geocode_precision=None, geocoded_at=None)
            changed = {k: v for k, v in new.items() if old[k] != v}
            if changed:
                if "lat" in changed and changed["lat"] is not None:
                    changed["geocoded_at"] = writes.utc_now()
                edits[account_id] = (old["uid"], changed)
            self.touched.add(account_id)
        if edits:
            writes.update_known(self.store, "accounts", [(i, uid, vals) for i, (uid, vals) in edits.items()])
        self.result.updated += len(set(edits) - repeats)
        self.result.unchanged += len(set(targets) - set(edits) - repeats)


def _differs(key: str, old: Any, new: Any) -> bool:
    if key == "postal_code":
        return zip5(old) != zip5(new)
    return (old or "").strip().casefold() != (new or "").strip().casefold()



def problems_text(problems: Iterable[RowProblem], limit: int = 10) -> str:
    """Problems as lines for a terminal or a message box."""
    problems = list(problems)
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)
