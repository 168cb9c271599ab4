"""Geocoding accounts: offline ZIP and city centroids first, online providers through geopy when asked."""

from core.geocoding.locate import GeocodeResult, geocode_accounts, unlocated  # noqa: F401
from core.geocoding.online import GeocoderProblem, OnlineGeocoder, PROVIDERS  # noqa: F401
