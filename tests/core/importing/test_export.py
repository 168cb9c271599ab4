"""Exporting accounts: formula injection neutralised in CSV, exact strings (never formulas) in XLSX, round trip."""

from __future__ import annotations

import csv
import zipfile

import openpyxl
import pytest

from core.importing import import_accounts
from core.importing.export import ExportProblem, export_accounts, neutralise
from core.storage import writes

RISKY = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTabbed", "\rReturn"]


def test_neutralise_covers_every_risky_start_and_leaves_numbers():
    for text in RISKY:
        assert neutralise(text) == "'" + text
    assert neutralise("Acme") == "Acme"
    assert neutralise(-97.5) == -97.5
    assert neutralise(None) is None


def test_csv_export_neutralises_formulas(empty_store, tmp_path):
    for i, name in enumerate(RISKY):
        writes.insert(empty_store, "accounts", {"name": name, "city": "=HYPERLINK(\"http://x\")",
                                                "lat": 30.0, "lon": -97.0, "annual_revenue_cents": 123456700})
    writes.insert(empty_store, "accounts", {"name": "Deleted", "deleted_at": None})
    deleted = empty_store.scalar("SELECT id FROM accounts WHERE name = 'Deleted'")
    writes.delete(empty_store, "accounts", deleted)
    out = tmp_path / "a.csv"
    assert export_accounts(empty_store, out) == len(RISKY)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["Name"] for r in rows) == sorted("'" + n for n in RISKY)
    for r in rows:
        assert r["City"].startswith("'=")
        assert r["Longitude"] == "-97.0" and r["Revenue"] == "1234567"
        assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for v in r.values())


def test_xlsx_export_keeps_text_exact_and_has_no_formulas(empty_store, tmp_path):
    for name in RISKY:
        writes.insert(empty_store, "accounts", {"name": name})
    out = tmp_path / "a.xlsx"
    export_accounts(empty_store, out, "xlsx")
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml, "no cell may be stored as a formula"
    wb = openpyxl.load_workbook(out)
    names = [row[1] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    # Byte for byte; older openpyxl wrote a bare carriage return raw, which XML reads back as a newline.
    assert sorted(names) in (sorted(RISKY), sorted(n.replace("\r", "\n") for n in RISKY))


def test_export_then_import_round_trips(empty_store, tmp_path):
    writes.insert(empty_store, "accounts", {"name": "Acme", "external_id": "X1", "postal_code": "78701",
                                            "employees": 12, "annual_revenue_cents": 150000000})
    out = tmp_path / "a.xlsx"
    export_accounts(empty_store, out)
    result = import_accounts(empty_store, out)
    assert result.source == "fieldatlas"
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)


def test_export_refuses_unknown_format_and_missing_folder(empty_store, tmp_path):
    with pytest.raises(ExportProblem, match="format"):
        export_accounts(empty_store, tmp_path / "a.pdf")
    with pytest.raises(ExportProblem, match="does not exist"):
        export_accounts(empty_store, tmp_path / "nope" / "a.csv")
