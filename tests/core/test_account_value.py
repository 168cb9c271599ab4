"""The one account value: read once from the table, hours parsed once, weekdays answered the same everywhere."""

from __future__ import annotations

from datetime import date

import pytest

from core import accounts as svc
from core.account_value import read_account, read_accounts


def test_read_service_parses_hours_and_weekdays_once(demo_store):
    aid = svc.account_ids(demo_store)[0]
    svc.set_field(demo_store, aid, "opening_hours", "Sat 09:00-12:00")
    svc.set_field(demo_store, aid, "allowed_weekdays", "sat,sun")
    svc.set_field(demo_store, aid, "visit_frequency", "weekly")
    a = read_account(demo_store, aid)
    assert a.hours.open_weekdays() == ("sat",)
    assert a.windows_on(date(2026, 12, 5)) == ((540, 720),) and a.windows_on(date(2026, 12, 7)) == ()
    assert a.visit_weekdays() == ()                      # Mon–Fri rep: never
    assert a.visit_weekdays(("mon", "tue", "wed", "thu", "fri", "sat")) == ("sat",)
    assert a.visits_per_year == 52 and a.visit_frequency == "weekly"
    with pytest.raises(AttributeError):
        a.name = "changed"                                # frozen


def test_unknown_hours_are_open_every_day_and_closed_is_never(demo_store):
    aid = svc.account_ids(demo_store)[1]
    svc.set_field(demo_store, aid, "opening_hours", "")
    svc.set_field(demo_store, aid, "allowed_weekdays", "")
    a = read_account(demo_store, aid)
    assert a.hours is None and a.windows_on(date(2026, 12, 7)) is None and a.visit_weekdays() == (
        "mon", "tue", "wed", "thu", "fri")
    svc.set_field(demo_store, aid, "opening_hours", "Closed")
    assert read_account(demo_store, aid).visit_weekdays() == ()


def test_filters_match_the_table(demo_store):
    rep = demo_store.scalar("SELECT owner_id FROM accounts WHERE owner_id IS NOT NULL LIMIT 1")
    got = read_accounts(demo_store, owner_id=rep, active=True, located=True, visited=True)
    expected = [r[0] for r in demo_store.conn.execute(
        "SELECT id FROM accounts WHERE deleted_at IS NULL AND owner_id = ? AND status = 'active' AND lat IS NOT NULL "
        "AND visit_frequency != 'none' ORDER BY id", (rep,))]
    assert [a.id for a in got] == expected and expected
    some = expected[:3][::-1]
    assert [a.id for a in read_accounts(demo_store, ids=some)] == sorted(some)
    with pytest.raises(KeyError):
        read_account(demo_store, 10 ** 9)


def test_markers_are_the_located_accounts_as_the_value_has_them(demo_store):
    from core.account_value import MARKER_COLUMNS, read_accounts, read_markers

    rep = demo_store.scalar("SELECT owner_id FROM accounts WHERE owner_id IS NOT NULL LIMIT 1")
    for filters in ({}, {"owner_id": rep}, {"territory_id": 2}):
        rows = [row for batch in read_markers(demo_store, batch=100, **filters) for row in batch]
        full = read_accounts(demo_store, located=True, **filters)
        assert rows and [r[0] for r in rows] == [a.id for a in full]
        assert [tuple(getattr(a, c) for c in MARKER_COLUMNS) for a in full] == [tuple(r) for r in rows]
    box = (30.0, -98.0, 30.5, -97.5)
    inside = [r[0] for batch in read_markers(demo_store, bounds=box) for r in batch]
    assert inside == [a.id for a in read_accounts(demo_store, located=True)
                      if 30.0 <= a.lat <= 30.5 and -98.0 <= a.lon <= -97.5]


def test_rows_get_their_accounts_fields_from_the_value(demo_store):
    from core.account_value import read_account, with_account_fields

    rows = [{"account_id": 3, "x": 1}, {"account_id": 10**9, "x": 2}, {"account_id": 1, "x": 3}]
    out = with_account_fields(demo_store, rows, ("name", "tier", "allowed_weekdays"))
    assert [(r["account_id"], r["x"]) for r in out] == [(3, 1), (1, 3)]   # no such account: dropped, as a JOIN
    assert out[0]["name"] == read_account(demo_store, 3).name
