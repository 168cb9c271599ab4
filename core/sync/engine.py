"""The client side of sync: push the change log as operations, pull rows by cursor, merge per field.

Push: every change-log row not yet pushed becomes one operation whose id is this device's node id and
the row's seq, so a push repeated after a lost answer applies once. A row is marked pushed only when
the server has answered for it, in one local transaction with what the answer says.
Pull: the server sends whole rows changed after our cursor, with the clock reading of each column.
A column takes the server's value only when that reading is later than what we hold (the last value
confirmed by the server, or a local edit not pushed yet), so every replica keeps the same winner.
Pulled values are written straight to the tables, not through core.storage.writes: they are not
local edits and must not be pushed back as ours. The cursor moves in the same transaction.
Foreign keys travel as the referenced row's uid (row ids differ from one database to the next).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from core.changes import Changes
from core.clock import Timestamp, utc_now
from core.storage import change_log, writes
from core.storage.database import Store
from core.sync import credentials, files, gone
from core.sync.transport import NotLoggedIn, Server, SyncError
from core.words import counted

PUSH_BATCH = 250
PULL_PAGE = 500
LOCAL_ONLY = frozenset({"id", "uid", "updated_at"})  # never sent: row ids and edit times are per database

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


# -- sync_state -------------------------------------------------------------------------------

def get_state(store: Store, key: str, default: str | None = None) -> str | None:
    value = store.scalar("SELECT value FROM sync_state WHERE key = ?", (key,))
    return default if value is None else value


def set_state(store: Store, **values: Any) -> None:
    with store.atomic():
        for key, value in values.items():
            store.conn.execute("INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                               "value = excluded.value", (key, None if value is None else str(value)))


@dataclass(frozen=True)
class SyncStatus:
    """What the Sync view and `fieldatlas sync --status` show."""

    server: str | None
    email: str | None
    role: str | None
    pending: int
    last_sync_at: str | None
    last_error: str | None
    open_conflicts: int
    parked: int
    last_result: str | None = None  # the last sync's summary ("2 sent, ..., 1 account moved to another rep ...")

    @property
    def configured(self) -> bool:
        return bool(self.server and self.email)


def status(store: Store) -> SyncStatus:
    return SyncStatus(
        get_state(store, "server_url"), get_state(store, "email"), get_state(store, "role"),
        store.scalar("SELECT count(*) FROM change_log WHERE pushed_at IS NULL"),
        get_state(store, "last_sync_at"), get_state(store, "last_error"),
        store.scalar("SELECT count(*) FROM conflicts WHERE restored_at IS NULL"),
        store.scalar("SELECT count(*) FROM sync_parked"), get_state(store, "last_result") or None)


def remember_login(store: Store, server_url: str, email: str, role: str, rep_uid: str | None) -> None:
    """After `login`: this database syncs with this server as this user (the token is kept elsewhere)."""
    previous = get_state(store, "server_url")
    values: dict[str, Any] = {"server_url": server_url.rstrip("/"), "email": email, "role": role,
                              "rep_uid": rep_uid or ""}
    if previous and previous != server_url.rstrip("/"):
        values["pull_cursor"] = 0  # another server: start its feed from the beginning
    set_state(store, **values)


def login(store: Store, server_url: str, email: str, password: str, *, timeout: float = 15.0) -> dict[str, Any]:
    """Sign this database in to a server (`fieldatlas login` and the desktop's Sign in both call this).

    The server checks the password; only the token it answers with is kept (keyring, else a private
    file), and the database remembers the server and user. Raises SyncError: NotLoggedIn for a wrong
    email or password, Refused (status 429) when the server is rate-limiting this email, Offline
    when the server cannot be reached.
    """
    url = server_url.strip().rstrip("/")
    with Server(url, timeout=timeout) as server:
        answer = server.login(email.strip(), password)
    credentials.save_token(url, answer["email"], answer["token"])
    remember_login(store, url, answer["email"], answer["role"], answer["rep_uid"])
    set_state(store, last_error="")  # a "not logged in" from before no longer holds
    return answer


def logout(store: Store) -> bool:
    """Sign this database out: the server ends the token when it can be reached, this computer forgets
    it, and the database no longer syncs until someone signs in again. Edits not sent yet stay queued.
    Returns whether the server ended the token (False when it could not be reached)."""
    url, email = get_state(store, "server_url"), get_state(store, "email")
    ended = False
    if url and email:
        token = credentials.load_token(url, email)
        if token:
            try:
                with Server(url, token, timeout=10.0) as server:
                    server.request("POST", "/auth/logout")
                ended = True
            except SyncError:
                pass  # offline or already revoked: forgetting it here is what matters
        credentials.forget(url, email)
    set_state(store, email="", role="", rep_uid="")  # the server URL stays, to sign in again
    return ended


# -- ids <-> uids -----------------------------------------------------------------------------

class _Ids:
    """Foreign keys of each table, and row id <-> uid lookups, cached for one sync."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._fks: dict[str, dict[str, str]] = {}
        self._uid: dict[tuple[str, int], str | None] = {}
        self._id: dict[tuple[str, str], int | None] = {}

    def foreign_keys(self, table: str) -> dict[str, str]:
        if table not in self._fks:
            self._fks[table] = {r[3]: r[2] for r in self.store.conn.execute(f"PRAGMA foreign_key_list({table})")}
        return self._fks[table]

    def uid(self, table: str, row_id: int) -> str | None:
        key = (table, row_id)
        if key not in self._uid:
            self._uid[key] = self.store.scalar(f"SELECT uid FROM {table} WHERE id = ?", (row_id,))
        return self._uid[key]

    def id(self, table: str, uid: str) -> int | None:
        key = (table, uid)
        found = self._id.get(key)
        if found is None:
            found = self.store.scalar(f"SELECT id FROM {table} WHERE uid = ?", (uid,))
            if found is not None:
                self._id[key] = found
        return found

    def outgoing(self, table: str, values: dict[str, Any]) -> dict[str, Any]:
        fks = self.foreign_keys(table)
        out = {}
        for column, value in values.items():
            if column in LOCAL_ONLY:
                continue
            if column in fks and value is not None:
                value = self.uid(fks[column], value)
            out[column] = value
        return out


def _known_tables(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute(
        "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND EXISTS "
        "(SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'uid')")}


# -- versions ---------------------------------------------------------------------------------

def _versions(store: Store, table: str, uid: str) -> dict[str, str]:
    text = store.scalar("SELECT versions FROM sync_versions WHERE table_name = ? AND row_uid = ?", (table, uid))
    return json.loads(text) if text else {}


def _save_versions(store: Store, table: str, uid: str, versions: dict[str, str]) -> None:
    store.conn.execute("INSERT INTO sync_versions (table_name, row_uid, versions) VALUES (?, ?, ?) "
                       "ON CONFLICT(table_name, row_uid) DO UPDATE SET versions = excluded.versions",
                       (table, uid, _dumps(versions)))


def _unpushed(store: Store) -> dict[tuple[str, str], dict[str, str]]:
    """The newest clock reading of each column with a local edit not pushed yet."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for edit in change_log.edits(store, unpushed=True):
        columns = out.setdefault((edit.table, edit.row_uid), {})
        for column in edit.values:
            if edit.hlc > columns.get(column, ""):
                columns[column] = edit.hlc
    return out


# -- reports ----------------------------------------------------------------------------------

@dataclass
class SyncReport:
    """What one sync did."""

    pushed: int = 0
    rejected: int = 0
    pulled: int = 0
    conflicts: int = 0
    parked: int = 0
    files_sent: int = 0
    files_received: int = 0
    files_refused: list[str] = field(default_factory=list)
    gone: dict[str, int] = field(default_factory=dict)  # per table, rows that moved to someone else, hidden here
    # (rows under another row, such as an account's assignment history, are hidden with it but not counted)
    visits_cancelled: int = 0  # this user's future planned visits to those accounts
    moved_refused: list[str] = field(default_factory=list)  # one line per row whose edit was refused as moved away
    touched: dict[str, set[int]] = field(default_factory=dict)

    def changes(self) -> Changes:
        out = Changes()
        for table, ids in self.touched.items():
            out = out.merge(Changes.of(table, ids))
        if out:
            out = Changes(out.rows, self.summary())
        return out

    def text(self) -> str:
        """The summary, then one line per row whose edit was refused because it moved to another rep."""
        return "\n".join([self.summary(), *self.moved_refused])

    def summary(self) -> str:
        parts = [f"{self.pushed} sent", f"{self.pulled} received"]
        if self.rejected:
            parts.append(f"{self.rejected} refused by the server")
        if self.conflicts:
            parts.append(counted(self.conflicts, "new conflict"))
        for table, n in sorted(self.gone.items()):
            parts.append(f"{counted(n, gone.noun(table))} moved to another rep {'was' if n == 1 else 'were'} "
                         "removed from this laptop")
        if self.visits_cancelled:
            them = "it" if self.gone.get("accounts") == 1 else "them"
            parts.append(f"{counted(self.visits_cancelled, 'planned visit')} to {them} cancelled")
        if self.parked:
            parts.append(f"{self.parked} waiting for related rows")
        if self.files_sent or self.files_received:
            parts.append(f"receipt files: {self.files_sent} sent, {self.files_received} received")
        if self.files_refused:
            shown = "; ".join(self.files_refused[:3])
            parts.append(f"{counted(len(self.files_refused), 'receipt file')} refused ({shown})")
        return ", ".join(parts)


# -- applying remote values -------------------------------------------------------------------

def _apply_remote(store: Store, ids: _Ids, known: set[str], report: SyncReport, table: str, uid: str,
                  values: dict[str, Any], versions: dict[str, str], pending: dict[str, str],
                  force: Iterable[str] = ()) -> str:
    """Merge one remote row into the local table; returns 'applied', 'unchanged', 'parked' or 'skipped'."""
    if table not in known:
        return "skipped"  # a table from a newer FieldAtlas; its rows stay on the server
    back = gone.is_gone(store, table, uid)  # moved away earlier and now in sight again: no readings kept
    local_versions = _versions(store, table, uid)
    forced = set(force)
    # A forced column (the server refused our edit and says what it keeps) takes the server's value
    # even at an equal reading, which is what we held before the refused edit; a later edit still wins.
    winners = {c: v for c, v in values.items() if c in versions and (
        versions[c] > max(local_versions.get(c, ""), pending.get(c, ""))
        or (c in forced and versions[c] >= max(local_versions.get(c, ""), pending.get(c, ""))))}
    merged_versions = dict(local_versions)
    for column, hlc in versions.items():
        if hlc > merged_versions.get(column, ""):
            merged_versions[column] = hlc
    known_columns = set(writes.columns(store, table))
    local: dict[str, Any] = {}
    fks = ids.foreign_keys(table)
    for column, value in winners.items():
        if column in LOCAL_ONLY or column not in known_columns:
            continue
        if column in fks and value is not None:
            target = ids.id(fks[column], value)
            if target is None:
                _park(store, table, uid, values, versions, f"waits for {fks[column]} {value}")
                return "parked"
            value = target
        local[column] = value
    row_id = ids.id(table, uid)
    if row_id is None and not local:
        return "unchanged"
    now = utc_now()
    try:
        with store.atomic():
            if row_id is not None and local:
                store.conn.execute(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in local)}, updated_at = ? "
                                   "WHERE id = ?", (*local.values(), now, row_id))
            elif row_id is None:
                row_id = (store.scalar(f"SELECT max(id) FROM {table}") or 0) + 1
                local.setdefault("created_at", now)
                names = ["id", "uid", "updated_at", *local]
                store.conn.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                   (row_id, uid, now, *local.values()))
                ids._id[(table, uid)] = row_id
            if back:
                gone.unhide(store, table, uid, row_id, values)
            _save_versions(store, table, uid, merged_versions)
            store.conn.execute("DELETE FROM sync_parked WHERE table_name = ? AND row_uid = ?", (table, uid))
    except sqlite3.IntegrityError as exc:
        _park(store, table, uid, values, versions, f"does not fit here yet ({exc})")
        return "parked"
    if local:
        report.touched.setdefault(table, set()).add(row_id)
        return "applied"
    return "unchanged"


def _park(store: Store, table: str, uid: str, values: dict, versions: dict, reason: str) -> None:
    store.conn.execute("INSERT INTO sync_parked (table_name, row_uid, payload, reason, parked_at) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT(table_name, row_uid) DO UPDATE SET payload = excluded.payload, reason = "
                       "excluded.reason", (table, uid, _dumps({"values": values, "versions": versions}), reason, utc_now()))


def _retry_parked(store: Store, ids: _Ids, known: set[str], report: SyncReport) -> None:
    """Apply parked rows whose related rows have arrived since, until no more can be."""
    while True:
        progress = False
        with store.atomic():
            pending = _unpushed(store)
            for row in store.query("SELECT table_name, row_uid, payload FROM sync_parked ORDER BY parked_at"):
                payload = json.loads(row["payload"])
                outcome = _apply_remote(store, ids, known, report, row["table_name"], row["row_uid"],
                                        payload["values"], payload["versions"],
                                        pending.get((row["table_name"], row["row_uid"]), {}))
                if outcome != "parked":
                    report.pulled += outcome == "applied"
                    store.conn.execute("DELETE FROM sync_parked WHERE table_name = ? AND row_uid = ?",
                                       (row["table_name"], row["row_uid"]))
                    progress = True
        if not progress:
            break
    report.parked = store.scalar("SELECT count(*) FROM sync_parked")


def _store_conflicts(store: Store, conflicts: list[dict]) -> int:
    """Keep the server's conflicts; one restored on another laptop is marked restored here too.
    Returns how many new open conflicts came."""
    added = 0
    for c in conflicts:
        restored = c.get("restored_at")
        cur = store.conn.execute(
            "INSERT INTO conflicts (server_id, table_name, row_uid, column_name, kept_value, kept_hlc, lost_value, "
            "lost_hlc, reason, created_at, restored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(server_id) DO NOTHING",
            (c["id"], c["table"], c["row_uid"], c["column"], _dumps(c["kept_value"]), c["kept_hlc"],
             _dumps(c["lost_value"]), c["lost_hlc"], c["reason"], c["created_at"], restored))
        if cur.rowcount:
            added += restored is None
        elif restored:
            store.conn.execute("UPDATE conflicts SET restored_at = ? WHERE server_id = ? AND restored_at IS NULL",
                               (restored, c["id"]))
    return added


# Conflicts restored here whose server ids the server has not been told yet: an outbox in sync_state
# (a JSON list), written in the restore's own transaction so it cannot be lost.
_RESTORED_KEY = "restored_unsent"


def queue_restored(store: Store, server_id: int) -> None:
    waiting = set(json.loads(get_state(store, _RESTORED_KEY, "[]") or "[]"))
    waiting.add(int(server_id))
    set_state(store, **{_RESTORED_KEY: json.dumps(sorted(waiting))})


def _send_restored(store: Store, server: Server) -> None:
    waiting = json.loads(get_state(store, _RESTORED_KEY, "[]") or "[]")
    for start in range(0, len(waiting), 1000):
        chunk = waiting[start:start + 1000]
        server.request("POST", "/sync/conflicts/restored", json={"ids": chunk})
        with store.atomic():  # restores made meanwhile stay queued
            left = set(json.loads(get_state(store, _RESTORED_KEY, "[]") or "[]")) - set(chunk)
            set_state(store, **{_RESTORED_KEY: json.dumps(sorted(left))})


def _see_clock(store: Store, readings: Iterable[str]) -> None:
    """Keep this device's clock past every reading pulled, so its next edit is later than all of them."""
    newest = max(readings, default="")
    if newest and newest > (get_state(store, "hlc_seen") or ""):
        store.clock.receive(Timestamp.parse(newest))
        store.conn.execute("INSERT INTO sync_state (key, value) VALUES ('hlc_seen', ?) ON CONFLICT(key) DO UPDATE "
                           "SET value = excluded.value", (newest,))


# -- push and pull ----------------------------------------------------------------------------

def push(store: Store, server: Server, report: SyncReport, *, batch: int = PUSH_BATCH,
         progress: Callable[[str], None] | None = None) -> None:
    ids = _Ids(store)
    known = _known_tables(store)
    after = 0
    while True:
        edits = list(itertools.islice(change_log.edits(store, unpushed=True, since_seq=after), batch))
        if not edits:
            return
        ops = []
        for edit in edits:
            values = ids.outgoing(edit.table, edit.values)
            base = _versions(store, edit.table, edit.row_uid)
            ops.append({"op_id": f"{store.node_id}-{edit.seq}", "table": edit.table, "row_uid": edit.row_uid,
                        "op": edit.op, "values": values, "hlc": edit.hlc,
                        "base": {c: base.get(c) for c in values}})
        results = server.push(store.node_id, ops)
        if len(results) != len(ops):
            raise SyncError("the server answered a push with the wrong number of results; nothing was marked sent")
        now = utc_now()
        with store.atomic():
            later: list[tuple] = []
            for edit, op, result in zip(edits, ops, results):
                if result.get("op_id") != op["op_id"]:
                    raise SyncError("the server answered a push out of order; nothing was marked sent")
                store.conn.execute("UPDATE change_log SET pushed_at = ? WHERE seq = ?", (now, edit.seq))
                if result["status"] in ("applied", "duplicate"):
                    versions = _versions(store, edit.table, edit.row_uid)
                    for column in op["values"]:
                        if edit.hlc > versions.get(column, ""):
                            versions[column] = edit.hlc
                    _save_versions(store, edit.table, edit.row_uid, versions)
                    report.pushed += 1
                    if result.get("lost"):
                        later.append((edit, op, result))
                else:
                    report.rejected += 1
                    later.append((edit, op, result))
            # Only now, with every acknowledged edit of the batch counted, take the server's values
            # where ours lost or were refused: a later edit of ours (in this batch or not sent yet)
            # still wins over them.
            for edit, op, result in later:
                pending = _unpushed_row(store, edit.table, edit.row_uid)
                if result["status"] in ("applied", "duplicate"):
                    lost = result["lost"]  # the conflict itself comes with the pull
                    _apply_remote(store, ids, known, report, edit.table, edit.row_uid,
                                  {c: v[0] for c, v in lost.items()}, {c: v[1] for c, v in lost.items()}, pending)
                else:
                    _refused(store, ids, known, report, edit, op, result, pending)
        after = edits[-1].seq
        if progress:
            progress(f"sent {report.pushed + report.rejected} changes")


def _unpushed_row(store: Store, table: str, uid: str) -> dict[str, str]:
    """The newest reading per column of this row's local edits not sent yet."""
    out: dict[str, str] = {}
    for value, hlc, column in store.conn.execute(
            "SELECT value, hlc, column_name FROM change_log WHERE pushed_at IS NULL AND table_name = ? AND row_uid = ?",
            (table, uid)):
        for name in ([column] if column else json.loads(value or "{}")):
            if hlc > out.get(name, ""):
                out[name] = hlc
    return out


def _refused(store: Store, ids: _Ids, known: set[str], report: SyncReport, edit, op: dict, result: dict,
             pending: dict[str, str]) -> None:
    """The server would not take this edit: keep the local value as a conflict (so it can be seen and
    restored later) and show the server's value again where the server told us what it is."""
    current = result.get("current") or {}
    if "moved_to" in result:  # moved away from this user: say so once per row, in the user's words
        label = _label(store, edit.table, edit.row_id)
        line = (f"your edit to {gone.noun(edit.table)} {label} was refused: {gone.noun(edit.table)} now belongs to "
                f"{gone.owner_name(store, result['moved_to'])}; it is kept in Conflicts")
        if line not in report.moved_refused:
            report.moved_refused.append(line)
    for column, value in op["values"].items():
        kept = current.get(column, [None, None])
        store.conn.execute(
            "INSERT INTO conflicts (table_name, row_uid, column_name, kept_value, kept_hlc, lost_value, lost_hlc, "
            "reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (edit.table, edit.row_uid, column, _dumps(kept[0]), kept[1], _dumps(value), edit.hlc,
             f"refused by the server: {result.get('reason', 'no reason given')}", utc_now()))
        report.conflicts += 1
    if current:
        _apply_remote(store, ids, known, report, edit.table, edit.row_uid, {c: v[0] for c, v in current.items()},
                      {c: v[1] for c, v in current.items() if v[1]}, pending, force=current)


