"""`fieldatlas import accounts`, `fieldatlas geocode` and `fieldatlas export accounts` end to end."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.storage import open_database
from desktop.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crm"


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "cli.sqlite"
    open_database(path, create=True).close()
    return path


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "salesforce_accounts.csv"
    shutil.copy(FIXTURES / "salesforce_accounts.csv", path)
    return path


def count(db: Path, sql: str = "SELECT count(*) FROM accounts") -> int:
    store = open_database(db)
    try:
        return store.scalar(sql)
    finally:
        store.close()


def test_import_aborts_on_bad_rows_with_one_clear_line(db, sample, capsys):
    code = main(["import", "accounts", str(sample), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 1
    assert "fieldatlas: error: row " in err and "nothing was imported" in err
    assert count(db) == 0


def test_import_skip_bad_rows_json_and_reimport(db, sample, tmp_path, capsys):
    expected = json.loads((FIXTURES / "salesforce_accounts.expected.json").read_text())
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    code = main(["import", "accounts", str(sample), "--db", str(db), "--skip-bad-rows", "--rejects", str(rejects),
                 "--json", "--save-mapping", "sf"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["inserted"] == len(expected["good_ids"]) and data["rejected"] == len(expected["bad_rows"])
    assert data["source"] == "salesforce" and data["saved_mapping"] == "sf"
    with open(rejects, encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == len(expected["bad_rows"])
    code = main(["import", "accounts", str(sample), "--db", str(db), "--skip-bad-rows", "--rejects", str(rejects),
                 "--mapping", "sf", "--json"])
    again = json.loads(capsys.readouterr().out)
    assert code == 0 and again["inserted"] == 0 and again["updated"] == 0
    assert count(db) == len(expected["good_ids"])


def test_import_dry_run_and_bad_mapping(db, sample, capsys):
    assert main(["import", "accounts", str(sample), "--db", str(db), "--skip-bad-rows", "--dry-run"]) == 0
    assert "Dry run, nothing written. Read " in capsys.readouterr().out
    assert count(db) == 0
    assert main(["import", "accounts", str(sample), "--db", str(db), "--mapping", "nosuch"]) == 1
    assert "no mapping called 'nosuch'" in capsys.readouterr().err
    assert main(["import", "accounts", str(sample) + ".missing", "--db", str(db)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["import", "accounts", str(sample), "--db", str(db), "--rejects", "r.csv"]) == 1
    assert "--rejects needs --skip-bad-rows" in capsys.readouterr().err


def test_geocode_offline_then_export(db, sample, tmp_path, capsys):
    main(["import", "accounts", str(sample), "--db", str(db), "--skip-bad-rows", "--rejects", str(tmp_path / "r.csv")])
    capsys.readouterr()
    assert main(["geocode", "--db", str(db), "--offline", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["located_total"] == count(db)
    assert count(db, "SELECT count(*) FROM accounts WHERE lat IS NULL") == 0
    out = tmp_path / "accounts.xlsx"
    assert main(["export", "accounts", "--db", str(db), "--format", "xlsx", "--out", str(out)]) == 0
    assert f"to {out}" in capsys.readouterr().out and out.exists()
    assert main(["export", "accounts", "--db", str(db), "--out", str(tmp_path / "no" / "a.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_geocode_online_needs_a_key_for_keyed_providers(db, capsys, monkeypatch):
    monkeypatch.delenv("FIELDATLAS_GEOCODER_KEY", raising=False)
    assert main(["geocode", "--db", str(db), "--provider", "google"]) == 1
    assert "needs an API key" in capsys.readouterr().err


def test_import_into_a_new_path_makes_the_database(tmp_path, sample, capsys):
    new = tmp_path / "team" / "new.sqlite"
    assert main(["import", "accounts", str(sample), "--db", str(new), "--skip-bad-rows",
                 "--rejects", str(tmp_path / "r.csv")]) == 0
    assert f"Created a new database at {new}" in capsys.readouterr().out
    assert count(new) > 0


def test_a_failed_or_checking_import_into_a_new_path_leaves_no_file(tmp_path, sample, capsys):
    new = tmp_path / "new.sqlite"
    assert main(["import", "accounts", str(sample), "--db", str(new)]) == 1  # bad rows, no --skip-bad-rows
    assert "nothing was imported" in capsys.readouterr().err
    assert not list(tmp_path.glob("*new.sqlite*")), "no temporary database either"
    assert main(["import", "accounts", str(sample), "--db", str(new), "--dry-run", "--skip-bad-rows",
                 "--rejects", str(tmp_path / "r.csv")]) == 0
    assert "Dry run, nothing written. Read " in capsys.readouterr().out
    assert main(["import", "accounts", str(sample), "--db", str(new), "--show-mapping"]) == 0
    assert not list(tmp_path.glob("*new.sqlite*"))


ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_an_import_killed_mid_way_into_a_new_path_leaves_no_database(tmp_path, sample, capsys):
    from core.importing.samples import write_sample

    big = tmp_path / "big.csv"
    write_sample(big, "salesforce", rows=60_000, seed=5)
    new = tmp_path / "new.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "import", "accounts", str(big), "--db", str(new)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        partial = []
        while time.monotonic() < deadline and not partial and proc.poll() is None:
            partial = list(tmp_path.glob(".new.sqlite.importing-*"))
            time.sleep(0.05)
        assert partial, "the import builds the database under a temporary name"
        time.sleep(1.0)  # well into the rows (60,000 take several seconds)
        assert proc.poll() is None, "the import must still be running when it is killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not new.exists(), "a killed import leaves nothing at the path the user named"
    assert list(tmp_path.glob(".new.sqlite.importing-*")), "(what it left is under the temporary name)"
    # The next import into that path succeeds and clears what the killed one left.
    assert main(["import", "accounts", str(sample), "--db", str(new), "--skip-bad-rows",
                 "--rejects", str(tmp_path / "r.csv")]) == 0
    assert count(new) > 0
    assert not list(tmp_path.glob(".new.sqlite.importing-*"))
    assert not list(tmp_path.glob("new.sqlite-*")), "no WAL or SHM file left beside the finished database"


def test_the_summary_reads_rows_and_imports_only_the_good_ones(db, tmp_path, capsys):
    """'Read 4 rows: 1 new, 3 rejected', not 'Imported 4 rows' when three of them were not imported."""
    src = tmp_path / "mixed.csv"
    src.write_text("Account Name,City,State,Opening Hours\nAcme Test,Austin,TX,Mon-Fri 9-5\n"
                   "Bad One,Austin,TX,17:00-08:00\n,Austin,TX,\nBad Two,Austin,TX,Funday 9-5\n", encoding="utf-8")
    assert main(["import", "accounts", str(src), "--db", str(db), "--skip-bad-rows",
                 "--rejects", str(tmp_path / "rejects.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Read 4 rows from mixed.csv") and "1 new" in out and "3 rejected" in out
    assert "Imported" not in out
    # Hours alone that close before they open are refused for that, as docs/importing.md says.
    assert "17:00-08:00: closes before it opens" in out
    assert count(db) == 1
