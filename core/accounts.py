"""Accounts: the questions views ask (ids in order, rows by id) and the edits they make, validated and logged."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from core import opening_hours
from core import visit_frequency
from core.changes import Changes
from core.storage import writes
from core.storage.database import Store

TIERS = ("A", "B", "C")
STATUSES = ("active", "prospect", "inactive")
PRECISIONS = ("rooftop", "street", "zip", "city", "manual")


@dataclass(frozen=True)
class Column:
    """One column of the accounts table as users see it."""

    key: str
    title: str
    sql: str
    kind: str = "text"  # text | int | money | date


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", "a.name COLLATE NOCASE"),
    Column("city", "City", "a.city COLLATE NOCASE"),
    Column("state", "State", "a.state"),
    Column("postal_code", "ZIP", "a.postal_code"),
    Column("tier", "Tier", "a.tier"),
    Column("industry", "Industry", "a.industry COLLATE NOCASE"),
    Column("owner", "Owner", "r.name COLLATE NOCASE"),
    Column("employees", "Employees", "a.employees", "int"),
    Column("annual_revenue_cents", "Revenue", "a.annual_revenue_cents", "money"),
    Column("potential_cents", "Potential", "a.potential_cents", "money"),
    Column("visit_frequency", "Visits", "a.visit_frequency"),
    Column("last_visit_at", "Last visit", "a.last_visit_at", "date"),
    Column("geocode_precision", "Located by", "a.geocode_precision"),
    Column("external_id", "CRM id", "a.external_id"),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


@dataclass(frozen=True)
class AccountQuery:
    """Filter and order for the accounts list."""

    search: str = ""
    owner_id: int | None = None
    tier: str | None = None
    state: str | None = None
    status: str | None = None
    territory_id: int | None = None
    unowned: bool = False
    include_deleted: bool = False
    sort_key: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class Problem:
    """Why a value was refused: which field, what value, and the reason in plain words."""

    field: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason} (got {self.value!r})"


class ValidationError(ValueError):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in problems))


def _where(query: AccountQuery) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if not query.include_deleted:
        clauses.append("a.deleted_at IS NULL")
    if query.search.strip():
        like = f"%{query.search.strip()}%"
        clauses.append("(a.name LIKE ? OR a.city LIKE ? OR a.postal_code LIKE ? OR a.external_id LIKE ?"
                       " OR a.industry LIKE ?)")
        params += [like] * 5
    if query.owner_id is not None:
        clauses.append("a.owner_id = ?")
        params.append(query.owner_id)
    if query.unowned:
        clauses.append("a.owner_id IS NULL")
    if query.tier:
        clauses.append("a.tier = ?")
        params.append(query.tier)
    if query.state:
        clauses.append("a.state = ?")
        params.append(query.state)
    if query.status:
        clauses.append("a.status = ?")
        params.append(query.status)
    if query.territory_id is not None:
        clauses.append("a.territory_id = ?")
        params.append(query.territory_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def account_ids(store: Store, query: AccountQuery = AccountQuery()) -> list[int]:
    """Ids of the matching accounts in display order (cheap enough for 100,000 rows)."""
    column = COLUMN_BY_KEY.get(query.sort_key, COLUMN_BY_KEY["name"])
    where, params = _where(query)
    direction = "DESC" if query.descending else "ASC"
    join = "LEFT JOIN reps r ON r.id = a.owner_id" if column.key == "owner" else ""
    # NULLs last whichever way the user sorts (name is never NULL), then id for a stable order.
    nulls_last = "" if column.key == "name" else f"({column.sql.split(' COLLATE')[0]}) IS NULL, "
    sql = (f"SELECT a.id FROM accounts a {join}{where} "
           f"ORDER BY {nulls_last}{column.sql} {direction}, a.id {direction if column.key == 'name' else ''}")
    return [r[0] for r in store.conn.execute(sql, params)]


def fetch_rows(store: Store, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Display rows for these ids (owner name joined in)."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        for row in store.conn.execute(
            f"SELECT a.*, r.name AS owner FROM accounts a LEFT JOIN reps r ON r.id = a.owner_id "
            f"WHERE a.id IN ({marks})", chunk):
            out[row["id"]] = dict(row)
    return out


def get_account(store: Store, account_id: int) -> dict[str, Any]:
    row = fetch_rows(store, [account_id]).get(account_id)
    if row is None:
        raise KeyError(f"account {account_id} does not exist")
    return row


EDITABLE = (
    "external_id", "name", "street", "city", "state", "postal_code", "country", "phone", "website",
    "lat", "lon", "geocode_precision", "industry", "employees", "annual_revenue_cents", "segment",
    "customer_type", "products", "channel", "tier", "potential_cents", "visit_frequency",
    "visit_minutes", "opening_hours", "allowed_weekdays", "owner_id", "territory_id", "status",
    "locked", "notes",
)
_STATE = re.compile(r"^[A-Z]{2}$")


def _whole(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    return "must not be negative" if value < 0 else None


def _coordinate(lo: int, hi: int):
    def check(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        return None if lo <= value <= hi else f"must be between {lo} and {hi}"
    return check


def _one_of(allowed: Iterable[Any], reason: str):
    allowed = frozenset(allowed)
    return lambda value: None if value in allowed else reason


def _opening_hours(value: Any) -> str | None:
    if not value:
        return None
    try:
        opening_hours.parse(value)
    except (ValueError, json.JSONDecodeError) as exc:
        return str(exc)
    return None


def _allowed_weekdays(value: Any) -> str | None:
    if value is None:
        return None
    try:
        days = opening_hours.parse_weekdays(value)
    except ValueError as exc:
        return str(exc)
    if days is not None and opening_hours.format_weekdays(days) != value:
        return "store weekdays as 'mon,tue,...' (week order, lower case)"
    return None


def _products(value: Any) -> str | None:
    try:
        if not isinstance(json.loads(value or "[]"), list):
            raise ValueError
    except (ValueError, TypeError):
        return "must be a JSON list of product names"
    return None


# One check per field, run only for the fields given (an import validates 100,000 rows).
_CHECKS = {
    "name": lambda value: None if str(value or "").strip() else "a name is required",
    "employees": _whole, "annual_revenue_cents": _whole, "potential_cents": _whole, "visit_minutes": _whole,
    "lat": _coordinate(-90, 90), "lon": _coordinate(-180, 180),
    "tier": _one_of((None, *TIERS), "must be A, B or C"),
    "visit_frequency": lambda value: None if visit_frequency.is_stored(value) else (
        "must be one of " + ", ".join(visit_frequency.WORDS) + f" or N/cycle (N from 1 to {visit_frequency.MAX_PER_CYCLE})"),
    "status": _one_of(STATUSES, "must be one of " + ", ".join(STATUSES)),
    "geocode_precision": _one_of((None, *PRECISIONS), "must be one of " + ", ".join(PRECISIONS)),
    "opening_hours": _opening_hours,
    "allowed_weekdays": _allowed_weekdays,
    "products": _products,
}
_ORDER = {key: i for i, key in enumerate(("name", "employees", "annual_revenue_cents", "potential_cents",
                                          "visit_minutes", "lat", "lon", "tier", "visit_frequency", "status",
                                          "geocode_precision", "state", "opening_hours", "allowed_weekdays",
                                          "products"))}
_EDITABLE_SET = frozenset(EDITABLE)
# Fields validate() has a rule for (state's depends on country); the rest are free text.
CHECKED_FIELDS = frozenset(_CHECKS) | {"state", "country"}


def validate(values: Mapping[str, Any]) -> list[Problem]:
    """Check account fields the way a careful colleague would; an empty list means fine."""
    problems: list[Problem] = []
    for key, value in values.items():
        check = _CHECKS.get(key)
        if check is not None:
            reason = check(value)
            if reason:
                problems.append(Problem(key, value, reason))
        elif key not in _EDITABLE_SET:
            problems.append(Problem(key, value, "is not an account field that can be edited"))
    minutes = values.get("visit_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 1440:
        problems.append(Problem("visit_minutes", minutes, "must be at most a day (1440 minutes)"))
    state = values.get("state")
    if state and not _STATE.match(str(state)) and (values.get("country") or "US") == "US":
        problems.append(Problem("state", state, "use the two-letter state code, e.g. TX"))
    if len(problems) > 1:
        # Unknown fields first, then the order a form shows them, whatever order they came in.
        problems.sort(key=lambda p: _ORDER.get(p.field, -1) if p.field in _EDITABLE_SET else -2)
    return problems


def _check_references(store: Store, values: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for key, table in (("owner_id", "reps"), ("territory_id", "territories")):
        if values.get(key) is not None:
            if not store.scalar(f"SELECT 1 FROM {table} WHERE id = ? AND deleted_at IS NULL", (values[key],)):
                problems.append(Problem(key, values[key], f"no such {table[:-1]}"))
    return problems


def create_account(store: Store, values: Mapping[str, Any]) -> tuple[int, Changes]:
    problems = validate(values) + _check_references(store, values)
    if "name" not in values:
        problems.insert(0, Problem("name", None, "a name is required"))
    if problems:
        raise ValidationError(problems)
    account_id = writes.insert(store, "accounts", dict(values))
    return account_id, Changes.of("accounts", [account_id], "account created")


def update_account(store: Store, account_id: int, values: Mapping[str, Any]) -> tuple[Changes, dict[str, Any]]:
    """Validate and apply an edit; returns what changed and the old values (for undo)."""
    problems = validate(values) + _check_references(store, values)
    if problems:
        raise ValidationError(problems)
    old = writes.update(store, "accounts", account_id, values)
    if not old:
        return Changes(), {}
    return Changes.of("accounts", [account_id], "account edited"), old


def delete_account(store: Store, account_id: int) -> Changes:
    writes.delete(store, "accounts", account_id)
    return Changes.of("accounts", [account_id], "account deleted")


def restore_account(store: Store, account_id: int) -> Changes:
    writes.restore(store, "accounts", account_id)
    return Changes.of("accounts", [account_id], "account restored")


def delete_accounts(store: Store, account_ids: Iterable[int]) -> Changes:
    """Tombstone several accounts in one transaction."""
    ids = list(account_ids)
    with store.atomic():
        for account_id in ids:
            writes.delete(store, "accounts", account_id)
    return Changes.of("accounts", ids, f"{len(ids)} accounts deleted")


def restore_accounts(store: Store, account_ids: Iterable[int]) -> Changes:
    """Bring tombstoned accounts back in one transaction."""
    ids = list(account_ids)
    with store.atomic():
        for account_id in ids:
            writes.restore(store, "accounts", account_id)
    return Changes.of("accounts", ids, f"{len(ids)} accounts restored")


def counts(store: Store) -> dict[str, int]:
    """Figures for the status bar."""
    row = store.conn.execute(
        "SELECT (SELECT count(*) FROM accounts WHERE deleted_at IS NULL),"
        " (SELECT count(*) FROM reps WHERE deleted_at IS NULL),"
        " (SELECT count(*) FROM territories WHERE deleted_at IS NULL),"
        " (SELECT count(*) FROM accounts WHERE lat IS NULL AND deleted_at IS NULL)"
    ).fetchone()
    return {"accounts": row[0], "reps": row[1], "territories": row[2], "unlocated": row[3]}


def distinct_values(store: Store, column: str) -> list[str]:
    """Values present in a filterable column (state, tier, industry) for filter menus."""
    if column not in ("state", "tier", "industry", "status", "segment"):
        raise ValueError(column)
    return [r[0] for r in store.conn.execute(
        f"SELECT DISTINCT {column} FROM accounts WHERE deleted_at IS NULL AND {column} IS NOT NULL ORDER BY 1")]


def territory_choices(store: Store) -> list[tuple[int, str]]:
    """(id, name) of the territories, by name, for the accounts list's Territory filter."""
    return [(r[0], r[1]) for r in store.conn.execute(
        "SELECT id, name FROM territories WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE, id")]