def pull(store: Store, server: Server, report: SyncReport, *, page: int = PULL_PAGE,
         progress: Callable[[str], None] | None = None) -> None:
    ids = _Ids(store)
    known = _known_tables(store)
    while True:
        cursor = int(get_state(store, "pull_cursor", "0") or 0)
        answer = server.pull(cursor, page)
        with store.atomic():
            pending = _unpushed(store)
            readings = []
            for obj in answer["objects"]:
                outcome = _apply_remote(store, ids, known, report, obj["table"], obj["row_uid"], obj["values"],
                                        obj["versions"], pending.get((obj["table"], obj["row_uid"]), {}))
                report.pulled += outcome == "applied"
                readings.extend(obj["versions"].values())
            report.conflicts += _store_conflicts(store, answer["conflicts"])
            _take_gone(store, ids, known, report, answer.get("gone", []))
            _see_clock(store, readings)
            store.conn.execute("INSERT INTO sync_state (key, value) VALUES ('pull_cursor', ?) ON CONFLICT(key) DO "
                               "UPDATE SET value = excluded.value", (str(answer["next_cursor"]),))
        if progress:
            progress(f"received {report.pulled} rows")
        if not answer["has_more"]:
            break
    _retry_parked(store, ids, known, report)


def _label(store: Store, table: str, row_id: int) -> str:
    """How people name a row: an account's or lead's name, else its table's word and id."""
    name = None
    if table in ("accounts", "leads", "reps", "territories"):
        name = store.scalar(f"SELECT name FROM {table} WHERE id = ?", (row_id,))
    return repr(name) if name else f"#{row_id}"


