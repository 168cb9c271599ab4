"""Territory rule JSON: what each kind may say, how a rule is checked, and how it matches an account.

One rule is a JSON object; every criterion present must match (AND), except the geographic area
keys (counties, zips, zip3, polygon), which are alternatives (OR) because users think
"these counties plus these extra ZIP codes". `in_segments` names saved segments (core.segments):
an account in any of them matches. The demo's {"state": "TX", "counties": [...]} is a
geographic rule in this format, and the map draws shapes from the same keys.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from core.geo import point_in_polygon

KINDS = ("geographic", "industry", "customer_size", "customer_type", "product", "channel", "named", "dynamic")
LEVELS = ("region", "district", "territory")

# key -> (expected type description, checker)
AREA_KEYS = ("counties", "zips", "zip3", "polygon")
LIST_KEYS = ("states", "counties", "zips", "zip3", "industries", "segments", "customer_types", "products",
             "channels", "account_ids", "external_ids", "in_segments")
KNOWN_KEYS = (*LIST_KEYS, "state", "polygon", "employees_min", "employees_max", "overlay")
# What the editor offers per kind (other keys stay valid: any rule may combine criteria).
KEYS_BY_KIND = {
    "geographic": ("state", "states", "counties", "zips", "zip3", "polygon"),
    "industry": ("industries",),
    "customer_size": ("employees_min", "employees_max", "segments", "in_segments"),
    "customer_type": ("customer_types",),
    "product": ("products",),
    "channel": ("channels",),
    "named": ("account_ids", "external_ids"),
    "dynamic": KNOWN_KEYS,
}
_ZIP = re.compile(r"^\d{5}$")
_ZIP3 = re.compile(r"^\d{3}$")
_STATE = re.compile(r"^[A-Z]{2}$")


class RuleError(ValueError):
    """A rule that cannot be used; the message names the key, the value and the reason."""


def parse_rule(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule as a dict (accepts JSON text or a mapping); raises RuleError for bad JSON."""
    if text is None or text == "":
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleError(f"rule: not valid JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(value, dict):
        raise RuleError("rule: must be a JSON object such as {\"states\": [\"TX\"]}")
    return value


def validate_rule(rule: Mapping[str, Any]) -> list[str]:
    """Problems with a rule, each naming key, value and reason; empty when the rule is usable."""
    problems: list[str] = []
    for key, value in rule.items():
        if key not in KNOWN_KEYS:
            problems.append(f"{key}: unknown rule key (known: {', '.join(KNOWN_KEYS)})")
            continue
        if key in LIST_KEYS and not isinstance(value, list):
            problems.append(f"{key}: must be a list (got {value!r})")
            continue
        if key == "state" and not (isinstance(value, str) and _STATE.match(value)):
            problems.append(f"state: use a two-letter state code such as TX (got {value!r})")
        elif key == "states":
            bad = [v for v in value if not (isinstance(v, str) and _STATE.match(v))]
            if bad:
                problems.append(f"states: use two-letter state codes (got {bad[0]!r})")
        elif key == "zips":
            bad = [v for v in value if not (isinstance(v, str) and _ZIP.match(v))]
            if bad:
                problems.append(f"zips: each ZIP code has five digits, as text (got {bad[0]!r})")
        elif key == "zip3":
            bad = [v for v in value if not (isinstance(v, str) and _ZIP3.match(v))]
            if bad:
                problems.append(f"zip3: each ZIP3 prefix has three digits, as text (got {bad[0]!r})")
        elif key == "polygon":
            if not isinstance(value, list) or len(value) < 3:
                problems.append("polygon: needs at least three [lat, lon] corners")
            else:
                for point in value:
                    if not (isinstance(point, (list, tuple)) and len(point) == 2
                            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in point)
                            and -90 <= point[0] <= 90 and -180 <= point[1] <= 180):
                        problems.append(f"polygon: each corner is [lat, lon] in degrees (got {point!r})")
                        break
        elif key in ("employees_min", "employees_max"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{key}: must be a whole number of employees, 0 or more (got {value!r})")
        elif key == "account_ids":
            bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int)]
            if bad:
                problems.append(f"account_ids: must be account numbers (got {bad[0]!r})")
        elif key == "overlay" and not isinstance(value, bool):
            problems.append(f"overlay: must be true or false (got {value!r})")
        elif key in LIST_KEYS:
            bad = [v for v in value if not isinstance(v, str) or not v.strip()]
            if bad:
                problems.append(f"{key}: each entry must be non-empty text (got {bad[0]!r})")
    lo, hi = rule.get("employees_min"), rule.get("employees_max")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.append(f"employees_min: must not exceed employees_max ({lo} > {hi})")
    if not any(k in rule for k in KNOWN_KEYS if k != "overlay"):
        problems.append("rule: has no criteria, so it would match nothing")
    return problems


