"""A wrong argument to any subcommand is one `fieldatlas: error: ...` line and exit 2, never the usage first."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _leaf_commands() -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every runnable command path (`plan`, `import accounts`, ...) with its parser."""
    out = []

    def walk(path: list[str], parser: argparse.ArgumentParser) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append((path, parser))
            return
        for name, child in subs[0].choices.items():
            walk([*path, name], child)

    walk([], build_parser())
    return [(path, parser) for path, parser in out if path]


def _one_line_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, argv
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, (argv, captured.err)
    assert lines[0].startswith("fieldatlas: error: "), lines[0]
    assert "usage:" not in captured.err and captured.out == ""
    return lines[0]


def test_bad_date_is_one_line_naming_the_value(capsys):
    line = _one_line_error(capsys, ["plan", "--start", "2026-13-45"])
    assert "--start" in line and "2026-13-45" in line and "fieldatlas plan --help" in line


@pytest.mark.parametrize("argv", [["demo", "--db", "x.sqlite", "--today", "2026-02-30"],
                                  ["visit", "list", "--db", "x.sqlite", "--rep", "1", "--day", "tomorrow"]],
                         ids=["demo --today", "visit list --day"])
def test_every_date_option_says_not_a_date(capsys, argv):
    """Not argparse's 'invalid fromisoformat value': the same words as every other date option."""
    line = _one_line_error(capsys, argv)
    assert f"not a date (YYYY-MM-DD): {argv[-1]!r}" in line, line


@pytest.mark.parametrize("path", [p for p, _ in _leaf_commands()], ids=" ".join)
def test_every_subcommand_reports_a_missing_option_value_in_one_line(capsys, path):
    parser = dict((tuple(p), q) for p, q in _leaf_commands())[tuple(path)]
    # An option that takes a value, given without one: the subcommand's own parser complains.
    option = next((a.option_strings[-1] for a in parser._actions
                   if a.option_strings and a.nargs is None and not isinstance(
                       a, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction))),
                  None)
    if option is None:
        line = _one_line_error(capsys, [*path, "--no-such-option"])
        assert "--no-such-option" in line
    else:
        line = _one_line_error(capsys, [*path, option])
        assert option in line and " ".join(path) in line


def test_an_unknown_option_names_the_subcommand_and_its_help(capsys):
    line = _one_line_error(capsys, ["visit", "list", "--db", "x.sqlite", "--rep", "1", "--date", "2026-12-07"])
    assert line == ("fieldatlas: error: visit list: unrecognized arguments: --date 2026-12-07 "
                    "(see `fieldatlas visit list --help`)")
    line = _one_line_error(capsys, ["--bogus"])
    assert line == "fieldatlas: error: unrecognized arguments: --bogus (see `fieldatlas --help`)"


def test_unknown_command_and_missing_subcommand(capsys):
    assert "frobnicate" in _one_line_error(capsys, ["frobnicate"])
    assert "import" in _one_line_error(capsys, ["import"])


def test_output_into_a_closed_pipe_is_no_traceback(demo_db):
    """`fieldatlas ... | head` closes the pipe early: the command stops quietly, no BrokenPipeError."""
    process = subprocess.Popen([sys.executable, "-m", "desktop.cli", "leads", "list", "--db", str(demo_db),
                                "--limit", "300"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before the child has printed anything (it takes a second to start)
    err = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_installed_script_path_prints_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "desktop.cli", "plan", "--start", "2026-13-45"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("fieldatlas: error: plan: ")


@pytest.mark.parametrize("path, parser", _leaf_commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_text_shows_no_escaped_percent_signs(path, parser):
    """argparse %-formats help= strings but prints a description as written: '%%' there shows as '%%'."""
    assert "%%" not in parser.format_help(), " ".join(path)
