"""Reading CRM export files as a header plus a stream of rows: CSV (any common encoding/delimiter) and XLSX."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

SAMPLE_BYTES = 256 * 1024
# Python's csv module refuses fields above 128 KB by default; we read up to this size so that
# an over-long cell becomes a row problem with a row number instead of a parser crash.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
DELIMITERS = ",;\t|"


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message says why in the user's words."""


@dataclass
class Table:
    """A file opened for import: its headers, how it was read, and a way to stream its data rows.

    rows() yields (row_number, values) where row_number is the line/row the user sees in a
    spreadsheet (the header is row 1), and values are strings (or None for empty cells).
    """

    path: Path
    kind: str                      # "csv" | "xlsx"
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    size_bytes: int = 0
    total_rows: int = 0            # rows in an XLSX sheet's stored dimensions (0 when unknown)
    header_row: int = 1            # the row the headers are on (title rows above it are skipped)
    # row number -> (cell index, reason) for rows the reader found broken (an unclosed quote that
    # swallowed the rows after it); filled while rows() streams, read by the importer per row.
    broken_rows: dict[int, tuple[int, str]] = field(default_factory=dict, repr=False)
    _open_rows: Callable[[], Iterator[tuple[int, list[str | None]]]] | None = field(default=None, repr=False)
    _bytes_read: list[int] = field(default_factory=lambda: [0], repr=False)

    def progress(self, row_number: int) -> tuple[int, int]:
        """(done, total) for a progress bar: kilobytes for CSV (fits a Qt int for any file), rows for XLSX."""
        if self.kind == "csv":
            return min(self._bytes_read[0], self.size_bytes) // 1024, max(1, self.size_bytes // 1024)
        return row_number, max(self.total_rows, row_number)

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        """A fresh stream of the data rows (may be called more than once, e.g. preview then import)."""
        assert self._open_rows is not None
        return self._open_rows()

    def describe(self) -> str:
        if self.kind == "xlsx":
            return f"Excel workbook, sheet {self.sheet!r}"
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        return f"CSV, {names.get(self.delimiter, repr(self.delimiter))}-separated, {self.encoding_label}"

    @property
    def encoding_label(self) -> str:
        """The text encoding as the user would name it ("UTF-16 LE with BOM"), empty for workbooks."""
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def _cp1252_fallback(error: UnicodeDecodeError):
    # A UTF-8 file with a few Windows-1252 bytes (a name typed in Excel then pasted) is common in
    # CRM exports; reading those bytes as cp1252 keeps the row instead of failing the whole file.
    # The five bytes cp1252 leaves undefined are not text in either: they stay an error.
    chunk = error.object[error.start:error.end]
    try:
        return chunk.decode("cp1252"), error.end
    except UnicodeDecodeError:
        raise error from None  # the UTF-8 error: its offsets are the stream's, the reader reports them


codecs.register_error("fieldatlas_cp1252", _cp1252_fallback)

# What the detector can answer (codec names, plus one of ours) and how the user would say it.
UTF8_SPREAD = "utf-8 spread"  # UTF-8 bytes each followed by a zero byte (UTF-8 saved again as if UTF-16)
ENCODING_LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16 with BOM", "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE", "utf-32": "UTF-32 with BOM", "utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE",
    "cp1252": "Windows-1252", "mac_roman": "Mac Roman", "cp850": "DOS Latin-1 (cp850)",
    UTF8_SPREAD: "UTF-8 with a zero byte after every byte (read as UTF-8)",
}