def visits_per_year(account: Mapping[str, Any]) -> int:
    return visit_frequency.visits_per_year(account.get("visit_frequency"))


def update_accounts(store: Store, edits: Mapping[int, Mapping[str, Any]]) -> tuple[Changes, dict[int, dict[str, Any]]]:
    """Validate and apply edits to many accounts in one transaction; returns changes and old values."""
    problems: list[Problem] = []
    for account_id, values in edits.items():
        problems += [Problem(f"account {account_id}: {p.field}", p.value, p.reason)
                     for p in validate(values) + _check_references(store, values)]
    if problems:
        raise ValidationError(problems)
    with store.atomic():
        old = writes.update_many(store, "accounts", edits)
    if not old:
        return Changes(), {}
    return Changes.of("accounts", old.keys(), f"{len(old)} accounts edited"), old


def assign_owner(store: Store, account_ids: Iterable[int], rep_id: int | None) -> tuple[Changes, dict[int, dict[str, Any]]]:
    """Give accounts to a rep (or nobody) and record the ownership history in assignments."""
    account_ids = list(account_ids)
    with store.atomic():
        changes, old = update_accounts(store, {aid: {"owner_id": rep_id} for aid in account_ids})
        today = writes.utc_now()[:10]
        # valid_to closes the previous period. Both the close and the new period are logged edits: sync
        # sends them, and the closed row then moves to the new owner's side with its account.
        moved = list(old)
        for start in range(0, len(moved), 500):
            chunk = moved[start:start + 500]
            open_rows = [r[0] for r in store.conn.execute(
                f"SELECT id FROM assignments WHERE valid_to IS NULL AND account_id IN ({','.join('?' * len(chunk))})",
                chunk)]
            writes.update_many(store, "assignments", {rid: {"valid_to": today} for rid in open_rows})
        writes.insert_many(store, "assignments", [
            {"account_id": aid, "rep_id": rep_id, "territory_id": None, "valid_from": today, "valid_to": None,
             "reason": "reassigned", "scenario_id": None} for aid in old])
    return changes, old


