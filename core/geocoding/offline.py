"""Offline geocoding from the ZIP centroids in the `zipcodes` package, and city centroids built from them."""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from core.importing.values import US_NAMES, US_STATES, zip5

_lock = threading.Lock()
_gazetteer: "Gazetteer | None" = None


def city_key(city: str) -> str:
    """How city names compare: 'St. Louis', 'Saint Louis' and 'ST LOUIS' are one city."""
    text = re.sub(r"[^\w]+", " ", city.casefold()).strip()
    text = re.sub(r"^(saint|ste|st)\b", "st", text)
    text = re.sub(r"\bfort\b", "ft", text)
    text = re.sub(r"\bmount\b", "mt", text)
    return " ".join(text.split())


@dataclass
class Gazetteer:
    """ZIP -> (lat, lon) and (state, city) -> (lat, lon), both US only."""

    zips: dict[str, tuple[float, float]]
    cities: dict[tuple[str, str], tuple[float, float]]
    zip_states: dict[str, str]

    def locate(self, postal_code: str | None, city: str | None, state: str | None,
               country: str | None = "US") -> tuple[float, float, str] | None:
        """(lat, lon, precision) from the ZIP, else from state + city; None when neither is known."""
        if country and country.strip().casefold() not in US_NAMES:
            return None
        code = zip5(postal_code)
        if code in self.zips:
            lat, lon = self.zips[code]
            return lat, lon, "zip"
        if city and state:
            st = state.strip()
            st = US_STATES.get(st.casefold(), st.upper())
            found = self.cities.get((st, city_key(city)))
            if found:
                return found[0], found[1], "city"
        return None

    @cached_property
    def zip_points(self) -> list[tuple[int, float, float]]:
        """(ZIP as a number, lat, lon) as locate() gives them for five-digit codes (rounded to 6 decimals),
        in ZIP order, for SQL to join accounts with; only points SQLite's JSON writes as Python's does
        (all of today's data, checked in one go)."""
        from core.storage.writes import json_exact_float, json_exact_floats

        codes = sorted(c for c in self.zips if len(c) == 5 and c.isascii() and c.isdigit())
        lats = [round(self.zips[c][0], 6) for c in codes]
        lons = [round(self.zips[c][1], 6) for c in codes]
        points = list(zip(map(int, codes), lats, lons))
        if json_exact_floats(lats + lons):
            return points
        return [p for p in points if json_exact_float(p[1]) and json_exact_float(p[2])]

    def why_not(self, postal_code: str | None, city: str | None, state: str | None, country: str | None) -> str:
        """The reason locate() found nothing, in words a user can act on."""
        if country and country.strip().casefold() not in US_NAMES:
            return f"outside the US ({country}); offline data covers US ZIP codes only, try online geocoding"
        parts = []
        if postal_code:
            parts.append(f"ZIP {postal_code!r} is not a known US ZIP code")
        else:
            parts.append("no ZIP code")
        if city and state:
            parts.append(f"no city {city!r} in {state}")
        elif city:
            parts.append("a city but no state")
        else:
            parts.append("no city")
        return "; ".join(parts)


BUNDLE = ("geo", "us_places.json.gz")


def gazetteer() -> Gazetteer:
    """The offline gazetteer: the bundled table (fast), else built from the zipcodes data (a few seconds)."""
    global _gazetteer
    with _lock:
        if _gazetteer is None:
            _gazetteer = _load_bundle() or _build()
        return _gazetteer


def _zipcodes_version() -> str:
    import zipcodes

    return str(getattr(zipcodes, "__version__", "unknown"))


def _load_bundle() -> Gazetteer | None:
    try:
        import resources

        with gzip.open(resources.path(*BUNDLE), "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (ImportError, OSError, ValueError):
        return None
    # A bundle made from other zipcodes data than the installed one is stale: rebuild instead.
    if data.get("zipcodes_version") != _zipcodes_version():
        return None
    zips = {z: (lat, lon) for z, (lat, lon, _) in data["zips"].items()}
    zip_states = {z: st for z, (_, _, st) in data["zips"].items()}
    cities = {(st, key): (lat, lon) for st, key, lat, lon in data["cities"]}
    return Gazetteer(zips, cities, zip_states)


def write_bundle(path: Path) -> Path:
    """Write the compact table shipped in resources/geo/ (run `python -m core.geocoding.offline`)."""
    gaz = _build()
    data = {
        "about": "US ZIP and city centroids for offline geocoding, derived from the zipcodes package "
                 "(public-domain US data). Regenerate with `python -m core.geocoding.offline`.",
        "zipcodes_version": _zipcodes_version(),
        "zips": {z: [round(lat, 5), round(lon, 5), gaz.zip_states[z]] for z, (lat, lon) in sorted(gaz.zips.items())},
        "cities": [[st, key, round(lat, 5), round(lon, 5)] for (st, key), (lat, lon) in sorted(gaz.cities.items())],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(data, fh, separators=(",", ":"))
    return path


def _build() -> Gazetteer:
    import zipcodes

    zips: dict[str, tuple[float, float]] = {}
    zip_states: dict[str, str] = {}
    sums: dict[tuple[str, str], list[float]] = {}
    alias_sums: dict[tuple[str, str], list[float]] = {}
    for z in zipcodes.list_all():
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError, KeyError):
            continue
        if lat == 0 and lon == 0:
            continue
        zips[z["zip_code"]] = (lat, lon)
        zip_states[z["zip_code"]] = z["state"]
        # A city's centre is the mean of its delivery ZIPs; PO-box-only ZIPs sit at the post office.
        weight = 1.0 if z.get("zip_code_type") == "STANDARD" else 0.25
        for table, name in [(sums, z["city"])] + [(alias_sums, a) for a in z.get("acceptable_cities") or []]:
            key = (z["state"], city_key(name))
            acc = table.setdefault(key, [0.0, 0.0, 0.0])
            acc[0] += lat * weight
            acc[1] += lon * weight
            acc[2] += weight
    cities = {key: (a[0] / a[2], a[1] / a[2]) for key, a in alias_sums.items()}
    cities.update({key: (a[0] / a[2], a[1] / a[2]) for key, a in sums.items()})
    return Gazetteer(zips, cities, zip_states)


if __name__ == "__main__":
    from core.territories.rules import COUNTY_BUNDLE, write_county_bundle

    resources_dir = Path(__file__).resolve().parents[2] / "resources"
    print(write_bundle(resources_dir / Path(*BUNDLE)))
    # The territory rules' ZIP -> county table comes from the same zipcodes data.
    write_county_bundle(resources_dir / Path(*COUNTY_BUNDLE))
    print(resources_dir / Path(*COUNTY_BUNDLE))