def check_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The rule if usable, else RuleError with every problem."""
    problems = validate_rule(rule)
    if problems:
        raise RuleError("; ".join(problems))
    return dict(rule)


# --- ZIP code -> county -------------------------------------------------------------------
_county_lock = threading.Lock()
_county_by_zip: dict[str, str] | None = None


# ZIP -> county as shipped in resources/ (0.05 s to read): building it from the zipcodes package
# (list_all() makes 42,000 dicts) took 1-2.5 s, most of the Territories view's first load.
COUNTY_BUNDLE = ("geo", "zip_counties.json.gz")


def county_of_zip(postal_code: str | None) -> str | None:
    """The county of a US ZIP code ("Harris County"), from the bundled zipcodes data, cached."""
    global _county_by_zip
    if not postal_code:
        return None
    if _county_by_zip is None:
        with _county_lock:
            if _county_by_zip is None:
                _county_by_zip = _load_county_bundle() or _counties_from_zipcodes()
    return _county_by_zip.get(str(postal_code)[:5]) or None


def _counties_from_zipcodes() -> dict[str, str]:
    import zipcodes

    return {z["zip_code"]: z.get("county") or "" for z in zipcodes.list_all()}


def _zipcodes_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("zipcodes")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _load_county_bundle() -> dict[str, str] | None:
    """The shipped table, or None when it is missing or was made from other zipcodes data (then: rebuilt)."""
    import gzip

    try:
        import resources

        with gzip.open(resources.path(*COUNTY_BUNDLE), "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (ImportError, OSError, ValueError):
        return None
    if data.get("zipcodes_version") != _zipcodes_version():
        return None
    # Stored per county (a name once, its ZIPs after it): a fifth of the size of one entry per ZIP.
    return {code: county for county, codes in data["counties"].items() for code in codes.split()}


def write_county_bundle(path) -> None:
    """Write resources/geo/zip_counties.json.gz from the installed zipcodes data (`python -m core.geocoding.offline`)."""
    import gzip
    from pathlib import Path

    by_county: dict[str, list[str]] = {}
    for code, county in sorted(_counties_from_zipcodes().items()):
        by_county.setdefault(county, []).append(code)
    data = {"about": "US ZIP code -> county, from the zipcodes package (public-domain US data). Regenerate with "
                     "`python -m core.geocoding.offline`.",
            "zipcodes_version": _zipcodes_version(),
            "counties": {county: " ".join(codes) for county, codes in by_county.items()}}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(data, fh, separators=(",", ":"))


@dataclass(frozen=True)
class AccountFacts:
    """What rules look at in an account (one row of the accounts table, with the county derived)."""

    id: int
    name: str
    external_id: str | None = None
    state: str | None = None
    postal_code: str | None = None
    county: str | None = None
    lat: float | None = None
    lon: float | None = None
    industry: str | None = None
    employees: int | None = None
    segment: str | None = None
    customer_type: str | None = None
    products: tuple[str, ...] = ()
    channel: str | None = None
    # The saved segments (core.segments, lower-cased names) the account is in, for `in_segments`.
    saved_segments: frozenset[str] = frozenset()

    @classmethod
    def from_row(cls, row: Mapping[str, Any], saved_segments: frozenset[str] = frozenset()) -> "AccountFacts":
        try:
            products = tuple(json.loads(row.get("products") or "[]"))
        except (ValueError, TypeError):
            products = ()
        return cls(id=row["id"], name=row.get("name") or "", external_id=row.get("external_id"),
                   state=(row.get("state") or None), postal_code=row.get("postal_code"),
                   county=county_of_zip(row.get("postal_code")), lat=row.get("lat"), lon=row.get("lon"),
                   industry=row.get("industry"), employees=row.get("employees"), segment=row.get("segment"),
                   customer_type=row.get("customer_type"), products=products, channel=row.get("channel"),
                   saved_segments=saved_segments)


def _lower_set(values) -> frozenset[str]:
    return frozenset(str(v).strip().lower() for v in values)


def compile_rule(rule: Mapping[str, Any]) -> Callable[[AccountFacts], bool]:
    """A fast predicate for the rule (checked first); an empty rule matches nothing."""
    rule = check_rule(rule)
    tests: list[Callable[[AccountFacts], bool]] = []
    states = set(rule.get("states", []))
    if "state" in rule:
        states = states & {rule["state"]} if "states" in rule else {rule["state"]}
    if "state" in rule or "states" in rule:
        tests.append(lambda a, s=frozenset(states): (a.state or "").upper() in s)
    area: list[Callable[[AccountFacts], bool]] = []
    if "counties" in rule:
        counties = _lower_set(rule["counties"])
        area.append(lambda a: (a.county or "").lower() in counties)
    if "zips" in rule:
        zips = frozenset(rule["zips"])
        area.append(lambda a: (a.postal_code or "")[:5] in zips)
    if "zip3" in rule:
        zip3 = frozenset(rule["zip3"])
        area.append(lambda a: (a.postal_code or "")[:3] in zip3)
    if "polygon" in rule:
        polygon = [tuple(p) for p in rule["polygon"]]
        area.append(lambda a: a.lat is not None and a.lon is not None and point_in_polygon(a.lat, a.lon, polygon))
    if area:
        tests.append(lambda a: any(t(a) for t in area))
    for key, attr in (("industries", "industry"), ("segments", "segment"), ("customer_types", "customer_type"),
                      ("channels", "channel")):
        if key in rule:
            wanted = _lower_set(rule[key])
            tests.append(lambda a, w=wanted, at=attr: (getattr(a, at) or "").strip().lower() in w)
    if "in_segments" in rule:
        # A saved segment (account filters such as "Big healthcare"): the account is in any of them.
        in_any = _lower_set(rule["in_segments"])
        tests.append(lambda a: not a.saved_segments.isdisjoint(in_any))
    if "products" in rule:
        wanted_products = _lower_set(rule["products"])
        tests.append(lambda a: any(p.lower() in wanted_products for p in a.products))
    if "employees_min" in rule or "employees_max" in rule:
        lo = rule.get("employees_min", 0)
        hi = rule.get("employees_max")
        tests.append(lambda a: a.employees is not None and a.employees >= lo and (hi is None or a.employees <= hi))
    if "account_ids" in rule or "external_ids" in rule:
        ids = frozenset(rule.get("account_ids", []))
        ext = frozenset(rule.get("external_ids", []))
        tests.append(lambda a: a.id in ids or (a.external_id is not None and a.external_id in ext))
    if not tests:
        return lambda a: False
    return lambda a: all(t(a) for t in tests)


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A short plain-words summary of a rule for lists and tooltips."""
    parts = []
    if "state" in rule:
        parts.append(f"state {rule['state']}")
    if "states" in rule:
        parts.append("states " + ", ".join(rule["states"]))
    for key, word in (("counties", "counties"), ("zips", "ZIP codes"), ("zip3", "ZIP3"),
                      ("industries", "industries"), ("segments", "segments"), ("in_segments", "in saved segment"),
                      ("customer_types", "types"),
                      ("products", "products"), ("channels", "channels"), ("account_ids", "named accounts"),
                      ("external_ids", "CRM ids")):
        if key in rule:
            values = rule[key]
            shown = ", ".join(str(v) for v in values[:3]) + (f" +{len(values) - 3}" if len(values) > 3 else "")
            parts.append(f"{len(values)} {word} ({shown})" if len(values) > 3 else f"{word} {shown}")
    if "polygon" in rule:
        parts.append(f"drawn area ({len(rule['polygon'])} corners)")
    if "employees_min" in rule or "employees_max" in rule:
        parts.append(f"{rule.get('employees_min', 0)}–{rule.get('employees_max', '∞')} employees")
    if rule.get("overlay"):
        parts.append("overlay")
    return "; ".join(parts) or "no criteria"