# --- what people type, as stored values (the CLI's `account set` and the importer share these) ---------
FREQUENCY_LABELS = visit_frequency.LABELS
frequency_label = visit_frequency.label


def parse_frequency(text: str) -> str:
    """'Every 2 weeks', 'Fortnightly', 'Quarterly', '3 per cycle', 'none' -> the stored value; ValueError otherwise."""
    return visit_frequency.parse(text)


def _text_to_value(field: str, text: str) -> Any:
    from core.money import parse_cents

    text = text.strip()
    if field in ("employees", "visit_minutes", "owner_id", "territory_id"):
        if not text:
            return None
        try:
            return int(text.replace(",", ""))
        except ValueError:
            raise ValueError("must be a whole number") from None
    if field in ("annual_revenue_cents", "potential_cents"):
        try:
            return parse_cents(text)
        except (ValueError, ArithmeticError):
            raise ValueError("must be an amount of money, e.g. $12,500") from None
    if field in ("lat", "lon"):
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if field == "locked":
        word = text.lower()
        if word in ("1", "yes", "true", "on", "locked"):
            return 1
        if word in ("0", "no", "false", "off", "", "unlocked"):
            return 0
        raise ValueError("must be yes or no")
    if field == "opening_hours":
        return opening_hours.normalise(text)
    if field == "allowed_weekdays":
        return opening_hours.format_weekdays(opening_hours.parse_weekdays(text))
    if field == "visit_frequency":
        return parse_frequency(text)
    if field in ("tier", "state"):
        return text.upper() or None
    if field == "products":
        return json.dumps([p.strip() for p in text.split(",") if p.strip()]) if not text.startswith("[") else text
    if field == "name":
        return text
    return text or None


def value_from_text(field: str, text: str) -> Any:
    """A field's value as typed by a person (hours 'Mon-Fri 8-5', money '$1,200', 'every 2 weeks') -> stored value.

    Raises ValidationError naming the field, the value and the reason.
    """
    if field not in _EDITABLE_SET:
        raise ValidationError([Problem(field, text, "is not an account field that can be edited (one of: "
                                       + ", ".join(EDITABLE) + ")")])
    try:
        return _text_to_value(field, text)
    except ValueError as exc:
        raise ValidationError([Problem(field, text, str(exc))]) from None


def set_field(store: Store, account_id: int, field: str, text: str) -> tuple[Changes, dict[int, dict[str, Any]]]:
    """Set one field from text: converted, validated and written like any edit (logged in the change log)."""
    if not store.scalar("SELECT 1 FROM accounts WHERE id = ?", (account_id,)):
        raise KeyError(f"account {account_id} does not exist")
    return update_accounts(store, {account_id: {field: value_from_text(field, text)}})
