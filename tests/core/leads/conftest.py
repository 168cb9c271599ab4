"""A small team for routing tests: four reps in one time zone, built through the core services."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest

from core.storage import writes

# A Wednesday, 10:00 in Chicago: everyone is inside working hours.
AT = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
DAY = "2026-11-18"


@pytest.fixture
def team(empty_store):
    store = empty_store
    with store.atomic():
        reps = writes.insert_many(store, "reps", [
            {"name": n, "role": "rep", "time_zone": "America/Chicago", "skills": s}
            for n, s in (("Ann", "[]"), ("Bob", '["Healthcare"]'), ("Cleo", "[]"), ("Dev", "[]"))])
    return store, reps


_ARRIVALS = itertools.count()


def add_leads(store, n, **values):
    """n new leads arriving one second apart, after every lead added before (so routing order is adding order)."""
    rows = []
    for _ in range(n):
        i = next(_ARRIVALS)
        row = {"name": f"Contact {i}", "company": f"Company {i}", "source": "Web form", "state": "TX",
               "industry": None, "product": None, "postal_code": None, "status": "new",
               "received_at": f"2026-11-{18 + i // 43200:02d}T{(i // 3600) % 12:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"}
        row.update(values)
        rows.append(row)
    with store.atomic():
        return writes.insert_many(store, "leads", rows)
