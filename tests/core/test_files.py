"""write_atomically: a finished file appears whole under its name; a failed write leaves nothing behind."""

from __future__ import annotations

import pytest

from core.files import CannotWrite, write_atomically


def test_the_file_appears_only_when_complete(tmp_path):
    out = tmp_path / "report.csv"
    out.write_text("old")

    def write(tmp):
        assert out.read_text() == "old"  # the old file is untouched while the new one is written
        with open(tmp, "w") as fh:
            fh.write("new")
        return 3

    assert write_atomically(out, write, suffix=".csv") == 3
    assert out.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    out = tmp_path / "report.xlsx"
    out.write_text("old")

    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(out, write, suffix=".xlsx")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(CannotWrite, match="does not exist"):
        write_atomically(tmp_path / "nowhere" / "x.csv", lambda tmp: None)
