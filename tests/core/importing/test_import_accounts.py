"""Importing CRM exports: exact results on Salesforce/HubSpot samples, idempotent re-imports, all-or-nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.importing import FileProblem, ImportAborted, MappingProblem, import_accounts
from core.importing.mapping import ColumnMapping, auto_mapping, detect_source, save_mapping
from core.progress import Cancelled, NullProgress
from core.storage import change_log, writes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crm"


def counts(store) -> tuple[int, int]:
    return store.scalar("SELECT count(*) FROM accounts"), store.scalar("SELECT count(*) FROM change_log")


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def add_rep(store, name: str, email: str | None = None) -> int:
    return writes.insert(store, "reps", {"name": name, "email": email, "role": "rep"})


@pytest.mark.parametrize("name, source", [("salesforce_accounts.csv", "salesforce"),
                                          ("hubspot_companies.csv", "hubspot")])
def test_crm_export_imports_exactly_with_rejects_and_no_duplicates_on_reimport(empty_store, tmp_path, name, source):
    expected = json.loads((FIXTURES / name).with_suffix(".expected.json").read_text())
    maria = add_rep(empty_store, "Maria Garcia", "maria@example.com")
    before = counts(empty_store)

    with pytest.raises(ImportAborted) as aborted:
        import_accounts(empty_store, FIXTURES / name)
    assert counts(empty_store) == before, "an aborted import must write nothing"
    assert aborted.value.bad_rows == len(expected["bad_rows"])
    first = aborted.value.problems[0]
    assert first.row == int(min(expected["bad_rows"], key=int))
    assert f"row {first.row}" in str(aborted.value) and first.column in str(aborted.value)

    rejects = tmp_path / "rejects.csv"
    result = import_accounts(empty_store, FIXTURES / name, skip_bad_rows=True, rejects_path=rejects)
    assert result.source == source
    assert result.inserted == len(expected["good_ids"])
    assert result.rejected == len(expected["bad_rows"])
    ids = {r[0] for r in empty_store.query("SELECT external_id FROM accounts")}
    assert ids == set(expected["good_ids"])
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["Import row"] for r in rows} == set(expected["bad_rows"])
    for r in rows:
        assert r["Import problem"], "every rejected row says why"
    # original columns are kept so the file can be fixed and imported again
    assert set(rows[0]) >= set(auto_mapping(list(rows[0])).columns.values())

    # every account insert is in the change log (sync replays it)
    logged = empty_store.scalar("SELECT count(*) FROM change_log WHERE table_name = 'accounts' AND op = 'insert'")
    assert logged == len(expected["good_ids"])
    owned = empty_store.scalar("SELECT count(*) FROM accounts WHERE owner_id = ?", (maria,))
    assert owned > 0
    assert "Nobody Known" in result.owners_not_found

    again = import_accounts(empty_store, FIXTURES / name, skip_bad_rows=True, rejects_path=rejects)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == len(expected["good_ids"])
    assert empty_store.scalar("SELECT count(*) FROM accounts") == len(expected["good_ids"])


def test_standard_headers_map_automatically():
    sf = ["Account ID", "Account Name", "Billing Street", "Billing City", "Billing State/Province",
          "Billing Zip/Postal Code", "Billing Country", "Industry", "Annual Revenue", "Employees", "Account Owner"]
    hs = ["Record ID", "Company name", "Street Address", "City", "State/Region", "Postal Code", "Country/Region",
          "Number of Employees", "Company owner"]
    assert detect_source(sf) == "salesforce"
    assert detect_source(hs) == "hubspot"
    m = auto_mapping(sf)
    assert m.columns == {"external_id": "Account ID", "name": "Account Name", "street": "Billing Street",
                         "city": "Billing City", "state": "Billing State/Province",
                         "postal_code": "Billing Zip/Postal Code", "country": "Billing Country",
                         "industry": "Industry", "annual_revenue_cents": "Annual Revenue",
                         "employees": "Employees", "owner": "Account Owner"}
    h = auto_mapping(hs)
    assert h.columns["name"] == "Company name" and h.columns["employees"] == "Number of Employees"
    assert h.columns["state"] == "State/Region" and h.columns["owner"] == "Company owner"
    assert detect_source(["Organization - Name", "Organization - Owner"]) == "pipedrive"
    assert detect_source(["Account Name", "Address 1: City", "Address 1: ZIP/Postal Code"]) == "dynamics"


def test_values_convert_and_text_is_kept_as_typed(empty_store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        ["Account Name", "Annual Revenue", "Employees", "Billing State/Province", "Billing Zip/Postal Code",
         "Billing Country"],
        ["=HYPERLINK(\"x\")", "$1,234,567", "1,200", "Texas", "2108", "United States"],
        ["+Plus Co", "", "", "tx", "78701-1234", "USA"],
    ])
    import_accounts(empty_store, path)
    rows = {r["name"]: r for r in empty_store.query("SELECT * FROM accounts")}
    a = rows['=HYPERLINK("x")']
    assert a["annual_revenue_cents"] == 123456700
    assert a["employees"] == 1200
    assert a["state"] == "TX" and a["country"] == "US"
    assert a["postal_code"] == "02108"  # the leading zero a spreadsheet dropped
    b = rows["+Plus Co"]
    assert b["state"] == "TX" and b["postal_code"] == "78701-1234" and b["annual_revenue_cents"] is None


def test_rows_without_id_match_on_name_and_zip_and_repeats_collapse(empty_store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        ["Company", "City", "ZIP", "Employees"],
        ["Acme, Inc.", "Austin", "78701", "5"],
        ["ACME Inc", "Austin", "78701-0001", "7"],     # same company, same ZIP: one account
        ["Acme Inc", "Dallas", "75201", "9"],         # same name elsewhere: another account
    ])
    result = import_accounts(empty_store, path)
    assert result.inserted == 2 and result.duplicates == 1
    again = import_accounts(empty_store, path)
    assert again.inserted == 0
    assert empty_store.scalar("SELECT count(*) FROM accounts") == 2
    assert empty_store.scalar("SELECT employees FROM accounts WHERE postal_code LIKE '78701%'") == 7


def test_reimport_updates_in_place_and_keeps_manual_pins(empty_store, tmp_path):
    header = ["Account ID", "Account Name", "Billing Street", "Billing Zip/Postal Code", "Employees"]
    import_accounts(empty_store, write_csv(tmp_path / "a.csv", [header, ["001A", "Acme", "1 Main St", "78701", "5"],
                                                                 ["001B", "Beta", "2 Oak Ave", "78702", "6"]]))
    a_id = empty_store.scalar("SELECT id FROM accounts WHERE external_id = '001A'")
    b_id = empty_store.scalar("SELECT id FROM accounts WHERE external_id = '001B'")
    writes.update(empty_store, "accounts", a_id, {"lat": 30.1, "lon": -97.1, "geocode_precision": "manual"})
    writes.update(empty_store, "accounts", b_id, {"lat": 30.2, "lon": -97.2, "geocode_precision": "zip"})
    result = import_accounts(empty_store, write_csv(tmp_path / "b.csv", [
        header, ["001A", "Acme Corp", "9 New Rd", "78705", ""], ["001B", "Beta", "5 Elm St", "78704", "6"]]))
    assert (result.inserted, result.updated) == (0, 2)
    a = dict(empty_store.query("SELECT * FROM accounts WHERE id = ?", (a_id,))[0])
    assert a["name"] == "Acme Corp" and a["employees"] == 5, "an empty cell leaves the value alone"
    assert (a["lat"], a["geocode_precision"]) == (30.1, "manual"), "a hand-placed pin is never moved"
    b = dict(empty_store.query("SELECT * FROM accounts WHERE id = ?", (b_id,))[0])
    assert b["lat"] is None and b["geocode_precision"] is None, "a moved address drops its stale point"
    assert {"name", "street", "postal_code"} <= set(change_log.changed_columns(empty_store, "accounts", a_id, "update"))


def test_dry_run_reports_but_writes_nothing(empty_store):
    before = counts(empty_store)
    result = import_accounts(empty_store, FIXTURES / "salesforce_accounts.csv", skip_bad_rows=True,
                             rejects_path=None, dry_run=True)
    assert result.inserted > 0 and result.dry_run
    assert counts(empty_store) == before
    assert result.changes.tables == frozenset()


def test_cancel_leaves_nothing_half_imported(empty_store):
    progress = NullProgress()
    progress.cancel()
    before = counts(empty_store)
    with pytest.raises(Cancelled):
        import_accounts(empty_store, FIXTURES / "hubspot_companies.csv", skip_bad_rows=True,
                        rejects_path=None, progress=progress)
    assert counts(empty_store) == before


def test_mappings_from_json_file_and_saved_by_name(empty_store, tmp_path):
    path = write_csv(tmp_path / "odd.csv", [["Kunde", "PLZ", "Leute"], ["Müller GmbH", "78701", "12"]])
    with pytest.raises(MappingProblem, match="account name"):
        import_accounts(empty_store, path)
    mapping_file = tmp_path / "m.json"
    mapping_file.write_text(json.dumps({"columns": {"name": "Kunde", "postal_code": "PLZ", "employees": "Leute"}}))
    assert import_accounts(empty_store, path, str(mapping_file)).inserted == 1
    save_mapping(empty_store, "german", ColumnMapping({"name": "Kunde", "employees": "Leute"}))
    result = import_accounts(empty_store, path, "german")
    assert result.mapping == {"name": "Kunde", "employees": "Leute"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": {"name": "Nope"}}))
    with pytest.raises(MappingProblem, match="'Nope'"):
        import_accounts(empty_store, path, str(bad))
    with pytest.raises(MappingProblem, match="no mapping called"):
        import_accounts(empty_store, path, "missing")


def test_deleted_account_comes_back_on_reimport_instead_of_clashing(empty_store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Account ID", "Account Name"], ["001X", "Gone Co"]])
    import_accounts(empty_store, path)
    account_id = empty_store.scalar("SELECT id FROM accounts")
    writes.delete(empty_store, "accounts", account_id)
    result = import_accounts(empty_store, path)
    assert result.inserted == 0
    assert empty_store.scalar("SELECT deleted_at FROM accounts WHERE id = ?", (account_id,)) is None
