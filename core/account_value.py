"""One typed, immutable account value and the one read service that builds it (planning, rotation, maps, CLI)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator, Mapping, Sequence

from core import defaults, opening_hours, visit_frequency as frequency
from core.opening_hours import WEEKDAYS, WeeklyHours, Window
from core.storage.database import Store

VISITS_PER_YEAR = frequency.VISITS_PER_YEAR


@dataclass(frozen=True)
class Account:
    """An account as the features see it. Hours are parsed once; None means 'not known' (any time will do)."""

    id: int
    name: str
    lat: float | None = None
    lon: float | None = None
    tier: str | None = None
    status: str = "active"
    owner_id: int | None = None
    territory_id: int | None = None
    visit_frequency: str = defaults.VISIT_FREQUENCY
    visit_minutes: int = defaults.VISIT_MINUTES
    hours: WeeklyHours | None = None
    allowed_weekdays: tuple[str, ...] | None = None   # None = no restriction
    last_visit_at: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    external_id: str | None = None
    potential_cents: int | None = None
    locked: bool = False
    deleted: bool = False
    opening_hours_json: str | None = None   # the stored text, for code that still passes JSON on

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def visits_per_year(self) -> int:
        return 0 if self.status == "inactive" else frequency.visits_per_year(self.visit_frequency)

    @property
    def visits_per_cycle(self) -> int | None:
        """N when the frequency is 'N per cycle', else None."""
        return frequency.per_cycle(self.visit_frequency)

    @property
    def interval_days(self) -> float | None:
        """Days between visits (None for no regular visits)."""
        return frequency.interval_days(self.visit_frequency)

    def visits_in_cycle(self, weeks: int) -> int:
        return frequency.visits_in_cycle(self.visit_frequency, weeks)

    def open_on(self, weekday: str | int) -> bool:
        """Open at some time on this weekday ('mon' or 0); unknown hours count as open."""
        return True if self.hours is None else self.hours.open_on(weekday)

    def windows_on(self, day: date) -> tuple[Window, ...] | None:
        """Opening windows on this date (minutes after midnight); () when closed, None when hours are not known."""
        return None if self.hours is None else self.hours.windows_on(day)

    def as_row(self) -> dict[str, Any]:
        """The plain dict older callers pass around (planning's candidates), with the stored hours text."""
        return {"id": self.id, "name": self.name, "city": self.city, "lat": self.lat, "lon": self.lon,
                "tier": self.tier, "visit_frequency": self.visit_frequency, "visit_minutes": self.visit_minutes,
                "opening_hours": self.opening_hours_json, "last_visit_at": self.last_visit_at,
                "allowed_weekdays": opening_hours.format_weekdays(self.allowed_weekdays)}

    def visit_weekdays(self, workdays: Sequence[str] = WEEKDAYS[:5]) -> tuple[str, ...]:
        """Weekdays it can be visited: the rep's working days ∩ its allowed weekdays ∩ the days it is open."""
        return tuple(d for d in WEEKDAYS if d in workdays and (self.allowed_weekdays is None or d in self.allowed_weekdays)
                     and self.open_on(d))


def hours_from_json(text: str | None) -> WeeklyHours | None:
    """Stored hours JSON -> WeeklyHours; None when not known or damaged."""
    try:
        return WeeklyHours.from_json(text)
    except (ValueError, json.JSONDecodeError):
        return None  # writes validate hours; a value damaged outside FieldAtlas counts as not known


def _weekdays(text: str | None) -> tuple[str, ...] | None:
    try:
        return opening_hours.parse_weekdays(text)
    except ValueError:
        return None


def from_row(row: Mapping[str, Any]) -> Account:
    """An Account from an accounts row (sqlite3.Row or dict)."""
    keys = row.keys()
    get = (lambda k: row[k] if k in keys else None)
    return Account(
        id=row["id"], name=row["name"], lat=get("lat"), lon=get("lon"), tier=get("tier"),
        status=get("status") or "active", owner_id=get("owner_id"), territory_id=get("territory_id"),
        visit_frequency=get("visit_frequency") or defaults.VISIT_FREQUENCY,
        visit_minutes=defaults.VISIT_MINUTES if get("visit_minutes") is None else int(get("visit_minutes")),
        hours=hours_from_json(get("opening_hours")), allowed_weekdays=_weekdays(get("allowed_weekdays")),
        last_visit_at=get("last_visit_at"), city=get("city"), state=get("state"), postal_code=get("postal_code"),
        external_id=get("external_id"), potential_cents=get("potential_cents"), locked=bool(get("locked")),
        deleted=bool(get("deleted_at")), opening_hours_json=get("opening_hours"))


_COLUMNS = ("id, name, lat, lon, tier, status, owner_id, territory_id, visit_frequency, visit_minutes, "
            "opening_hours, allowed_weekdays, last_visit_at, city, state, postal_code, external_id, "
            "potential_cents, locked, deleted_at")


def _where(include_deleted: bool, owner_id: int | None, territory_id: int | None, active: bool, located: bool,
           visited: bool) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if not include_deleted:
        clauses.append("deleted_at IS NULL")
    if owner_id is not None:
        clauses.append("owner_id = ?")
        params.append(owner_id)
    if territory_id is not None:
        clauses.append("territory_id = ?")
        params.append(territory_id)
    if active:
        clauses.append("status = 'active'")
    if located:
        clauses.append("lat IS NOT NULL AND lon IS NOT NULL")
    if visited:
        clauses.append("visit_frequency != 'none'")
    return " AND ".join(clauses) or "1", params


def read_accounts(store: Store, *, ids: Iterable[int] | None = None, owner_id: int | None = None,
                  territory_id: int | None = None, active: bool = False, located: bool = False,
                  visited: bool = False, include_deleted: bool = False) -> list[Account]:
    """Accounts in id order. active: status 'active'; located: has coordinates; visited: frequency is not 'none'."""
    where, params = _where(include_deleted, owner_id, territory_id, active, located, visited)
    if ids is None:
        rows = store.conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE {where} ORDER BY id", params).fetchall()
        return [from_row(r) for r in rows]
    wanted = list(dict.fromkeys(ids))
    out: list[Account] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out += [from_row(r) for r in store.conn.execute(
            f"SELECT {_COLUMNS} FROM accounts WHERE {where} AND id IN ({marks})", [*params, *chunk])]
    out.sort(key=lambda a: a.id)
    return out


def with_account_fields(store: Store, rows: Iterable[Mapping[str, Any]], fields: Sequence[str],
                        key: str = "account_id") -> list[dict[str, Any]]:
    """Rows that name an account (visits, rotation slots) as dicts with these fields of its Account value.

    Fields are as_row() keys (name, tier, visit_minutes, opening_hours, allowed_weekdays, lat, lon, …);
    deleted accounts count too (history may name one). This is how feature code joins accounts in,
    instead of each writing its own JOIN over the table.
    """
    rows = [dict(r) for r in rows]
    found = {a.id: a.as_row() for a in read_accounts(store, ids={r[key] for r in rows}, include_deleted=True)}
    out = []
    for r in rows:
        acc = found.get(r[key])
        if acc is not None:  # a reference to no account at all cannot be planned (the JOIN dropped it too)
            out.append({**r, **{f: acc[f] for f in fields}})
    return out


# The map's lean projection: a marker needs these, not parsed hours. Building the full Account value
# for 100,000 located accounts took 5.3-6.5 s of CPU (mostly parsing hours); the whole map read 0.8 s.
MARKER_COLUMNS = ("id", "name", "lat", "lon", "owner_id", "territory_id", "tier", "potential_cents", "city", "state")


def read_markers(store: Store, *, owner_id: int | None = None, territory_id: int | None = None,
                 bounds: tuple[float, float, float, float] | None = None,
                 batch: int = 20_000) -> Iterator[list[tuple]]:
    """Live, located accounts as plain tuples in MARKER_COLUMNS order, id order, in batches of `batch` rows.

    bounds: (south, west, north, east) to read only the accounts inside a box.
    """
    where, params = _where(False, owner_id, territory_id, False, True, False)
    if bounds is not None:
        where += " AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
        params += [bounds[0], bounds[2], bounds[1], bounds[3]]
    cursor = store.conn.cursor()
    cursor.row_factory = None  # plain tuples: 100,000 rows read in a fraction of the time
    cursor.execute(f"SELECT {', '.join(MARKER_COLUMNS)} FROM accounts WHERE {where} ORDER BY id", params)
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            return
        yield rows


def read_account(store: Store, account_id: int) -> Account:
    """One account (deleted ones too); KeyError when there is no such account."""
    found = read_accounts(store, ids=[account_id], include_deleted=True)
    if not found:
        raise KeyError(f"account {account_id} does not exist")
    return found[0]
