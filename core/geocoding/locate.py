"""Giving accounts coordinates: offline first (ZIP, then city), online when asked; manual pins are never moved."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from core.changes import Changes
from core.geocoding.offline import gazetteer
from core.geocoding.online import Found, GeocoderProblem, raw_json
from core.progress import Progress, check_cancelled, seconds_text
from core.storage import writes
from core.storage.database import Store

RANK = {None: 0, "city": 1, "zip": 2, "street": 3, "rooftop": 4, "manual": 5}
# After this many failed online requests in a row the service is taken to be down; fewer when
# none has worked yet (no network at all should not cost minutes of retries).
MAX_FAILURES_IN_A_ROW = 5
MAX_FAILURES_BEFORE_ANY_ANSWER = 2
ONLINE_COMMIT_EVERY = 25


@dataclass
class GeocodeResult:
    """How many accounts were located at which precision, and the ones that were not."""

    located: dict[str, int] = field(default_factory=dict)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    considered: int = 0
    manual_kept: int = 0
    online_queries: int = 0
    cache_hits: int = 0
    failures: int = 0
    stopped_reason: str = ""
    seconds: float = 0.0
    changes: Changes = field(default_factory=Changes)

    @property
    def located_total(self) -> int:
        return sum(self.located.values())

    def summary(self) -> str:
        parts = ", ".join(f"{n:,} by {p}" for p, n in sorted(self.located.items(), key=lambda kv: -RANK[kv[0]]))
        text = f"Located {self.located_total:,} of {self.considered:,} accounts"
        text += f" ({parts})" if parts else ""
        if self.online_queries or self.cache_hits:
            text += f"; {self.online_queries:,} online lookups, {self.cache_hits:,} answered from the cache"
        if self.unmatched:
            text += f"; {len(self.unmatched):,} not found"
        if self.stopped_reason:
            text += f"; stopped early: {self.stopped_reason}"
        return text + f" in {seconds_text(self.seconds)}."

    def as_dict(self) -> dict[str, Any]:
        return {"considered": self.considered, "located": self.located, "located_total": self.located_total,
                "unmatched": self.unmatched, "manual_kept": self.manual_kept, "online_queries": self.online_queries,
                "cache_hits": self.cache_hits, "failures": self.failures, "stopped_reason": self.stopped_reason,
                "seconds": round(self.seconds, 3)}


def address_query(row: Any) -> str:
    """The one-line address sent to an online geocoder (and the cache key with the provider)."""
    parts = [row["street"], row["city"], " ".join(p for p in (row["state"], row["postal_code"]) if p),
             row["country"] or "US"]
    return ", ".join(p.strip() for p in parts if p and p.strip())


# What locating an account without a point sets.
FRESH_COLUMNS = ("lat", "lon", "geocode_precision", "geocoded_at")
_CANDIDATE_COLUMNS = ("id", "uid", "name", "street", "city", "state", "postal_code", "country", "lat", "lon",
                      "geocode_precision")
_OFFLINE_COLUMNS = ("id", "uid", "city", "state", "postal_code", "country", "lat", "lon", "geocode_precision")


def _candidates(store: Store, redo: bool, online: bool, account_ids: Sequence[int] | None,
                plain: bool = False) -> list[Any]:
    """The accounts a pass may locate: sqlite3.Row objects, or with plain=True tuples in _OFFLINE_COLUMNS
    order: 98,000 read in 0.9 s instead of 1.3 s (same load) without the name and street, which only
    the few accounts not found need, and less again without a Row object each."""
    columns = _OFFLINE_COLUMNS if plain else _CANDIDATE_COLUMNS
    where = ["deleted_at IS NULL", "(geocode_precision IS NULL OR geocode_precision != 'manual')"]
    if plain:
        # The offline pass also gets the manual pins (and counts them): one scan instead of two.
        where = ["deleted_at IS NULL", "(geocode_precision = 'manual' OR " + ("1)" if redo else "lat IS NULL)")]
    elif online:
        # Online lookups are slow and rate limited: spend them where they improve on a ZIP centre.
        where.append("(lat IS NULL OR geocode_precision IS NULL OR geocode_precision IN ('zip', 'city'))")
    elif not redo:
        where.append("lat IS NULL")
    sql = f"SELECT {', '.join(columns)} FROM accounts WHERE {' AND '.join(where)} ORDER BY id"
    if plain:
        cursor = store.conn.cursor()
        cursor.row_factory = None
        rows = cursor.execute(sql).fetchall()
    else:
        rows = store.query(sql)
    if account_ids is not None:
        wanted = set(account_ids)
        rows = [r for r in rows if r[0] in wanted]
    return rows


def geocode_accounts(store: Store, *, online: bool = False, geocoder: Callable[[str], Found | None] | None = None,
                     redo: bool = False, limit: int | None = None, account_ids: Sequence[int] | None = None,
                     progress: Progress | None = None) -> GeocodeResult:
    """Locate accounts. Offline: ZIP centroid, else city centroid, for accounts without coordinates
    (redo=True also refreshes zip/city ones). Online (geocoder given): street addresses of accounts
    located no better than a ZIP centre, at most `limit` lookups, answers cached; offline fills the rest.
    A pin placed by hand (precision 'manual') is never changed.
    """
    started = time.perf_counter()
    result = GeocodeResult()
    if account_ids is not None:
        ids = list(account_ids)
        marks = ",".join("?" * len(ids)) or "NULL"
        result.manual_kept = store.scalar(
            f"SELECT count(*) FROM accounts WHERE geocode_precision = 'manual' AND id IN ({marks})", ids) or 0
    elif online:
        result.manual_kept = store.scalar(
            "SELECT count(*) FROM accounts WHERE geocode_precision = 'manual' AND deleted_at IS NULL") or 0
    # (Otherwise the offline pass counts the pins in the scan it makes anyway: counting them apart
    # read the whole table once more, a tenth of geocoding 100,000 accounts.)
    touched: set[int] = set()
    if online:
        if geocoder is None:
            raise GeocoderProblem("online geocoding needs a geocoder")
        touched |= _online_pass(store, geocoder, result, limit, account_ids, progress)
    touched |= _offline_pass(store, result, redo, account_ids, progress)
    result.seconds = time.perf_counter() - started
    if touched:
        result.changes = Changes.of("accounts", touched, f"{len(touched):,} accounts located")
    return result


# The temporary table the ZIP pass joins accounts with (per connection, dropped after use), and
# whether this SQLite has the UPDATE ... FROM (3.33) that writes.update_from_query uses.
_ZIP_TABLE = "temp.geocode_zip_points"
SQL_ZIP_PASS = sqlite3.sqlite_version_info >= (3, 33, 0)


def _offline_pass(store: Store, result: GeocodeResult, redo: bool, account_ids, progress) -> set[int]:
    if redo or account_ids is not None or not SQL_ZIP_PASS:
        return _offline_rows(store, result, redo, account_ids, progress)
    # Most accounts have a five-digit ZIP the gazetteer knows: SQLite locates and logs those by a
    # join with the ZIP centroids (100,000 accounts without a row, a tuple or a dict in Python; see
    # docs/notes/issue-3-import.md, Session 4), and the rows go on to the general pass only for the rest
    # (other codes, city fallback, not found). One transaction, so a cancel or a kill keeps nothing.
    with store.atomic():
        check_cancelled(progress)
        if progress is not None:
            progress.update(0, 0, "locating by ZIP code")
        by_zip = _locate_by_zip(store)
        if by_zip:
            result.located["zip"] = result.located.get("zip", 0) + len(by_zip)
        return set(by_zip) | _offline_rows(store, result, redo, account_ids, progress, already=len(by_zip))


def _locate_by_zip(store: Store) -> list[int]:
    """Give accounts without a point whose postal code is a known ZIP (five digits, or ZIP+4 as
    12345-6789) and whose country is the US or none its centroid, exactly as the row-by-row pass
    would (same values, same log rows); returns their ids."""
    from core.importing.values import US_NAMES

    conn = store.conn
    conn.execute(f"DROP TABLE IF EXISTS {_ZIP_TABLE}")
    # ZIPs as integers (no leading zeros): filling the table is three times faster than with text keys.
    conn.execute(f"CREATE TABLE {_ZIP_TABLE} (zip INTEGER PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL)")
    try:
        writes.insert_plain(conn, _ZIP_TABLE, ("zip", "lat", "lon"), gazetteer().zip_points)
        # The spellings locate() takes for the US (it strips and casefolds; others go the row-by-row way).
        countries = sorted({"", *US_NAMES, *(n.upper() for n in US_NAMES), *(n.title() for n in US_NAMES)})
        digits = "[0-9]" * 5
        before = store.scalar("SELECT max(seq) FROM change_log") or 0
        query = (
            "SELECT t.id, t.uid, z.lat, z.lon, 'zip', ? FROM accounts AS t, "
            f"{_ZIP_TABLE} AS z WHERE t.lat IS NULL AND t.deleted_at IS NULL "
            "AND (t.geocode_precision IS NULL OR t.geocode_precision != 'manual') "
            f"AND (t.country IS NULL OR t.country IN ({', '.join('?' * len(countries))})) "
            # zip5() takes a code of five digits as it is and the first five of 12345-6789.
            f"AND (t.postal_code GLOB '{digits}' OR t.postal_code GLOB '{digits}-{'[0-9]' * 4}') "
            "AND z.zip = CAST(substr(t.postal_code, 1, 5) AS INTEGER) ORDER BY t.id")
        # (lat and lon are the gazetteer's zip_points, each checked with json_exact_float.)
        if not writes.update_from_query(store, "accounts", FRESH_COLUMNS, query, [writes.utc_now(), *countries],
                                        checked=("lat", "lon")):
            return []
        cursor = conn.cursor()
        cursor.row_factory = None  # (plain tuples: a Row object each was a tenth of the time here)
        return [r[0] for r in cursor.execute("SELECT row_id FROM change_log WHERE seq > ?", (before,)).fetchall()]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {_ZIP_TABLE}")


def _offline_rows(store: Store, result: GeocodeResult, redo: bool, account_ids, progress,
                  already: int = 0) -> set[int]:
    """The offline pass row by row (in Python): ZIP, else city; refreshes old points when redo."""
    rows = _candidates(store, redo, False, account_ids, plain=True)
    precision_at = _OFFLINE_COLUMNS.index("geocode_precision")
    if any(row[precision_at] == "manual" for row in rows):
        pins = sum(1 for row in rows if row[precision_at] == "manual")
        rows = [row for row in rows if row[precision_at] != "manual"]
    else:
        pins = 0
    if account_ids is None and not result.manual_kept:
        result.manual_kept = pins
    if not result.considered:
        result.considered = already + len(rows)
    else:
        result.considered = max(result.considered, already + len(rows))
    gaz = gazetteer()
    locate = gaz.locate
    now = writes.utc_now()
    fresh: list[tuple] = []  # accounts without a point: (id, uid, *FRESH_COLUMNS values)
    edits = []               # accounts whose point improves: (id, uid, {column: value})
    located = result.located
    total = len(rows)
    not_found: list[tuple] = []
    # (Rows are tuples in _OFFLINE_COLUMNS order: this loop runs once per unlocated account.)
    for i, (account_id, uid, city, state, postal_code, country, old_lat, old_lon, old_precision) in enumerate(rows):
        if i % 5000 == 0:
            check_cancelled(progress)
            if progress is not None:
                progress.update(i, total, "locating offline")
        found = locate(postal_code, city, state, country)
        if found is None:
            if old_lat is None:
                not_found.append(rows[i])
            continue
        lat, lon, precision = found
        lat, lon = round(lat, 6), round(lon, 6)
        if old_lat is None:
            fresh.append((account_id, uid, lat, lon, precision, now))
        else:
            if RANK[old_precision] > RANK[precision]:
                continue  # already better located (e.g. online) than a centroid could do
            old = {"lat": old_lat, "lon": old_lon, "geocode_precision": old_precision}
            values = {"lat": lat, "lon": lon, "geocode_precision": precision, "geocoded_at": now}
            values = {k: v for k, v in values.items() if k == "geocoded_at" or old[k] != v}
            if len(values) == 1:
                continue  # only the time would change
            edits.append((account_id, uid, values))
        located[precision] = located.get(precision, 0) + 1
    named = _names_and_streets(store, [r[0] for r in not_found])
    for row in not_found:
        values = dict(zip(_OFFLINE_COLUMNS, row))
        name, values["street"] = named.get(row[0], (None, None))
        result.unmatched.append({"id": row[0], "name": name, "address": address_query(values),
                                 "reason": gaz.why_not(values["postal_code"], values["city"], values["state"],
                                                       values["country"])})
    with store.atomic():
        # A manual pin placed while this ran must still win: re-check inside the transaction.
        manual = {r[0] for r in store.conn.execute(
            "SELECT id FROM accounts WHERE geocode_precision = 'manual'")} if (edits or fresh) else set()
        if manual:
            fresh = [e for e in fresh if e[0] not in manual]
            edits = [e for e in edits if e[0] not in manual]
        writes.update_columns(store, "accounts", FRESH_COLUMNS, fresh)
        writes.update_known(store, "accounts", edits)
    if progress is not None:
        progress.update(total, total, "done")
    return {e[0] for e in fresh} | {e[0] for e in edits}


def _names_and_streets(store: Store, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    out: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for account_id, name, street in store.conn.execute(
                f"SELECT id, name, street FROM accounts WHERE id IN ({marks})", chunk):
            out[account_id] = (name, street)
    return out


def _cached(store: Store, key: str) -> Any:
    return store.conn.execute("SELECT lat, lon, precision FROM geocode_cache WHERE query = ?", (key,)).fetchone()


def _online_pass(store: Store, geocoder, result: GeocodeResult, limit, account_ids, progress) -> set[int]:
    provider = getattr(geocoder, "provider", "custom")
    rows = [r for r in _candidates(store, False, True, account_ids) if r["street"] or r["city"]]
    result.considered = len(rows)
    touched: set[int] = set()
    pending: list[tuple[int, str, dict]] = []
    failures_in_a_row = 0
    answered = False

    def flush() -> None:
        if not pending:
            return
        with store.atomic():
            manual = {r[0] for r in store.conn.execute("SELECT id FROM accounts WHERE geocode_precision = 'manual'")}
            keep = [p for p in pending if p[0] not in manual]
            writes.update_known(store, "accounts", keep)
            touched.update(p[0] for p in keep)
        pending.clear()

    total = len(rows)
    try:
        for i, row in enumerate(rows):
            check_cancelled(progress)
            if progress is not None:
                progress.update(i, total, f"looking up {row['name']}")
            query = address_query(row)
            key = f"{provider}|{query.casefold()}"
            hit = _cached(store, key)
            if hit is not None:
                result.cache_hits += 1
                found = Found(hit["lat"], hit["lon"], hit["precision"]) if hit["lat"] is not None else None
            else:
                if limit is not None and result.online_queries >= limit:
                    continue
                result.online_queries += 1
                try:
                    found = geocoder(query)
                except Exception as exc:  # geopy raises many kinds; each is one failed lookup
                    result.failures += 1
                    failures_in_a_row += 1
                    limit_now = MAX_FAILURES_IN_A_ROW if answered else MAX_FAILURES_BEFORE_ANY_ANSWER
                    if failures_in_a_row >= limit_now:
                        result.stopped_reason = (f"the {provider} service did not answer {failures_in_a_row} times "
                                                 f"in a row ({_short(exc)}); check the connection or use offline "
                                                 "geocoding")
                        break
                    continue
                failures_in_a_row = 0
                answered = True
                # Every answer is kept, "no match" too, so a re-run never asks the service again.
                with store.atomic():
                    store.conn.execute(
                        "INSERT OR REPLACE INTO geocode_cache (query, provider, lat, lon, precision, raw, fetched_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, provider, found.lat if found else None, found.lon if found else None,
                         found.precision if found else None, raw_json(found.raw) if found else None,
                         writes.utc_now()))
            if found is None or RANK[found.precision] <= RANK[row["geocode_precision"]]:
                continue
            pending.append((row["id"], row["uid"], {"lat": round(found.lat, 6), "lon": round(found.lon, 6),
                                                    "geocode_precision": found.precision,
                                                    "geocoded_at": writes.utc_now()}))
            result.located[found.precision] = result.located.get(found.precision, 0) + 1
            if len(pending) >= ONLINE_COMMIT_EVERY:
                flush()
    finally:
        # Lookups already answered are kept even when the user cancels: they cost a second each.
        flush()
    return touched


def _short(exc: BaseException) -> str:
    """geopy's messages quote whole URLs and urllib3 reprs; keep the part a person can act on."""
    text = str(exc)
    for marker in ("Failed to resolve", "Connection refused", "timed out", "Read timed out", "Max retries"):
        if marker in text:
            return f"{type(exc).__name__}: {marker.lower()}"
    return f"{type(exc).__name__}: {text[:120]}"


def unlocated(store: Store) -> list[dict[str, Any]]:
    """Accounts still without coordinates, with the reason offline data cannot place them."""
    gaz = gazetteer()
    out = []
    for row in store.query("SELECT id, uid, name, street, city, state, postal_code, country, lat, lon, "
                           "geocode_precision FROM accounts WHERE deleted_at IS NULL AND lat IS NULL ORDER BY name"):
        out.append({"id": row["id"], "name": row["name"], "address": address_query(row),
                    "reason": gaz.why_not(row["postal_code"], row["city"], row["state"], row["country"])})
    return out
