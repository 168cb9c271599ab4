"""`fieldatlas --self-test`, the check installers run on a built app, passes here and names the step that breaks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop import self_test


@pytest.mark.webengine
@pytest.mark.slow
def test_self_test_passes_from_source_in_a_subprocess(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "--self-test"], capture_output=True, text=True,
                          env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for step in ("demo database written (200 accounts)", "main window shown", "offline map rendered",
                 "route solved (8 stops)", "self-test passed"):
        assert step in out
    assert not list(tmp_path.rglob("*.sqlite")), "the self-test must not leave a database behind"


def test_a_broken_step_exits_1_with_one_line_naming_it(monkeypatch, capsys):
    def broken(self, store):
        raise self_test.SelfTestFailed("route: 0 of 8 stops planned (solver missing)")

    monkeypatch.setattr(self_test._Steps, "main_window", lambda self, store: None)
    monkeypatch.setattr(self_test._Steps, "offline_map", lambda self, window: None)
    monkeypatch.setattr(self_test._Steps, "route", broken)
    monkeypatch.setattr("desktop.app.dispose", lambda window: None)
    assert self_test.run_self_test(out=lambda line: None) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fieldatlas: self-test failed: route: 0 of 8 stops planned (solver missing)"]


def test_version_comes_from_the_installed_distribution():
    from importlib.metadata import version

    from desktop.cli import version as cli_version

    assert cli_version() == version("fieldatlas")


@pytest.mark.webengine
def test_a_map_page_that_cannot_be_built_fails_the_map_step(qapp, monkeypatch, capsys):
    # What a bundle missing core/maps/map.css did: the page task failed and the map stayed blank.
    def missing(name):
        raise FileNotFoundError(f"core/maps/{name}")

    monkeypatch.setattr("core.maps.page._text", missing)
    assert self_test.run_self_test(out=lambda line: None, timeout_s=60) == 1
    err = capsys.readouterr().err
    assert "self-test failed: map: drawing the map failed: FileNotFoundError: core/maps/map.css" in err
