"""Geocoding accounts: offline centroids accuracy, manual pins kept, online via a fake Nominatim on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.fakes import FakeHandler, serving

from core.geo import haversine_m
from core.geocoding import GeocoderProblem, OnlineGeocoder, geocode_accounts, unlocated
from core.geocoding import locate
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


# --- The ZIP pass SQLite runs (a join with the centroids) against the row-by-row pass -----------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class _Rollback(Exception):
    pass


_CODES = st.sampled_from(["78701", "02134", "10001", "96161", "00000", "7870", "787011", "78701-1234",
                          "02134-0001", "787011234", "78701 1234", " 78701", "78701 ", "78701-12", "７８７０１",
                          "ABCDE", "", None])
_COUNTRIES = st.sampled_from([None, "", "US", "us", "USA", "usa", "U.S.", "United States", "UNITED STATES",
                              " US", "US ", "Canada", "DE", "America"])
_ACCOUNT = st.fixed_dictionaries({"postal_code": _CODES, "country": _COUNTRIES},
                                 optional={"city": st.sampled_from(["Austin", "Boston", "Nowhere"]),
                                           "state": st.sampled_from(["TX", "MA", "texas"]),
                                           "lat": st.just(30.5), "deleted": st.just(True),
                                           "geocode_precision": st.sampled_from(["manual", "zip", "city"])})


def _geocoded(store, monkeypatch, sql_pass: bool):
    """Run offline geocoding inside a savepoint that is rolled back; return what it wrote and logged."""
    monkeypatch.setattr(locate, "SQL_ZIP_PASS", sql_pass and locate.SQL_ZIP_PASS)
    seq = store.scalar("SELECT max(seq) FROM change_log")
    try:
        with store.atomic():
            result = geocode_accounts(store)
            state = [tuple(r) for r in store.query(
                "SELECT id, lat, lon, geocode_precision, geocoded_at IS NOT NULL FROM accounts ORDER BY id")]
            log = [(e.row_id, e.row_uid, e.op, e.values, e.node_id) for e in change_log.edits(store, since_seq=seq)]
            hlcs = [e.hlc for e in change_log.edits(store, since_seq=seq)]
            raise _Rollback
    except _Rollback:
        pass
    times = {v.pop("geocoded_at") for *_, v, _ in log}
    assert len(times) <= 1 and hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs), "clock order = log order"
    return result.as_dict() | {"seconds": 0}, state, log, result.changes.ids("accounts")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ACCOUNT, min_size=1, max_size=12))
@example([{"postal_code": "78701", "country": "US", "deleted": True},
          {"postal_code": "78701-1234", "country": None, "geocode_precision": "manual"},
          {"postal_code": "02134-0001", "country": "Canada"}, {"postal_code": "10001", "country": " US"},
          {"postal_code": "787011234", "country": "usa"}, {"postal_code": "78701-12", "country": None},
          {"postal_code": "96161", "country": "", "lat": 30.5, "geocode_precision": "zip"},
          {"postal_code": "00000", "country": None, "city": "Austin", "state": "texas"},
          {"postal_code": "７８７０１", "country": "United States"}])
def test_the_zip_join_in_sql_writes_and_logs_what_the_row_by_row_pass_would(empty_store, monkeypatch, accounts):
    """Offline geocoding has SQLite locate the accounts with a known ZIP (or ZIP+4) and a US or no
    country; every other account goes the Python way. Both must give the same points, counts,
    not-found list and log rows (values as _encode_object would write them)."""
    try:
        with empty_store.atomic():
            for i, spec in enumerate(accounts):
                spec = dict(spec)
                deleted = spec.pop("deleted", False)
                if spec.get("lat") is not None:
                    spec["lon"] = -97.5
                account = add(empty_store, name=f"A{i}", **spec)
                if deleted:
                    writes.delete(empty_store, "accounts", account)
            by_sql = _geocoded(empty_store, monkeypatch, sql_pass=True)
            by_rows = _geocoded(empty_store, monkeypatch, sql_pass=False)
            assert by_sql == by_rows
            raise _Rollback
    except _Rollback:
        pass


def test_the_sql_zip_pass_takes_plain_and_zip4_codes_and_logs_each_account(empty_store, monkeypatch):
    plain = add(empty_store, name="Plain", postal_code="78701", country="US")
    zip4 = add(empty_store, name="Zip4", postal_code="02134-0001")
    town = add(empty_store, name="Town", city="Austin", state="TX")
    calls = []
    real = writes.update_columns
    monkeypatch.setattr(writes, "update_columns", lambda store, table, keys, rows: calls.append(
        [r[0] for r in rows]) or real(store, table, keys, rows))
    result = geocode_accounts(empty_store)
    assert calls == [[town]], "only the city fallback went through Python"
    assert result.located == {"zip": 2, "city": 1} and result.changes.ids("accounts") == {plain, zip4, town}
    lat, lon = gazetteer().zips["02134"]
    assert empty_store.query("SELECT lat, lon, geocode_precision FROM accounts WHERE id = ?", (zip4,))[0][:] == (
        round(lat, 6), round(lon, 6), "zip")
    edits = [e for e in change_log.edits(empty_store, table="accounts") if e.op == "update"]
    assert [e.row_id for e in edits] == [plain, zip4, town]
    assert edits[1].values == {"lat": round(lat, 6), "lon": round(lon, 6), "geocode_precision": "zip",
                               "geocoded_at": edits[1].values["geocoded_at"]}


_KILLABLE = """
import sys, time
from pathlib import Path
from core.geocoding import geocode_accounts
from core.storage import open_database

class Marker:
    def update(self, done, total, message=""):
        if message == "locating by ZIP code":
            Path(sys.argv[2]).write_text("in")
    def cancelled(self):
        return False

geocode_accounts(open_database(sys.argv[1]), progress=Marker())
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="needs SIGKILL")
def test_geocoding_killed_mid_way_keeps_all_or_nothing_and_every_change_logged(tmp_path):
    import os
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from core.storage import open_database

    zips = sorted(gazetteer().zips)
    rng = random.Random(7)
    source = tmp_path / "book.sqlite"
    store = open_database(source, create=True)
    count = 60_000
    writes.insert_many(store, "accounts", [{"name": f"A{i}", "postal_code": rng.choice(zips)} for i in range(count)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    root = Path(__file__).resolve().parents[3]
    killed = 0
    for trial, delay in enumerate((0.05, 0.3, 0.6, 0.9)):
        db, marker = tmp_path / f"t{trial}.sqlite", tmp_path / f"t{trial}.marker"
        shutil.copy(source, db)
        proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(db), str(marker)], cwd=root)
        try:
            deadline = time.monotonic() + 60
            while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        after = open_database(db)
        located = after.scalar("SELECT count(*) FROM accounts WHERE lat IS NOT NULL")
        logged = after.scalar("SELECT count(*) FROM change_log WHERE op = 'update'")
        assert after.scalar("PRAGMA quick_check") == "ok"
        assert located in (0, count) and logged == located, (trial, located, logged)
        after.close()
    assert killed, "at least one run was killed while geocoding"
