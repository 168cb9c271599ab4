"""Online geocoding through geopy: Nominatim by default (1 request/s, real user agent), other providers with a key."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable

USER_AGENT = "FieldAtlas/0.1 (+https://github.com/fieldatlas/fieldatlas; contact: support@fieldatlas.app)"
DEFAULT_TIMEOUT_S = 10.0
# Nominatim's usage policy: an absolute maximum of one request per second.
NOMINATIM_MIN_DELAY_S = 1.0
KEY_ENVIRONMENT = "FIELDATLAS_GEOCODER_KEY"

# geopy's RateLimiter logs every retry with a traceback; without a handler Python's last-resort
# handler would print them over the CLI's progress bar. Apps that configure logging still see them.
logging.getLogger("geopy").addHandler(logging.NullHandler())

# provider name -> (geopy class name, keyword for the API key or None when no key is needed)
PROVIDERS: dict[str, tuple[str, str | None]] = {
    "nominatim": ("Nominatim", None),
    "photon": ("Photon", None),
    "arcgis": ("ArcGIS", None),
    "google": ("GoogleV3", "api_key"),
    "bing": ("Bing", "api_key"),
    "mapbox": ("MapBox", "api_key"),
    "opencage": ("OpenCage", "api_key"),
    "here": ("HereV7", "apikey"),
    "tomtom": ("TomTom", "api_key"),
    "geocodio": ("Geocodio", "api_key"),
}


class GeocoderProblem(Exception):
    """The online service cannot be used (no key, unknown provider, not answering); the message says why."""


@dataclass(frozen=True)
class Found:
    """One geocoder answer."""

    lat: float
    lon: float
    precision: str
    raw: Any = None


def precision_of(provider: str, raw: Any) -> str:
    """rooftop | street | zip | city from what the provider says about its match."""
    if not isinstance(raw, dict):
        return "street"
    if provider in ("nominatim", "photon"):
        props = raw.get("properties", raw)
        kind = str(props.get("addresstype") or props.get("type") or props.get("osm_value") or "").lower()
        klass = str(props.get("class") or props.get("osm_key") or "").lower()
        if kind in ("house", "building", "house_number") or klass == "building" or props.get("housenumber"):
            return "rooftop"
        if kind == "postcode":
            return "zip"
        if kind in ("city", "town", "village", "hamlet", "municipality", "suburb", "county", "state",
                    "administrative", "neighbourhood", "quarter", "locality"):
            return "city"
        return "street"
    if provider == "google":
        kind = raw.get("geometry", {}).get("location_type", "")
        return {"ROOFTOP": "rooftop", "RANGE_INTERPOLATED": "street", "GEOMETRIC_CENTER": "street"}.get(kind, "city")
    return "street"


class OnlineGeocoder:
    """A rate-limited, retrying geopy geocoder; call it with an address, get Found or None (no match)."""

    def __init__(self, provider: str = "nominatim", *, api_key: str | None = None, domain: str | None = None,
                 scheme: str | None = None, timeout: float = DEFAULT_TIMEOUT_S, min_delay: float | None = None,
                 max_retries: int = 2, error_wait: float = 2.0, user_agent: str = USER_AGENT) -> None:
        from geopy import geocoders
        from geopy.extra.rate_limiter import RateLimiter

        provider = provider.lower()
        if provider not in PROVIDERS:
            raise GeocoderProblem(f"unknown geocoding provider {provider!r}; use one of {', '.join(PROVIDERS)}")
        class_name, key_arg = PROVIDERS[provider]
        kwargs: dict[str, Any] = {"timeout": timeout, "user_agent": user_agent}
        if key_arg:
            api_key = api_key or os.environ.get(KEY_ENVIRONMENT)
            if not api_key:
                raise GeocoderProblem(f"{provider} needs an API key: pass --api-key or set {KEY_ENVIRONMENT}")
            kwargs[key_arg] = api_key
        if domain:
            kwargs["domain"] = domain
        if scheme:
            kwargs["scheme"] = scheme
        self.provider = provider
        self.geocoder = getattr(geocoders, class_name)(**kwargs)
        if min_delay is None:
            min_delay = NOMINATIM_MIN_DELAY_S if provider == "nominatim" else 0.2
        if provider == "nominatim" and (domain is None or "openstreetmap.org" in domain):
            # The public server's policy is not ours to relax, whatever the caller asked for.
            min_delay = max(min_delay, NOMINATIM_MIN_DELAY_S)
        self.min_delay = min_delay
        self._call: Callable[..., Any] = RateLimiter(
            self.geocoder.geocode, min_delay_seconds=min_delay, max_retries=max_retries,
            error_wait_seconds=error_wait, swallow_exceptions=False)

    def __call__(self, query: str) -> Found | None:
        """Geocode one address; raises geopy's errors after the retries are used up."""
        location = self._call(query, exactly_one=True)
        if location is None:
            return None
        return Found(location.latitude, location.longitude, precision_of(self.provider, location.raw),
                     location.raw)


def raw_json(raw: Any) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)[:20000]
    except (TypeError, ValueError):
        return ""
