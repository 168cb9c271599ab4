"""The ZIP -> county table shipped in resources/ is the installed zipcodes data, and rules read it."""

from __future__ import annotations

from core.territories import rules


def test_the_shipped_county_table_equals_the_zipcodes_data():
    shipped = rules._load_county_bundle()
    assert shipped is not None, "resources/geo/zip_counties.json.gz is missing or stale: python -m core.geocoding.offline"
    assert shipped == rules._counties_from_zipcodes()


def test_a_stale_or_missing_table_falls_back_to_the_zipcodes_data(monkeypatch, tmp_path):
    monkeypatch.setattr(rules, "_zipcodes_version", lambda: "0.0-other")
    assert rules._load_county_bundle() is None, "made from other zipcodes data: not used"
    monkeypatch.setattr(rules, "_county_by_zip", None)
    assert rules.county_of_zip("77002") == "Harris County"
    rules.write_county_bundle(tmp_path / "c.json.gz")
    assert (tmp_path / "c.json.gz").stat().st_size > 50_000
