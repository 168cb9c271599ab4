"""Geocoding accounts: offline centroids accuracy, manual pins kept, online via a fake Nominatim on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.fakes import FakeHandler, serving

from core.geo import haversine_m
from core.geocoding import GeocoderProblem, OnlineGeocoder, geocode_accounts, unlocated
from core.geocoding.offline import city_key, gazetteer
from core.importing import import_accounts
from core.storage import change_log, writes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crm"


def add(store, **values) -> int:
    return writes.insert(store, "accounts", {"name": values.pop("name", "Acme"), **values})


def test_us_accounts_get_coordinates_within_a_few_km_of_their_zip_centroid(empty_store, tmp_path):
    import zipcodes

    import_accounts(empty_store, FIXTURES / "salesforce_accounts.csv", skip_bad_rows=True,
                    rejects_path=tmp_path / "r.csv")
    import_accounts(empty_store, FIXTURES / "hubspot_companies.csv", skip_bad_rows=True,
                    rejects_path=tmp_path / "r2.csv")
    result = geocode_accounts(empty_store)
    rows = empty_store.query("SELECT postal_code, lat, lon, geocode_precision FROM accounts")
    close = 0
    for row in rows:
        ref = zipcodes.matching(row["postal_code"][:5])
        if row["lat"] is not None and ref and haversine_m(row["lat"], row["lon"], float(ref[0]["lat"]),
                                                         float(ref[0]["long"])) < 5000:
            close += 1
    assert close / len(rows) >= 0.95
    assert result.located["zip"] >= 0.95 * len(rows)
    assert result.changes.ids("accounts")
    # the change log has every coordinate for sync
    logged = [e for e in change_log.edits(empty_store, table="accounts") if e.op == "update"]
    assert len(logged) == result.located_total
    assert all({"lat", "lon", "geocode_precision", "geocoded_at"} <= set(e.values) for e in logged)
    again = geocode_accounts(empty_store)
    assert again.located_total == 0


def test_city_centroid_when_zip_is_missing_and_unmatched_are_listed(empty_store):
    by_city = add(empty_store, name="City Only", city="Saint Louis", state="MO")
    nowhere = add(empty_store, name="Nowhere", city="Atlantis", state="TX", postal_code="00000")
    abroad = add(empty_store, name="Abroad", city="Paris", postal_code="75001", country="FR")
    result = geocode_accounts(empty_store)
    row = empty_store.query("SELECT lat, lon, geocode_precision FROM accounts WHERE id = ?", (by_city,))[0]
    assert row["geocode_precision"] == "city"
    assert haversine_m(row["lat"], row["lon"], 38.627, -90.199) < 20000
    reasons = {u["id"]: u["reason"] for u in result.unmatched}
    assert set(reasons) == {nowhere, abroad}
    assert "00000" in reasons[nowhere] and "Atlantis" in reasons[nowhere]
    assert "outside the US" in reasons[abroad]
    assert {u["id"] for u in unlocated(empty_store)} == {nowhere, abroad}
    assert city_key("St. Louis") == city_key("SAINT LOUIS")


def test_manual_pins_are_never_overwritten(empty_store):
    pinned = add(empty_store, postal_code="78701", lat=30.5, lon=-97.5, geocode_precision="manual")
    unpinned = add(empty_store, name="B", postal_code="78701")
    add(empty_store, name="C", postal_code="78702", lat=30.4, lon=-97.4, geocode_precision="manual")
    gone = add(empty_store, name="D", postal_code="78702", lat=30.4, lon=-97.4, geocode_precision="manual")
    writes.delete(empty_store, "accounts", gone)
    result = geocode_accounts(empty_store, redo=True)
    assert empty_store.query("SELECT lat, geocode_precision FROM accounts WHERE id = ?", (pinned,))[0][:] == (30.5, "manual")
    assert empty_store.scalar("SELECT geocode_precision FROM accounts WHERE id = ?", (unpinned,)) == "zip"
    assert (result.manual_kept, result.considered, result.located_total) == (2, 1, 1), "deleted pins not counted"
    again = geocode_accounts(empty_store)
    assert (again.manual_kept, again.considered, again.located_total) == (2, 0, 0)


class FakeNominatim(FakeHandler):
    """Answers /search like Nominatim: a house for '1 Main', nothing for 'Nowhere', 500 for 'Broken'."""

    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        q = parse_qs(urlparse(self.path).query).get("q", [""])[0]
        FakeNominatim.seen.append((q, self.headers.get("User-Agent", "")))
        if "Broken" in q:
            self.send_response(500)
            self.end_headers()
            return
        if "Nowhere" in q:
            body = []
        else:
            body = [{"lat": "30.2672", "lon": "-97.7431", "display_name": q, "class": "building",
                     "type": "house", "addresstype": "building", "importance": 0.5}]
        self.reply(body)


@pytest.fixture
def fake_nominatim():
    FakeNominatim.seen = []
    with serving(FakeNominatim) as address:
        yield address


def test_online_geocoding_caches_every_answer_and_keeps_manual_pins(empty_store, fake_nominatim):
    house = add(empty_store, name="House", street="1 Main St", city="Austin", state="TX", postal_code="78701")
    missing = add(empty_store, name="Gone", street="Nowhere Rd", city="Austin", state="TX", postal_code="78702")
    pinned = add(empty_store, name="Pin", street="2 Main St", city="Austin", state="TX", postal_code="78701",
                 lat=30.1, lon=-97.1, geocode_precision="manual")
    geocoder = OnlineGeocoder("nominatim", domain=fake_nominatim, scheme="http", min_delay=0, timeout=5)
    result = geocode_accounts(empty_store, online=True, geocoder=geocoder)
    assert result.online_queries == 2 and result.located == {"rooftop": 1, "zip": 1}
    row = empty_store.query("SELECT lat, lon, geocode_precision FROM accounts WHERE id = ?", (house,))[0]
    assert tuple(row) == (30.2672, -97.7431, "rooftop")
    # no online match: the ZIP centre stands in
    assert empty_store.scalar("SELECT geocode_precision FROM accounts WHERE id = ?", (missing,)) == "zip"
    assert empty_store.scalar("SELECT geocode_precision FROM accounts WHERE id = ?", (pinned,)) == "manual"
    assert all(agent.startswith("FieldAtlas/") for _, agent in FakeNominatim.seen)
    assert not any("2 Main St" in q for q, _ in FakeNominatim.seen), "a manual pin is not even looked up"
    assert empty_store.scalar("SELECT count(*) FROM geocode_cache") == 2
    assert empty_store.scalar("SELECT count(*) FROM geocode_cache WHERE lat IS NULL") == 1

    FakeNominatim.seen = []
    again = geocode_accounts(empty_store, online=True, geocoder=geocoder)
    assert again.online_queries == 0 and again.cache_hits == 1
    assert FakeNominatim.seen == []


def test_online_service_down_stops_early_and_falls_back_offline(empty_store, fake_nominatim):
    ids = [add(empty_store, name=f"B{i}", street=f"{i} Broken St", city="Austin", state="TX", postal_code="78701")
           for i in range(7)]
    geocoder = OnlineGeocoder("nominatim", domain=fake_nominatim, scheme="http", min_delay=0, timeout=5,
                              max_retries=1, error_wait=0)
    result = geocode_accounts(empty_store, online=True, geocoder=geocoder)
    assert "did not answer" in result.stopped_reason
    assert result.failures == 2, "with no answer yet, two failures mean the service is unreachable"
    assert len(FakeNominatim.seen) == 4, "each failed lookup is retried once"
    assert empty_store.scalar("SELECT count(*) FROM geocode_cache") == 0, "failures are not cached"
    located = empty_store.scalar(f"SELECT count(*) FROM accounts WHERE geocode_precision = 'zip' "
                                 f"AND id IN ({','.join(map(str, ids))})")
    assert located == 7


def test_once_the_service_has_answered_it_gets_five_chances(empty_store, fake_nominatim):
    add(empty_store, name="Good", street="1 Main St", city="Austin", state="TX", postal_code="78701")
    for i in range(7):
        add(empty_store, name=f"B{i}", street=f"{i} Broken St", city="Austin", state="TX", postal_code="78701")
    geocoder = OnlineGeocoder("nominatim", domain=fake_nominatim, scheme="http", min_delay=0, timeout=5,
                              max_retries=0, error_wait=0)
    result = geocode_accounts(empty_store, online=True, geocoder=geocoder)
    assert result.located.get("rooftop") == 1
    assert result.failures == 5 and "5 times in a row" in result.stopped_reason


def test_public_nominatim_is_held_to_one_request_per_second():
    geocoder = OnlineGeocoder("nominatim", min_delay=0)
    assert geocoder.min_delay >= 1.0
    assert geocoder.geocoder.headers["User-Agent"].startswith("FieldAtlas/")
    with pytest.raises(GeocoderProblem, match="API key"):
        OnlineGeocoder("google")
    with pytest.raises(GeocoderProblem, match="unknown"):
        OnlineGeocoder("nope")


def test_gazetteer_knows_zip_and_city_centroids():
    gaz = gazetteer()
    lat, lon, precision = gaz.locate("78701-1234", None, None)
    assert precision == "zip" and abs(lat - 30.27) < 0.1
    assert gaz.locate(None, "Austin", "Texas")[2] == "city"
    assert gaz.locate("78701", "Austin", "TX", "Canada") is None


def test_bundled_table_is_current_with_the_installed_zipcodes_data():
    import random

    import zipcodes

    from core.geocoding.offline import _load_bundle

    bundle = _load_bundle()
    assert bundle is not None, "resources/geo/us_places.json.gz is missing or stale: python -m core.geocoding.offline"
    rows = [z for z in zipcodes.list_all() if z.get("lat") and float(z["lat"]) != 0]
    for z in random.Random(1).sample(rows, 200):
        lat, lon = bundle.zips[z["zip_code"]]
        assert abs(lat - float(z["lat"])) < 1e-4 and abs(lon - float(z["long"])) < 1e-4
