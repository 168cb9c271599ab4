"""`fieldatlas map` writes a standalone page with its assets, and refuses bad input cleanly."""

from __future__ import annotations

import json

from desktop.cli import main


def test_map_command_writes_page_and_assets(demo_db, tmp_path, capsys):
    out = tmp_path / "tx.html"
    assert main(["map", "--db", str(demo_db), "--out", str(out), "--color-by", "tier", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert out.is_file() and (tmp_path / "tx_files" / "leaflet" / "leaflet.js").is_file()
    assert report["accounts"] > 1000 and report["html_bytes"] == out.stat().st_size
    assert "Accounts by tier" in out.read_text(encoding="utf-8")


def test_map_command_filters_by_rep_and_territory(demo_db, tmp_path, capsys):
    assert main(["map", "--db", str(demo_db), "--out", str(tmp_path / "h.html"), "--territory", "Houston Metro",
                 "--tiles", "none", "--json"]) == 0
    houston = json.loads(capsys.readouterr().out)
    assert main(["map", "--db", str(demo_db), "--out", str(tmp_path / "all.html"), "--json"]) == 0
    everyone = json.loads(capsys.readouterr().out)
    assert 0 < houston["accounts"] < everyone["accounts"]
    assert houston["territories"] == 1
    assert main(["map", "--db", str(demo_db), "--out", str(tmp_path / "h2.html"), "--territory", "Houston Metro",
                 "--tiles", "none"]) == 0
    assert " 1 territory, 0 routes;" in capsys.readouterr().out  # not "1 territories"
    assert "openstreetmap" not in (tmp_path / "h.html").read_text(encoding="utf-8")


def test_map_command_bad_input_exits_non_zero_and_writes_nothing(demo_db, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["map", "--db", str(demo_db), "--out", str(out), "--rep", "Nobody At All"]) != 0
    assert "no rep matches" in capsys.readouterr().err
    assert main(["map", "--db", str(demo_db), "--out", str(tmp_path / "x.png")]) != 0
    assert main(["map", "--db", str(tmp_path / "missing.sqlite"), "--out", str(out)]) != 0
    assert main(["map", "--db", str(demo_db), "--out", str(out), "--tiles", "ftp://tiles"]) != 0
    assert not out.exists() and not (tmp_path / "r_files").exists()
