"""`fieldatlas plan` and `fieldatlas rotation plan` start the route engine's worker server before the parser is built."""

from __future__ import annotations

import threading

import desktop.cli as cli
from core.routing import engine


def _calls(monkeypatch, wait: float):
    started = threading.Event()
    order: list[str] = []
    monkeypatch.setattr(engine, "warm_up", lambda: (order.append("warm_up"), started.set()))
    real = cli.build_parser

    def build_parser():
        # The warm-up runs on its own thread: it must have been started (here: has run) before the parser
        # imports every command, so wait a moment for it rather than racing it.
        started.wait(wait)
        order.append("parser")
        return real()

    monkeypatch.setattr(cli, "build_parser", build_parser)
    return order


def test_plan_commands_warm_the_engine_before_the_parser(monkeypatch, tmp_path, capsys):
    order = _calls(monkeypatch, 5)
    assert cli.main(["plan", "--db", str(tmp_path / "none.sqlite"), "--rep", "x", "--start", "2026-12-07"]) == 1
    assert order == ["warm_up", "parser"]
    order.clear()
    cli.main(["rotation", "plan", "--db", str(tmp_path / "none.sqlite"), "--rep", "x"])
    assert order[:2] == ["warm_up", "parser"]
    capsys.readouterr()


def test_other_commands_and_help_do_not_start_it(monkeypatch, tmp_path, capsys):
    order = _calls(monkeypatch, 0.2)
    cli.main(["geocode", "--db", str(tmp_path / "none.sqlite"), "--offline"])
    cli.main(["rotation", "list", "--db", str(tmp_path / "none.sqlite")])
    try:
        cli.main(["plan", "--help"])
    except SystemExit:
        pass
    assert "warm_up" not in order and order.count("parser") == 3
    capsys.readouterr()
