"""Visit parameters from a CRM export: hours, frequency, minutes, weekdays and tier, through to the rotation."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from core.account_value import read_accounts
from core.importing import ImportAborted, import_accounts
from core.importing.export import export_accounts
from core.importing.mapping import auto_mapping
from core.rotation.problem import prepare
from core.rotation.solve import solve_rotation
from core.storage import writes

SALESFORCE = ["Account ID", "Account Name", "Billing City", "Billing State/Province", "Billing Zip/Postal Code",
              "Billing Latitude", "Billing Longitude", "Account Owner", "Account Tier", "Opening Hours",
              "Visit Frequency", "Visit Duration (min)", "Visit Days"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def salesforce_file(tmp_path: Path, extra: list[list[str]] = ()) -> Path:
    rows = [SALESFORCE,
            ["001A", "Saturday Feed Store", "Austin", "TX", "78701", "30.27", "-97.74", "Dana Reyes", "A",
             "Sat 09:00-12:00", "Weekly", "30", ""],
            ["001B", "Weekday Clinic", "Austin", "TX", "78702", "30.26", "-97.72", "Dana Reyes", "Tier B",
             "M-F 8am-5pm", "Every 2 weeks", "45", "Tue, Thu"],
            ["001C", "Google Hours Deli", "Austin", "TX", "78703", "30.29", "-97.76", "Dana Reyes", "C",
             "Monday: 9:00 AM – 5:00 PM | Wednesday: 9:00 AM – 5:00 PM | Sunday: Closed", "Monthly", "20 min", ""],
            ["001D", "Always Open Fuel", "Austin", "TX", "78704", "30.24", "-97.76", "Dana Reyes", "B",
             "24/7", "Quarterly", "", ""],
            ["001E", "Three A Cycle Bakery", "Austin", "TX", "78705", "30.25", "-97.75", "Dana Reyes", "A",
             "Mon-Sat 6am-2pm", "3 per cycle", "15", ""],
            *extra]
    return write_csv(tmp_path / "Salesforce Accounts.csv", rows)


@pytest.fixture
def rep(empty_store):
    return writes.insert(empty_store, "reps", {"name": "Dana Reyes", "role": "rep", "home_lat": 30.27,
                                               "home_lon": -97.74, "work_start": "08:00", "work_end": "17:00"})


def test_salesforce_columns_are_recognised():
    mapping = auto_mapping(SALESFORCE)
    assert mapping.source == "salesforce"
    assert {k: mapping.columns[k] for k in ("opening_hours", "visit_frequency", "visit_minutes",
                                            "allowed_weekdays", "tier")} == {
        "opening_hours": "Opening Hours", "visit_frequency": "Visit Frequency",
        "visit_minutes": "Visit Duration (min)", "allowed_weekdays": "Visit Days", "tier": "Account Tier"}
    hubspot = auto_mapping(["Record ID", "Company name", "State/Region", "Opening hours", "Visit frequency"])
    assert hubspot.source == "hubspot" and hubspot.columns["opening_hours"] == "Opening hours"


def test_import_reads_visit_fields_and_the_rotation_honours_them(empty_store, rep, tmp_path):
    result = import_accounts(empty_store, salesforce_file(tmp_path))
    assert (result.inserted, result.rejected) == (5, 0)
    by_name = {a.name: a for a in read_accounts(empty_store)}
    sat = by_name["Saturday Feed Store"]
    assert sat.hours.open_weekdays() == ("sat",) and sat.visit_frequency == "weekly" and sat.tier == "A"
    clinic = by_name["Weekday Clinic"]
    assert (clinic.visit_frequency, clinic.visit_minutes, clinic.allowed_weekdays, clinic.tier) == (
        "biweekly", 45, ("tue", "thu"), "B")
    deli = by_name["Google Hours Deli"]
    assert deli.hours.open_weekdays() == ("mon", "wed") and deli.visit_minutes == 20
    fuel = by_name["Always Open Fuel"]
    assert fuel.hours.open_weekdays() == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert fuel.visit_minutes == 45   # empty cell: the default
    bakery = by_name["Three A Cycle Bakery"]
    assert (bakery.visit_frequency, bakery.visits_per_cycle) == ("3/cycle", 3)

    data = prepare(empty_store, rep, date(2026, 12, 7), 4, workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
    rotation = solve_rotation(data, seconds=1.0, route_days=False)
    visits: dict[str, list[date]] = {}
    for day in rotation.days:
        for stop in day.stops:
            visits.setdefault(stop.name, []).append(day.day)
    assert not rotation.unplaced
    # The Saturday-only account is visited every week, only on Saturdays.
    assert len(visits["Saturday Feed Store"]) == 4
    assert {d.weekday() for d in visits["Saturday Feed Store"]} == {5}
    # Every 2 weeks, on its allowed Tuesdays/Thursdays only.
    assert len(visits["Weekday Clinic"]) == 2 and {d.weekday() for d in visits["Weekday Clinic"]} <= {1, 3}
    assert len(visits["Google Hours Deli"]) == 1 and visits["Google Hours Deli"][0].weekday() in (0, 2)
    # Three per cycle: three visits, about 9 days apart, none on the Sunday it is closed.
    bakery = sorted(visits["Three A Cycle Bakery"])
    assert len(bakery) == 3 and all(6 <= (b - a).days <= 12 for a, b in zip(bakery, bakery[1:])), bakery


@pytest.mark.parametrize("column, value, reason", [
    ("Opening Hours", "Mon 17:00-08:00", "closes before it opens"),
    ("Opening Hours", "9-5", "name the days"),
    ("Visit Frequency", "whenever", "must be weekly, every 2 weeks, monthly, quarterly, N per cycle"),
    ("Visit Frequency", "200 per cycle", "visits per cycle must be 1 to 99"),
    ("Visit Duration (min)", "two hours", "must be a whole number"),
    ("Visit Duration (min)", "2000", "at most a day"),
    ("Visit Days", "Funday", "unknown weekday"),
    ("Account Tier", "Platinum", "must be A, B or C"),
])
def test_bad_visit_values_are_row_rejects_with_the_reason(empty_store, rep, tmp_path, column, value, reason):
    row = ["001Z", "Bad Row Inc", "Austin", "TX", "78705", "30.2", "-97.7", "Dana Reyes", "A", "Mon-Fri 9-5",
           "Weekly", "30", ""]
    row[SALESFORCE.index(column)] = value
    path = salesforce_file(tmp_path, [row])
    with pytest.raises(ImportAborted) as aborted:
        import_accounts(empty_store, path)
    text = str(aborted.value)
    assert "row 7" in text and column in text and value in text and reason in text
    assert empty_store.scalar("SELECT count(*) FROM accounts") == 0
    result = import_accounts(empty_store, path, skip_bad_rows=True)
    assert (result.inserted, result.rejected) == (5, 1)
    assert [(p.row, p.column) for p in result.problems] == [(7, column)] and reason in result.problems[0].reason
    # The problem is shown after its column ("Opening Hours: ..."): the reason does not name it again.
    assert not result.problems[0].reason.lower().startswith(column.lower()), result.problems[0].reason


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trips_visit_fields_through_import(empty_store, rep, tmp_path, fmt):
    import_accounts(empty_store, salesforce_file(tmp_path))
    before = {a.external_id: a for a in read_accounts(empty_store)}
    out = tmp_path / f"accounts.{fmt}"
    export_accounts(empty_store, out)
    again = import_accounts(empty_store, out)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 5, 0)
    # Into a fresh database: the same values come out.
    from core.storage.database import open_database

    fresh = open_database(tmp_path / "fresh.sqlite", create=True)
    try:
        writes.insert(fresh, "reps", {"name": "Dana Reyes", "role": "rep"})
        import_accounts(fresh, out)
        after = {a.external_id: a for a in read_accounts(fresh)}
    finally:
        fresh.close()
    assert before["001E"].visit_frequency == "3/cycle"
    fields = ("name", "tier", "visit_frequency", "visit_minutes", "hours", "allowed_weekdays", "lat", "lon")
    assert {k: tuple(getattr(a, f) for f in fields) for k, a in after.items()} == {
        k: tuple(getattr(a, f) for f in fields) for k, a in before.items()}
