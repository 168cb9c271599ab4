"""Turning one file row's text into account values, with a problem per bad cell (row, column, value, reason)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from core import accounts, opening_hours
from core.importing.mapping import FIELD_BY_KEY
from core.money import parse_cents

# A cell longer than this is almost certainly a broken export (an unclosed quote swallowing rows).
MAX_CELL_CHARS = 10_000

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "virgin islands": "VI", "american samoa": "AS", "northern mariana islands": "MP",
}
US_NAMES = {"us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "america"}
STATUS_WORDS = {"active": "active", "customer": "active", "prospect": "prospect", "lead": "prospect",
                "inactive": "inactive", "churned": "inactive", "former customer": "inactive", "closed": "inactive"}
_INT = re.compile(r"^[+-]?\d+(\.0+)?$")
_NON_WORD = re.compile(r"[^\w]+")
_ZIP = re.compile(r"^(\d{5})(?:[-\s]?\d{4})?$")


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: the row number the user sees, the column header, the value and why it was refused."""

    row: int
    column: str
    value: Any
    reason: str

    def __str__(self) -> str:
        if self.value is None or self.value == "":
            return f"row {self.row}, column {self.column!r} (empty): {self.reason}"
        shown = self.value if not isinstance(self.value, str) or len(self.value) <= 60 else self.value[:57] + "..."
        return f"row {self.row}, column {self.column!r}, value {shown!r}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


def normalise_name(name: str) -> str:
    """The name as matching sees it: 'ACME, Inc.' and 'Acme Inc' are the same company."""
    return " ".join(_NON_WORD.sub(" ", name.casefold()).split())


def zip5(postal_code: str | None) -> str:
    """The five-digit ZIP in a US postal code ('78701-1234' -> '78701'), else the code as typed."""
    if not postal_code:
        return ""
    if len(postal_code) == 5 and postal_code.isdigit():
        return postal_code  # the common case, without the regex (geocoding 100,000 accounts calls this)
    text = postal_code.strip()
    m = _ZIP.match(text)
    return m.group(1) if m else text.upper()


def match_key(values: dict[str, Any]) -> tuple[str, str] | None:
    """(normalised name, ZIP) — how rows without a CRM id find their account."""
    name = normalise_name(values.get("name") or "")
    return (name, zip5(values.get("postal_code"))) if name else None


class RowConverter:
    """Turns the cells of one file row into account values (None = empty) and the problems found.

    Built once per file from (field, cell index, column header) triples, so the per-row work is a
    plain loop: an import converts 100,000 rows in about a second.
    """

    def __init__(self, fields: Iterable[tuple[str, int, str]]) -> None:
        self.fields = [(key, index, header, _CONVERTERS.get(key)) for key, index, header in fields]
        self.headers = {key: header for key, _, header, _ in self.fields}
        self.index = {key: index for key, index, _, _ in self.fields}
        self.has_coordinates = "lat" in self.headers or "lon" in self.headers
        # accounts.validate has the last word, on the fields it has rules for that the converters
        # below do not already enforce in full (a test checks that nothing slips between the two).
        self.validated = [k for k in self.headers if k in accounts.CHECKED_FIELDS and k not in _CONVERTED_IN_FULL]

    def __call__(self, row_number: int, cells: Sequence[str | None]) -> tuple[dict[str, Any], list[RowProblem]]:
        values: dict[str, Any] = {}
        problems: list[RowProblem] = []
        width = len(cells)
        for key, index, header, convert in self.fields:
            raw = cells[index] if index < width else None
            if not raw:
                values[key] = None
                continue
            if "\x00" in raw:
                problems.append(RowProblem(row_number, header, raw.replace("\x00", "\\0"),
                                           "contains a NUL byte; the file may be damaged"))
                continue
            if len(raw) > MAX_CELL_CHARS:
                problems.append(RowProblem(
                    row_number, header, raw[:40] + "...",
                    f"is {len(raw):,} characters long (at most {MAX_CELL_CHARS:,}); "
                    "an unclosed quote in the file may have swallowed the rows after it"))
                continue
            # Surrounding spaces are CSV padding; everything else (a leading "=" too) is kept as typed.
            text = raw.strip()
            if not text:
                values[key] = None
            elif convert is None:
                values[key] = text
            else:
                try:
                    values[key] = convert(text)
                except ValueError as exc:
                    problems.append(RowProblem(row_number, header, raw, str(exc)))
        self._normalise(values)
        self._check(row_number, values, cells, problems)
        return values, problems

    @staticmethod
    def _normalise(values: dict[str, Any]) -> None:
        country = values.get("country")
        if country and country != "US" and country.casefold() in US_NAMES:
            values["country"] = "US"
        if (values.get("country") or "US") != "US":
            return
        state = values.get("state")
        if state and not (len(state) == 2 and state.isupper()):
            values["state"] = US_STATES.get(state.casefold(), state.upper() if len(state) == 2 else state)
        postal = values.get("postal_code")
        if postal and len(postal) < 5 and 3 <= len(postal) and postal.isdigit():
            # Spreadsheets drop leading zeros from New England ZIPs (02108 -> 2108).
            values["postal_code"] = postal.zfill(5)

    def _check(self, row_number: int, values: dict[str, Any], cells: Sequence[str | None],
               problems: list[RowProblem]) -> None:
        headers = self.headers

        def raw_of(key: str) -> Any:
            index = self.index.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        if self.has_coordinates and (values.get("lat") is None) != (values.get("lon") is None):
            missing = "lat" if values.get("lat") is None else "lon"
            column = headers.get(missing, missing)
            if not any(p.column == column for p in problems):
                problems.append(RowProblem(row_number, column, raw_of(missing),
                                           "latitude and longitude must be given together"))
        if "name" in headers and not values.get("name") and not any(p.column == headers["name"] for p in problems):
            problems.append(RowProblem(row_number, headers["name"], raw_of("name"), "a name is required"))
        checked = {k: v for k in self.validated if (v := values.get(k)) is not None}
        more = accounts.validate(checked) if checked else ()
        if more:
            reported = {p.column for p in problems}
            for p in more:
                column = headers.get(p.field, p.field)
                if column not in reported:
                    problems.append(RowProblem(row_number, column, raw_of(p.field) if p.field in headers else p.value,
                                               p.reason))
                    reported.add(column)


