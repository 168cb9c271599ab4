"""Money parsing, opening hours, settings: the small pieces everything leans on."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from core import money, opening_hours, settings as settings_mod
from core.money import format_cents, parse_cents


@pytest.mark.parametrize("text, cents", [
    ("$1,234,567", 123456700), ("1234.5", 123450), ("  $0.99 ", 99), ("(1,000)", -100000), ("2.5M", 250000000),
    ("USD 12", 1200), ("", None), (None, None), (12, 1200),
])
def test_parse_cents(text, cents):
    assert parse_cents(text) == cents


@pytest.mark.parametrize("text", ["abc", "$", "1.2.3", "nan", "inf"])
def test_parse_cents_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_cents(text)


@given(st.from_regex(r"\$?([0-9]{1,3}(,[0-9]{3}){0,4}|[0-9]{1,15})(\.[0-9]{1,2})?", fullmatch=True))
def test_plain_amounts_parse_as_the_general_path_does(text):
    # parse_cents skips Decimal for plain amounts (bulk imports); the answer must be the same.
    assert parse_cents(text) == money._parse_decimal(text)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_format_then_parse_round_trips(cents):
    assert parse_cents(format_cents(cents)) == cents


def test_opening_hours_describe_groups_days():
    text = opening_hours.dumps({d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
                               | {"sat": [["09:00", "12:00"]]})
    assert opening_hours.describe(text) == "Mon–Fri 08:00–17:00, Sat 09:00–12:00"
    assert opening_hours.describe(None) == ""
    with pytest.raises(ValueError):
        opening_hours.parse('{"funday": [["08:00", "09:00"]]}')


def test_settings_round_trip_and_fallbacks(tmp_path):
    path = tmp_path / "settings.json"
    s = settings_mod.Settings(units="km", currency="EUR", tile_url="https://tiles.example.com/{z}/{x}/{y}.png")
    settings_mod.save(s, path)
    assert settings_mod.load(path) == s
    raw = json.loads(path.read_text())
    raw.update(units="furlongs", currency=12, unknown_key=True)
    path.write_text(json.dumps(raw))
    loaded = settings_mod.load(path)
    assert loaded.units == "mi" and loaded.currency == "USD" and loaded.tile_url == s.tile_url
    path.write_text("{not json")
    assert settings_mod.load(path) == settings_mod.Settings()
    assert settings_mod.validate(settings_mod.Settings(tile_url="ftp://x")) == ["tile url must start with http:// or https://"]
