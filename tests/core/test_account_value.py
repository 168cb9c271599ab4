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