def _take_gone(store: Store, ids: _Ids, known: set[str], report: SyncReport, markers: list[dict]) -> None:
    """Hide the rows the server says moved out of this user's sight (not logged: no one deleted them)."""
    me = get_state(store, "rep_uid") or None
    for marker in markers:
        table, uid = marker["table"], marker["row_uid"]
        store.conn.execute("DELETE FROM sync_parked WHERE table_name = ? AND row_uid = ?", (table, uid))
        if table not in known or table == "expense_audit":  # the audit trail is append-only, never hidden
            continue
        row_id = ids.id(table, uid)
        if row_id is None or gone.is_gone(store, table, uid):
            continue  # never here, or hidden already
        cancelled = gone.hide(store, table, uid, row_id, marker.get("owner"), me)
        if cancelled:
            report.visits_cancelled += len(cancelled)
            report.touched.setdefault("visits", set()).update(cancelled)
        if table not in gone.UNDER_OTHERS:
            report.gone[table] = report.gone.get(table, 0) + 1
        report.touched.setdefault(table, set()).add(row_id)
    for table, row_id in gone.keep_hidden(store):
        report.touched.setdefault(table, set()).add(row_id)


def open_server(store: Store, *, timeout: float = 30.0) -> Server:
    """The server this database logged in to, with its token; NotLoggedIn when there is none."""
    url, email = get_state(store, "server_url"), get_state(store, "email")
    if not url or not email:
        raise NotLoggedIn("this database has not logged in to a server; run `fieldatlas login` first")
    token = credentials.load_token(url, email)
    if not token:
        raise NotLoggedIn(f"no login kept for {email} at {url}; run `fieldatlas login` again")
    return Server(url, token, timeout=timeout)


def sync(store: Store, server: Server | None = None, *, progress: Callable[[str], None] | None = None) -> SyncReport:
    """Push every local edit, then pull everything new; records when it last worked or why it failed."""
    own = server is None
    server = server or open_server(store)
    report = SyncReport()
    try:
        # Receipt bytes first, so a laptop that pulls the expense can fetch its file at once.
        report.files_sent, report.files_refused = files.upload(store, server)
        push(store, server, report, progress=progress)
        _send_restored(store, server)  # after the push: the restored value itself is already there
        pull(store, server, report, progress=progress)
        report.files_received = files.download(store, server)
    except SyncError as exc:
        set_state(store, last_error=str(exc))
        raise
    finally:
        if own:
            server.close()
    set_state(store, last_sync_at=utc_now(), last_error="", last_result=report.text())
    return report
