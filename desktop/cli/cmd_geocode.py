"""`fieldatlas geocode`: give accounts coordinates, offline from ZIP/city centroids, online through geopy."""

from __future__ import annotations

import argparse

from core.geocoding import GeocoderProblem, OnlineGeocoder, PROVIDERS, geocode_accounts
from desktop.cli.common import BarProgress, CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "geocode", help="locate accounts (offline ZIP/city centroids, or online street addresses)",
        description="Give accounts coordinates. --offline uses the ZIP and city centroids shipped with "
                    "FieldAtlas (instant, US only). Without it, street addresses are looked up online "
                    "(Nominatim by default, at most one request per second, every answer cached) and the rest "
                    "are located offline. Pins placed by hand are never moved.")
    add_db_argument(p)
    p.add_argument("--offline", action="store_true", help="use only the bundled ZIP and city centroids")
    p.add_argument("--provider", default="nominatim", choices=sorted(PROVIDERS),
                   help="online geocoding service (default nominatim; others need --api-key)")
    p.add_argument("--api-key", metavar="KEY", help="API key for providers that need one "
                                                    "(or set FIELDATLAS_GEOCODER_KEY)")
    p.add_argument("--domain", metavar="HOST[:PORT]", help="use your own server for the provider (e.g. a Nominatim)")
    p.add_argument("--scheme", choices=("https", "http"), default=None, help="scheme for --domain (default https)")
    p.add_argument("--limit", type=int, metavar="N", help="at most N online lookups in this run")
    p.add_argument("--redo", action="store_true",
                   help="offline: also refresh accounts already located by ZIP or city")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        raise CliError("--limit must be 0 or more")
    geocoder = None
    if not args.offline:
        try:
            geocoder = OnlineGeocoder(args.provider, api_key=args.api_key, domain=args.domain, scheme=args.scheme)
        except GeocoderProblem as exc:
            raise CliError(str(exc)) from exc
    store = open_store(args.db)
    try:
        with BarProgress("Geocoding") as bar:
            result = geocode_accounts(store, online=not args.offline, geocoder=geocoder, redo=args.redo,
                                      limit=args.limit, progress=bar)
    finally:
        store.close()
    text = result.summary()
    if result.unmatched:
        lines = [f"  #{u['id']} {u['name']} — {u['address'] or 'no address'}: {u['reason']}"
                 for u in result.unmatched[:20]]
        more = len(result.unmatched) - 20
        text += "\nNot found (fix the address or place a pin by hand):\n" + "\n".join(lines)
        if more > 0:
            text += f"\n  ... and {more:,} more (use --json for the full list)"
    emit(args, text, result.as_dict())
    return 0
