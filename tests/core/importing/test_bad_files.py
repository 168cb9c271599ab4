"""Files people really send: odd encodings and delimiters, broken rows, binary junk, workbooks with formulas."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core import accounts
from core.importing import FileProblem, ImportAborted, MappingProblem, import_accounts, open_table
from core.importing.values import RowConverter
from core.storage import open_database

HEADER = "Account Name,Billing City,Billing Zip/Postal Code,Employees\r\n"


def counts(store) -> tuple[int, int]:
    return store.scalar("SELECT count(*) FROM accounts"), store.scalar("SELECT count(*) FROM change_log")


@pytest.mark.parametrize("encoding, prefix, label", [
    ("utf-8", b"", "UTF-8"), ("utf-8", codecs.BOM_UTF8, "UTF-8 with BOM"), ("cp1252", b"", "Windows-1252"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16 with BOM"), ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 with BOM"),
    ("utf-16-le", b"", "UTF-16 LE"), ("utf-16-be", b"", "UTF-16 BE"),
    ("utf-32-le", codecs.BOM_UTF32_LE, "UTF-32 with BOM"), ("utf-32-be", codecs.BOM_UTF32_BE, "UTF-32 with BOM"),
    ("utf-32-le", b"", "UTF-32 LE"), ("utf-32-be", b"", "UTF-32 BE"),
])
def test_encodings_are_detected(empty_store, tmp_path, encoding, prefix, label):
    text = HEADER + "Café Müller – Bäckerei,São Paulo,78701,3\r\nNaïve Ltd,Austin,78702,4\r\n"
    path = tmp_path / "a.csv"
    path.write_bytes(prefix + text.encode(encoding))
    result = import_accounts(empty_store, path)
    names = {r[0] for r in empty_store.query("SELECT name FROM accounts")}
    assert names == {"Café Müller – Bäckerei", "Naïve Ltd"}
    # The summary and JSON say how the file was read.
    assert result.encoding == label
    assert f"CSV, comma-separated, {label}" in result.summary() and result.as_dict()["encoding"] == label


@pytest.mark.parametrize("prefix", [b"", codecs.BOM_UTF16_LE])
def test_utf8_with_a_zero_after_every_byte_is_read_as_utf8_not_mojibake(empty_store, tmp_path, prefix):
    text = HEADER + "Café Müller – Bäckerei,São Paulo,78701,3\r\nNaïve Ltd,Austin,78702,4\r\n"
    path = tmp_path / "spread.csv"
    path.write_bytes(prefix + bytes(b for byte in text.encode("utf-8") for b in (byte, 0)))
    result = import_accounts(empty_store, path)
    assert {r[0] for r in empty_store.query("SELECT name FROM accounts")} == {"Café Müller – Bäckerei", "Naïve Ltd"}
    assert "zero byte after every byte" in result.encoding and "read as UTF-8" in result.summary()


def test_ascii_utf16_is_still_utf16(empty_store, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_bytes((HEADER + "Acme,Austin,78701,3\r\n").encode("utf-16-le"))
    assert import_accounts(empty_store, path).encoding == "UTF-16 LE"


def _undecodable_files() -> dict[str, tuple[bytes, str, int, int]]:
    """name -> (file bytes, encoding named in the message, line, byte offset of the bad byte)."""
    good = "Café Bleu,Austin,78701,1\r\n"
    lines = 20_000  # past the 256 KB the detector samples, so detection cannot see the bad byte
    out = {}
    head = (HEADER + good * lines).encode("utf-8")
    out["utf-8"] = (head + b"Caf\x81 Rouge,Waco,76701,2\r\n", "UTF-8", lines + 2, len(head) + 3)
    head = (HEADER + good * lines).encode("cp1252")
    out["cp1252"] = (head + b"Caf\x81 Rouge,Waco,76701,2\r\n", "Windows-1252", lines + 2, len(head) + 3)
    head = codecs.BOM_UTF16_LE + (HEADER + good * 100).encode("utf-16-le")
    out["utf-16 lone surrogate"] = (head + "Caf".encode("utf-16-le") + b"\x00\xd8" + ",Waco,76701,2\r\n".encode("utf-16-le"),
                                    "UTF-16 with BOM", 102, len(head) + 6)
    head = (HEADER + good * 100).encode("utf-16-be")
    out["utf-16 cut short"] = (head + b"\x00", "UTF-16 BE", 102, len(head))
    return out


@pytest.mark.parametrize("name", list(_undecodable_files()))
def test_text_that_does_not_decode_is_refused_naming_encoding_line_and_offset(empty_store, tmp_path, name):
    data, label, line, offset = _undecodable_files()[name]
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    before = counts(empty_store)
    for skip in (False, True):
        with pytest.raises(FileProblem) as exc:
            import_accounts(empty_store, path, skip_bad_rows=skip, rejects_path=tmp_path / "r.csv")
        message = str(exc.value)
        assert f"reads as {label} up to here" in message, message
        assert f"line {line:,} " in message and f"byte offset {offset:,}" in message, message
        assert counts(empty_store) == before
        assert not (tmp_path / "r.csv").exists()


def test_spread_utf8_that_breaks_its_pattern_is_refused(empty_store, tmp_path):
    text = HEADER + "Café Bleu,Austin,78701,1\r\n" * 20_000
    data = bytearray(b for byte in text.encode("utf-8") for b in (byte, 0))
    data += b"A\x42,\x00"  # 0x42 where the pattern wants a zero
    path = tmp_path / "spread.csv"
    path.write_bytes(bytes(data))
    with pytest.raises(FileProblem, match=r"byte [\d,]+ \(0x42\).*zero after every byte"):
        import_accounts(empty_store, path)
    assert counts(empty_store) == (0, 0)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_delimiter_is_sniffed(empty_store, tmp_path, delimiter):
    path = tmp_path / "a.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(["Account Name", "Annual Revenue", "Billing City"])
        w.writerow(["Acme; Inc, Ltd", "$1,234,567", "Austin"])
        w.writerow(["Beta", "5", "Waco"])
    table = open_table(path)
    assert table.delimiter == delimiter
    import_accounts(empty_store, path)
    assert empty_store.scalar("SELECT annual_revenue_cents FROM accounts WHERE name = 'Acme; Inc, Ltd'") == 123456700


def test_utf8_file_with_stray_windows_bytes_keeps_the_row(empty_store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(HEADER.encode() + "Zoë,Austin,78701,1\r\n".encode() + b"Caf\xe9 Bleu,Austin,78701,2\r\n")
    import_accounts(empty_store, path)
    assert {r[0] for r in empty_store.query("SELECT name FROM accounts")} == {"Zoë", "Café Bleu"}


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\r\n\r\n  \r\n", "no header"),
    (HEADER.encode(), "no data rows"),
    (b"Account Name,City,City\r\nA,B,C\r\n", "appears twice"),
    (b"\x00\x01\x02\x03binary\xff\xfe\x00\x00" * 200, "binary"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
    (b"PK\x03\x04 this is not really a workbook", "Excel workbook"),
])
def test_unusable_files_get_a_clear_message_and_change_nothing(empty_store, tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    before = counts(empty_store)
    with pytest.raises(FileProblem, match=message):
        import_accounts(empty_store, path)
    assert counts(empty_store) == before


def test_unknown_headers_say_the_name_column_is_missing(empty_store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Foo,Bar\n1,2\n")
    with pytest.raises(MappingProblem, match="account name"):
        import_accounts(empty_store, path)


@pytest.mark.parametrize("bad_line, column, reason", [
    ("Acme,Austin,78701,5,extra,cells", "(extra cells)", "header has 4 columns"),
    ("Acme,Austin,78701,many", "Employees", "whole number"),
    ("Ac\x00me,Austin,78701,5", "Account Name", "NUL"),
    ("Acme," + "x" * 1_048_576 + ",78701,5", "Billing City", "characters long"),
    (",Austin,78701,5", "Account Name", "name is required"),
])
def test_bad_rows_name_row_column_value_and_reason(empty_store, tmp_path, bad_line, column, reason):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "Good Co,Waco,76701,1\r\n" + bad_line + "\r\nShort Co,Waco\r\n", encoding="utf-8")
    before = counts(empty_store)
    with pytest.raises(ImportAborted) as exc:
        import_accounts(empty_store, path)
    assert counts(empty_store) == before
    problem = exc.value.problems[0]
    assert (problem.row, problem.column) == (3, column)
    assert reason in problem.reason
    rejects = tmp_path / "rejects.csv"
    result = import_accounts(empty_store, path, skip_bad_rows=True, rejects_path=rejects)
    assert (result.inserted, result.rejected) == (2, 1), "a short (ragged) row is fine: missing cells are empty"
    assert rejects.exists()


def test_xlsx_with_formulas_and_merged_cells(empty_store, tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Account Name", "Billing City", "Billing Zip/Postal Code", "Employees", "Annual Revenue"])
    ws.append(["Acme", "Austin", 78701, 10, 1500000])
    ws.append(["Beta", "Waco", "02108", "=D2*2", 2])     # a formula Excel never calculated (no cached value)
    ws.append(["Merged Co", "Austin", 78702, 3, 4])
    ws.append([None, "Austin", 78703, 3, 4])              # merged down from the row above: empty cell
    ws.merge_cells("A4:A5")
    other = wb.create_sheet("Second")
    other.append(["Company", "ZIP"])
    other.append(["Second Sheet Co", "73301"])
    wb.save(path)

    with pytest.raises(ImportAborted) as exc:
        import_accounts(empty_store, path)
    assert exc.value.problems[0].row == 5 and exc.value.problems[0].column == "Account Name"
    result = import_accounts(empty_store, path, skip_bad_rows=True, rejects_path=tmp_path / "r.csv")
    assert (result.inserted, result.rejected) == (3, 1)
    acme = empty_store.query("SELECT * FROM accounts WHERE name = 'Acme'")[0]
    assert acme["postal_code"] == "78701" and acme["annual_revenue_cents"] == 150000000
    beta = empty_store.query("SELECT * FROM accounts WHERE name = 'Beta'")[0]
    assert beta["employees"] is None, "an uncalculated formula is an empty cell, never the formula text"
    result = import_accounts(empty_store, path, sheet="Second")
    assert result.inserted == 1
    with pytest.raises(FileProblem, match="no sheet named"):
        import_accounts(empty_store, path, sheet="Nope")


# Cells drawn from what breaks parsers: quotes, delimiters, newlines, NULs, BOMs, very long text.
_cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(['"', '""', ",", ";", "\n", "\r", "\x00", "\ufeff", "=1+1", "-5", "$1,2", " ", "1e309"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.sampled_from(["Account Name", "Employees", "Annual Revenue", "Billing Zip/Postal Code",
                                     "Latitude", "Longitude", "Account ID", "Junk", ""]), min_size=0, max_size=6),
    rows=st.lists(st.lists(_cell, max_size=8), max_size=8),
    junk=st.binary(max_size=40),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]),
    skip=st.booleans(),
)
def test_fuzzed_files_never_crash_and_never_half_import(tmp_path_factory, header, rows, junk, encoding, skip):
    folder = tmp_path_factory.mktemp("fuzz")
    store = open_database(folder / "f.sqlite", create=True)
    try:
        lines = [",".join(header)] + [",".join(r) for r in rows]
        data = "\r\n".join(lines).encode(encoding, errors="replace") + junk
        path = folder / "f.csv"
        path.write_bytes(data)
        before = counts(store)
        try:
            result = import_accounts(store, path, skip_bad_rows=skip, rejects_path=folder / "r.csv")
        except (FileProblem, MappingProblem, ImportAborted) as exc:
            assert str(exc)
            assert counts(store) == before
        else:
            accounts_now = store.scalar("SELECT count(*) FROM accounts")
            assert accounts_now == before[0] + result.inserted
            logged = store.scalar("SELECT count(*) FROM change_log WHERE op = 'insert'")
            assert logged == accounts_now
    finally:
        store.close()


def test_large_file_streams(empty_store, tmp_path):
    """A file is read row by row: the reader never holds the file, only the current row."""
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for i in range(20000):
            fh.write(f"Company {i},Austin,78701,{i % 50}\r\n")
    table = open_table(path)
    rows = table.rows()
    first = next(rows)
    done, total = table.progress(first[0])
    assert first[0] == 2 and 0 < done < total == path.stat().st_size // 1024
    result = import_accounts(empty_store, table)
    assert result.inserted == 20000


def test_salesforce_report_footer_is_not_imported(empty_store, tmp_path):
    path = tmp_path / "report.csv"
    path.write_text('"Account ID","Account Name","Billing City"\n"001A","Acme","Austin"\n"001B","Beta","Waco"\n'
                    '""\n"Grand Totals (2 records)"\n""\n'
                    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
                    '"Confidential Information - Do Not Distribute"\n"Generated By:  Jo Smith  11/20/2026 10:16 AM"\n'
                    '"Acme Holdings Org"\n', encoding="utf-8")
    result = import_accounts(empty_store, path)
    assert result.inserted == 2 and result.rows_read == 2


def test_title_rows_above_the_header_and_excel_sep_line(empty_store, tmp_path):
    book = tmp_path / "formatted.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Accounts by owner"])
    ws.append(["As of 2026-11-20"])
    ws.append([])
    ws.append(["Account Name", "Billing City", "Billing Zip/Postal Code"])
    ws.append(["Acme", "Austin", "78701"])
    wb.save(book)
    table = open_table(book)
    assert table.header_row == 4 and table.headers[0] == "Account Name"
    assert import_accounts(empty_store, book).inserted == 1
    sep = tmp_path / "sep.csv"
    sep.write_text("sep=;\r\nAccount Name;Billing City\r\nBeta, Inc.;Waco\r\n", encoding="utf-8")
    assert open_table(sep).delimiter == ";"
    assert import_accounts(empty_store, sep).inserted == 1
    assert empty_store.scalar("SELECT count(*) FROM accounts WHERE name = 'Beta, Inc.'") == 1


def test_workbook_damaged_after_its_header_fails_cleanly(empty_store, tmp_path):
    import zipfile

    good, bad = tmp_path / "ok.xlsx", tmp_path / "bad.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Account Name", "City"])
    for i in range(50):
        wb.active.append([f"Co {i}", "Austin"])
    wb.save(good)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # cut off mid-sheet, as an interrupted download would
            zout.writestr(item, data)
    before = counts(empty_store)
    with pytest.raises(FileProblem, match="cannot read the workbook"):
        import_accounts(empty_store, bad)
    assert counts(empty_store) == before


CELL = st.one_of(
    st.none(), st.text(max_size=12),
    st.sampled_from(["-5", "0", "12", "1,200", "3.0", "3.5", "$1,234.56", "(100)", "2.5M", "1e400", "nan",
                     "91", "-181", "45.5", "tx", "Texas", "TXX", "a", "b", "D", "active", "Churned", "lead",
                     "bogus", " ", "=1+1", "99999999999999999999999"]))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "state", "country", "employees", "annual_revenue_cents", "lat", "lon",
                                        "tier", "status", "postal_code"]), CELL, max_size=4))
@example({"lat": "91", "lon": "10"})
@example({"lat": "10", "lon": "-181"})
@example({"tier": "D"})
@example({"state": "TXX"})
@example({"employees": "-5", "annual_revenue_cents": "(100)", "status": "bogus"})
def test_a_row_the_importer_accepts_is_one_accounts_validate_accepts(cells):
    """The importer validates only where its converters fall short; nothing may slip between the two."""
    cells = {"name": "Acme", **cells}
    convert = RowConverter((key, i, key.title()) for i, key in enumerate(cells))
    values, problems = convert(2, list(cells.values()))
    if not problems:
        editable = {k: v for k, v in values.items() if v is not None and k in accounts.EDITABLE}
        assert accounts.validate(editable) == []


UNCLOSED_QUOTES = {
    # The quote runs to the end of the file: everything after it is one name.
    "to the end": ('"Acme Inc,Austin,78701\r\nBeta Co,Dallas,75201\r\nGamma Co,Houston,77001\r\n', 3, "Account Name",
                   "Beta Co,Dallas"),
    # The quote pairs with the next row's opening quote: the name holds the next row, the rest looks fine.
    "into the next row": ('"Acme Inc,Austin,78701\r\n"Beta Co",Dallas,75201\r\nGamma Co,Houston,77001\r\n', 3,
                          "Account Name", "Acme Inc,Austin,78701"),
    # Opened in a middle column, closed by a later row's quote.
    "mid row": ('Acme Inc,"Austin,78701\r\nBeta Co,Dallas,75201\r\nGamma Co,"Houston",77001\r\nDelta Co,Waco,76702\r\n',
                3, "Billing City", "Beta Co,Dallas"),
}


@pytest.mark.parametrize("case", list(UNCLOSED_QUOTES))
def test_an_unclosed_quote_that_swallows_rows_is_refused_with_its_row(empty_store, tmp_path, case):
    body, row, column, swallowed = UNCLOSED_QUOTES[case]
    header = "Account Name,Billing City,Billing Zip/Postal Code\r\n"
    path = tmp_path / "export.csv"
    path.write_bytes((header + "Good Co,Waco,76701\r\n" + body).encode())
    before = counts(empty_store)
    with pytest.raises(ImportAborted) as exc:
        import_accounts(empty_store, path)
    assert counts(empty_store) == before
    problem = exc.value.problems[0]
    assert (problem.row, problem.column) == (row, column)
    assert "quote" in problem.reason and "line 3" in problem.reason and swallowed in problem.value
    # Skipping bad rows rejects that row (the swallowed rows travel with it to the rejects file).
    rejects = tmp_path / "rejects.csv"
    result = import_accounts(empty_store, path, skip_bad_rows=True, rejects_path=rejects)
    names = {r[0] for r in empty_store.query("SELECT name FROM accounts")}
    assert result.rejected == 1 and "Good Co" in names
    assert not any("\n" in n or "," in n for n in names), names
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["Import row"] for r in rejected] == [str(row)]
    assert swallowed in rejected[0][column]


def test_a_quote_run_on_over_many_lines_is_refused(empty_store, tmp_path):
    path = tmp_path / "notes.csv"
    body = "\r\n".join(f"note {i}" for i in range(80))
    path.write_bytes(f'Account Name,Description\r\nGood Co,fine\r\nAcme,"{body}\r\n'.encode())
    with pytest.raises(ImportAborted) as exc:
        import_accounts(empty_store, path)
    assert exc.value.problems[0].row == 3 and "80 lines" in exc.value.problems[0].reason


def test_real_multi_line_cells_still_import(empty_store, tmp_path):
    path = tmp_path / "streets.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Account Name", "Billing Street", "Billing City", "Billing Zip/Postal Code", "Description"])
        w.writerow(["Acme", "100 Main St\nSuite 200", "Austin", "78701", "Call first, ask for Bo\nGate code 12"])
        w.writerow(["Beta", "5 Elm St", "Waco", "76701", ""])
    result = import_accounts(empty_store, path)
    assert (result.inserted, result.rejected) == (2, 0)
    assert empty_store.scalar("SELECT street FROM accounts WHERE name = 'Acme'") == "100 Main St\nSuite 200"


def test_cli_refuses_an_unclosed_quote_with_exit_1(tmp_path, capsys):
    from desktop.cli import main

    path = tmp_path / "export.csv"
    path.write_bytes(b"Account Name,Billing City,Billing Zip/Postal Code\r\nGood Co,Waco,76701\r\n"
                     + UNCLOSED_QUOTES["into the next row"][0].encode())
    db = tmp_path / "new.sqlite"
    assert main(["import", "accounts", str(path), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fieldatlas: error: row 3, column 'Account Name'") and "quote" in err
    assert not db.exists()
