"""The fieldatlas command end to end: demo, screenshot, clear errors, no-display start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_demo_command_writes_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "d.sqlite"
    assert main(["demo", "--db", str(path), "--accounts", "120", "--reps", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accounts"] == 120 and Path(out["db"]).exists()
    assert main(["demo", "--db", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "never overwrites" in err[0]


def test_bad_database_gives_one_line_and_nonzero_exit(tmp_path, capsys):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("shopping list")
    assert main(["screenshot", "--db", str(bogus), "--view", "accounts", "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fieldatlas: error: {bogus}: not a FieldAtlas database (the file is not SQLite)"]
    assert bogus.read_text() == "shopping list"
    assert not (tmp_path / "x.png").exists()


def test_screenshot_of_the_accounts_view_shows_the_data(qapp, demo_db, tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "accounts.png"
    assert main(["screenshot", "--db", str(demo_db), "--view", "accounts", "--out", str(out),
                 "--size", "1200x800"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    # A real table, not a blank window: many distinct colours across the middle of the picture.
    colours = {image.pixel(x, y) for x in range(250, 1150, 7) for y in range(100, 700, 11)}
    assert len(colours) > 20


def test_unknown_view_is_a_usage_error(demo_db, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["screenshot", "--db", str(demo_db), "--view", "weather", "--out", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2


def test_no_display_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["FIELDATLAS_CONFIG_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "desktop.cli"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "fieldatlas: no display found. Set QT_QPA_PLATFORM=offscreen to render without a screen, "
        "or use the command line (fieldatlas --help)."]


def test_demo_database_is_created_once(tmp_path, monkeypatch):
    from core import settings as settings_mod
    from desktop.app import ensure_demo

    monkeypatch.setenv("FIELDATLAS_DATA_DIR", str(tmp_path / "data"))
    first = ensure_demo(settings_mod.Settings())
    stamp = first.stat().st_mtime_ns
    assert ensure_demo(settings_mod.Settings()) == first
    assert first.stat().st_mtime_ns == stamp


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "demo" in out and "screenshot" in out