def open_table(path: Path | str, *, sheet: str | None = None) -> Table:
    """Open a CSV or XLSX file for import; raises FileProblem with a clear reason when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise FileProblem(f"{path}: no such file")
    if path.is_dir():
        raise FileProblem(f"{path}: this is a folder, not a file")
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(f"{path.name}: the file is empty")
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, sheet, size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(f"{path.name}: this is an old Excel (.xls) workbook; save it as .xlsx or CSV and import that")
    if sheet:
        raise FileProblem(f"{path.name}: --sheet only applies to Excel workbooks")
    return _open_csv(path, head, size)


def _detect_encoding(head: bytes, path: Path) -> str:
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF8_SPREAD if head.startswith(codecs.BOM_UTF16_LE) and _is_spread_utf8(head[2:]) else "utf-16"
    sample = head[:4096]
    if len(sample) >= 8:
        # UTF-32 without a BOM: three of every four bytes of Latin text are zero.
        zero = [sample[i::4].count(0) / len(sample[i::4]) for i in range(4)]
        if zero[0] < 0.05 and min(zero[1:]) > 0.9:
            return "utf-32-le"
        if zero[3] < 0.05 and min(zero[:3]) > 0.9:
            return "utf-32-be"
    # UTF-16 without a BOM: every other byte of ASCII text is zero.
    if len(sample) >= 4:
        even_zero = sample[0::2].count(0) / len(sample[0::2])
        odd_zero = sample[1::2].count(0) / len(sample[1::2])
        if odd_zero > 0.4 and even_zero < 0.05:
            return UTF8_SPREAD if _is_spread_utf8(head) else "utf-16-le"
        if even_zero > 0.4 and odd_zero < 0.05:
            return "utf-16-be"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if controls > max(8, len(sample) // 50):
        raise FileProblem(f"{path.name}: this does not look like a CSV file (it contains binary data); "
                          "export the accounts from your CRM as CSV or XLSX")
    try:
        # Cut at the last newline so a multi-byte character split by the sample edge is not an error.
        cut = head.rfind(b"\n")
        (head[:cut] if cut > 0 and len(head) == SAMPLE_BYTES else head).decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Real UTF-8 characters next to a few invalid bytes: a UTF-8 file with stray Windows-1252 bytes.
    # (cp1252 text almost never forms valid multi-byte UTF-8 sequences by accident.)
    if any(ord(c) > 127 for c in head.decode("utf-8", errors="ignore")):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head[:65536], cp_isolation=["cp1252", "latin_1", "utf_8", "mac_roman", "cp850"]).best()
    if best is None:
        raise FileProblem(f"{path.name}: cannot tell the text encoding; save it from the CRM as UTF-8 CSV")
    # latin-1 and cp1252 agree on letters; cp1252 also knows the curly quotes and dashes Excel writes.
    return "cp1252" if best.encoding in ("latin_1", "cp1252") else best.encoding


def _is_spread_utf8(data: bytes) -> bool:
    """True when every odd byte is zero and the even bytes are UTF-8 with real multi-byte characters.

    Such a file decodes as UTF-16 too, but into mojibake ("CafÃ©"): a tool read UTF-8 as Latin-1 and
    saved it as UTF-16. Genuine UTF-16 Latin text ("Café" = 43 00 61 00 66 00 E9 00) is not valid
    UTF-8 once the zeros are dropped, and pure ASCII reads the same either way.
    """
    data = data[:SAMPLE_BYTES - SAMPLE_BYTES % 2]
    if not data or data[1::2].count(0) != len(data[1::2]):
        return False
    squeezed = data[0::2]
    if max(squeezed) < 0x80:
        return False
    cut = squeezed.rfind(b"\n")
    try:
        (squeezed[:cut] if cut > 0 else squeezed).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _SqueezeZeros(io.RawIOBase):
    """The even bytes of a stream whose odd bytes are all zero (UTF-8 spread out as if UTF-16)."""

    def __init__(self, fh, name: str, offset: int) -> None:
        self._fh = fh
        self._name = name
        self._offset = offset  # bytes of the file before this stream (a BOM)
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._fh.read(2 * len(buffer))
        if not data:
            return 0
        odd = data[1::2]
        if odd.count(0) != len(odd) or len(data) % 2:
            bad = next((i for i, b in enumerate(odd) if b), len(odd))
            at = self._offset + self._done + 2 * bad + 1
            raise FileProblem(f"{self._name}: byte {at:,} (0x{data[2 * bad + 1] if 2 * bad + 1 < len(data) else 0:02x}) "
                              "breaks the pattern of a zero after every byte this file starts with; it is "
                              "neither UTF-8 nor UTF-16 text. Save it from the CRM as UTF-8 CSV")
        even = data[0::2]
        buffer[:len(even)] = even
        self._done += len(data)
        return len(even)


def _open_csv(path: Path, head: bytes, size: int) -> Table:
    encoding = _detect_encoding(head, path)
    label = ENCODING_LABELS.get(encoding, encoding)
    spread = encoding == UTF8_SPREAD
    # Where the text starts (a UTF-16 BOM in front of spread UTF-8) and how to decode it.
    skip = 2 if spread and head.startswith(codecs.BOM_UTF16_LE) else 0
    codec = "utf-8" if spread else encoding
    errors = "fieldatlas_cp1252" if codec in ("utf-8", "utf-8-sig") else "strict"
    sample_bytes = head[skip:][0::2] if spread else head
    text_sample = sample_bytes.decode(codec, errors="replace")
    if encoding.startswith(("utf-16", "utf-32")):
        text_sample = text_sample.lstrip("\ufeff")
    lines = text_sample.splitlines()
    if len(head) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    if not any(line.strip() for line in lines):
        raise FileProblem(f"{path.name}: the file has no header row (it is blank)")
    first = next((line for line in lines if line.strip()), "")
    sep = re.match(r'^"?sep=(.)"?\s*$', first.strip(), re.IGNORECASE)
    # Excel's "sep=;" first line names the delimiter outright.
    delimiter = sep.group(1) if sep else _sniff_delimiter("\n".join(lines[:200]))
    csv.field_size_limit(CSV_FIELD_LIMIT)

    counter = [0]
    parser: list = [None]  # the csv reader of the stream being read, for its line_num

    def reader() -> Iterator[list[str]]:
        with open(path, "rb") as raw:
            counting: io.RawIOBase = _CountingReader(raw, counter)
            if spread:
                counting.read(skip)
                counting = _SqueezeZeros(counting, path.name, skip)
            text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 16), encoding=codec, errors=errors,
                                    newline="")
            parser[0] = csv.reader(text, delimiter=delimiter, strict=False)
            try:
                yield from parser[0]
            except UnicodeDecodeError as exc:
                raise _undecodable(path, codec, errors, skip, spread, label) from exc

    try:
        found = _find_header(enumerate(reader(), start=1))
    except csv.Error as exc:
        raise FileProblem(f"{path.name}: cannot read the header row ({exc})") from exc
    if found is None:
        raise FileProblem(f"{path.name}: the file has no header row (it is blank)")
    header_row, raw_headers = found
    headers = [h.strip().lstrip("\ufeff") for h in raw_headers]
    _check_headers(path, headers)

    width = len(headers)
    broken: dict[int, tuple[int, str]] = {}

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        it = reader()
        broken.clear()
        number = 0
        line = 0  # the last line of the file read so far
        while True:
            try:
                raw = next(it)
            except StopIteration:
                return
            except csv.Error as exc:
                hint = ("; a quote is probably never closed, so the rest of the file runs into one cell"
                        if "field larger than field limit" in str(exc) else "")
                raise FileProblem(f"{path.name}: row {number + 1}: cannot read the row ({exc}){hint}") from exc
            number += 1
            first_line, line = line + 1, parser[0].line_num
            # (C-level checks first: this runs for every row of a 100 MB file.)
            if number <= header_row or not any(raw):
                continue
            joined = "".join(raw)
            if not joined.strip():
                continue
            if line > first_line:
                found = _run_on_quote(raw, width, delimiter, first_line, line)
                if found is not None:
                    broken[number] = found
            if raw[0].lstrip()[:1] in _FOOTER_STARTS and _is_report_footer(raw):
                return
            yield number, [cell if cell != "" else None for cell in raw]

    return Table(path, "csv", headers, encoding=encoding, delimiter=delimiter, size_bytes=size, _open_rows=rows,
                 _bytes_read=counter, header_row=header_row, broken_rows=broken)


# A cell with more line breaks than this is not an address or a note but rows run together.
MAX_LINES_IN_A_CELL = 50


def _run_on_quote(cells: list[str], width: int, delimiter: str, first_line: int,
                  last_line: int) -> tuple[int, str] | None:
    """(cell index, reason) when a cell that spans lines is really an unclosed quote swallowing rows.

    Multi-line cells are legitimate (a street with a suite on its own line, notes), but one whose
    lines have the shape of a whole row of this file (as many delimiters as the header), or that
    holds dozens of lines, is a quote opened and never closed: the rows after it were read into it.
    """
    need = max(1, width - 1)
    for index, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = cell.splitlines()
        row_like = sum(1 for line in lines if line.count(delimiter) >= need)
        if row_like or len(lines) > MAX_LINES_IN_A_CELL:
            shape = (f"{row_like} of its {len(lines)} lines shaped like whole rows" if row_like
                     else f"{len(lines)} lines, far more than an address or a note holds")
            return index, (f"a quote (\") opened in this cell is not closed where the cell should end, so the "
                           f"cell runs over lines {first_line}–{last_line} of the file ({shape}): the rows "
                           f"there were read into this one cell; fix the quote on line {first_line}")
    return None


class _CountingReader(io.RawIOBase):
    """A binary file that counts what has been read, so a progress bar can follow a streamed CSV."""

    def __init__(self, fh, counter: list[int]) -> None:
        self._fh = fh
        self._counter = counter
        counter[0] = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._fh.readinto(buffer)
        self._counter[0] += n or 0
        return n


HEADER_SEARCH_ROWS = 20
# Salesforce report exports end with these lines; everything from the first one on is not data.
_FOOTER = re.compile(r"^(Grand Totals \(\d[\d,]* records?\)|Copyright \(c\) \d{4}-\d{4} salesforce\.com"
                     r"|Confidential Information - Do Not Distribute|Generated By:)", re.IGNORECASE)


_FOOTER_STARTS = frozenset("GgCc")  # the first letters _FOOTER can match


def _undecodable(path: Path, codec: str, errors: str, skip: int, spread: bool, label: str) -> FileProblem:
    """The file stops being text in its encoding: say where (byte offset and line), read again to find it.

    (The stream decodes ahead of the row being parsed, so only a second, plain pass knows the spot.)
    """
    decoder = codecs.getincrementaldecoder(codec)(errors)
    offset = 0   # bytes of decoder input consumed before the current chunk
    lines = 1
    with open(path, "rb") as fh:
        fh.read(skip)
        while True:
            chunk = fh.read(1 << 20)
            data = chunk[0::2] if spread else chunk
            try:
                text = decoder.decode(data, final=not chunk)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(data)  # bytes the decoder held back from the last chunk
                at = offset + exc.start - pending
                clean = exc.object[:exc.start].decode(codec, errors="replace")
                lines += clean.count("\n")
                byte_at = skip + (2 * at if spread else at)
                bad = exc.object[exc.start:exc.end][:4]
                what = (f"byte 0x{bad.hex()} is not {label} text" if len(bad) == 1 else
                        f"bytes {bad.hex(' ')} are not {label} text")
                if not chunk and exc.end >= len(exc.object):
                    what = "the file ends in the middle of a character"
                return FileProblem(
                    f"{path.name}: line {lines:,} (byte offset {byte_at:,}): the file reads as {label} up to here, but "
                    f"{what}; nothing was imported. Save it from the CRM (or Excel: CSV UTF-8) again and "
                    "import that")
            lines += text.count("\n")
            offset += len(data)
            if not chunk:
                break
    return FileProblem(f"{path.name}: the file is not valid {label} text; save it from the CRM as UTF-8 CSV")


def _find_header(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    """The header row: the first of the opening rows filled at least half as wide as the widest.

    Report exports put a title, a date or a "sep=," line above the real header; those rows have
    one or two cells where the header has many.
    """
    opening: list[tuple[int, list[str], int]] = []
    for number, cells in rows:
        filled = sum(1 for c in cells if c and c.strip())
        if filled:
            opening.append((number, cells, filled))
            if len(opening) >= HEADER_SEARCH_ROWS:
                break
    if not opening:
        return None
    widest = max(f for _, _, f in opening)
    need = max(2, (widest + 1) // 2) if widest > 1 else 1
    number, cells, _ = next(item for item in opening if item[2] >= need)
    return number, cells


def _is_report_footer(cells: list[str]) -> bool:
    # The footer text sits in the first column; test that cheap regex before looking at the rest.
    if not cells or not cells[0] or not _FOOTER.match(cells[0].strip()):
        return False
    return not any(c and c.strip() for c in cells[1:])


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on short or irregular files; count candidates on the header line instead.
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _check_headers(path: Path, headers: list[str]) -> None:
    named = [h for h in headers if h]
    if not named:
        raise FileProblem(f"{path.name}: the header row is empty")
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        key = header.casefold()
        if key in seen:
            raise FileProblem(f"{path.name}: the column {header!r} appears twice (columns {seen[key] + 1} and "
                              f"{index + 1}); rename one so the import knows which to use")
        seen[key] = index


def _open_xlsx(path: Path, sheet: str | None, size: int) -> Table:
    import openpyxl

    def load():
        try:
            # data_only: formulas come in as the values Excel last calculated, never as "=SUM(...)".
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FileProblem(f"{path.name}: not a readable Excel workbook ({exc})") from exc
        except Exception as exc:  # openpyxl raises many kinds for damaged packages
            raise FileProblem(f"{path.name}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc

    wb = load()
    try:
        names = wb.sheetnames
        if not names:
            raise FileProblem(f"{path.name}: the workbook has no sheets")
        if sheet and sheet not in names:
            raise FileProblem(f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
        chosen = sheet or names[0]
        total_rows = wb[chosen].max_row or 0
        found = _find_header(
            (n, [_cell_text(v) or "" for v in raw])
            for n, raw in enumerate(wb[chosen].iter_rows(values_only=True), start=1))
    finally:
        wb.close()
    if found is None:
        raise FileProblem(f"{path.name}: sheet {chosen!r} is empty (no header row)")
    header_row, raw_headers = found
    headers = [h.strip() for h in raw_headers]
    while headers and not headers[-1]:
        headers.pop()
    _check_headers(path, headers)

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        book = load()
        number = 0
        try:
            for number, raw in enumerate(book[chosen].iter_rows(values_only=True), start=1):
                if number <= header_row:
                    continue
                values = [_cell_text(v) for v in raw]
                if not any(v is not None and v.strip() for v in values):
                    continue
                if _is_report_footer([v or "" for v in values]):
                    return
                yield number, values
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
            # A sheet damaged past its first rows (XML parse errors are SyntaxError subclasses).
            raise FileProblem(f"{path.name}: row {number + 1}: cannot read the workbook "
                              f"({type(exc).__name__}: {exc})") from exc
        finally:
            book.close()

    return Table(path, "xlsx", headers, sheet=chosen, size_bytes=size, total_rows=total_rows, _open_rows=rows,
                 header_row=header_row)


def _cell_text(value) -> str | None:
    """Excel cell values as the text a user sees: 78701 not 78701.0, dates as ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def read_preview(table: Table, limit: int = 50) -> list[tuple[int, list[str | None]]]:
    """The first rows of a table, for showing before an import."""
    out = []
    for item in table.rows():
        out.append(item)
        if len(out) >= limit:
            break
    return out