def _int(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)  # the common case; everything else goes the careful way
    return _convert("employees", "int", text)


def _convert(key: str, kind: str, text: str) -> Any:
    if kind == "int":
        cleaned = text.replace(",", "").replace(" ", "")
        if not _INT.match(cleaned):
            raise ValueError("must be a whole number")
        number = int(float(cleaned)) if "." in cleaned else int(cleaned)
        if number < 0:
            raise ValueError("must not be negative")
        return number
    if kind == "money":
        try:
            cents = parse_cents(text)
        except (ValueError, ArithmeticError):
            raise ValueError("must be an amount of money, e.g. $1,234,567") from None
        if cents is not None and cents < 0:
            raise ValueError("must not be negative")
        if cents is not None and cents >= 2 ** 63:
            raise ValueError("is too large")
        return cents
    if kind == "float":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError("must be a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("must be a number")
        return number
    if key == "tier":
        # "Tier A", "A-tier", "a" -> "A" (accounts.validate refuses anything but A, B or C).
        letter = re.sub(r"(?i)\btier\b|[-_\s]", "", text).upper()
        return letter or text.upper()
    if key == "status":
        status = STATUS_WORDS.get(text.casefold())
        if status is None:
            raise ValueError("must be active, prospect or inactive")
        return status
    return text


def _money(text: str) -> int | None:
    return _convert("annual_revenue_cents", "money", text)


def _float(text: str) -> float:
    return _convert("lat", "float", text)


def _hours(text: str) -> str:
    # No "opening hours:" prefix: every problem is shown after its column, which already says so.
    return opening_hours.normalise(text)


def _weekdays(text: str) -> str:
    return opening_hours.format_weekdays(opening_hours.parse_weekdays(text))


def _visit_minutes(text: str) -> int:
    return _convert("visit_minutes", "int", text.lower().removesuffix("minutes").removesuffix("min").strip())


# Converters that refuse exactly what accounts.validate would (whole, non-negative; a known status;
# readable hours, frequency and weekdays, which they turn into the stored form).
_CONVERTED_IN_FULL = frozenset({"employees", "annual_revenue_cents", "status", "opening_hours", "visit_frequency",
                                "allowed_weekdays"})
_CONVERTERS = {
    "employees": _int, "annual_revenue_cents": _money, "lat": _float, "lon": _float,
    "opening_hours": _hours, "visit_frequency": accounts.parse_frequency, "allowed_weekdays": _weekdays,
    "visit_minutes": _visit_minutes,
    "tier": lambda text: _convert("tier", "text", text), "status": lambda text: _convert("status", "text", text),
}
assert {f.key for f in FIELD_BY_KEY.values() if f.kind in ("int", "money", "float")} <= set(_CONVERTERS)
