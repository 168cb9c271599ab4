"""Docs are part of the product: every CLI subcommand and menu action is documented."""

from __future__ import annotations

import re
from pathlib import Path

from desktop.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def all_docs() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob("*.md"))]
    return "\n".join(parts)


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_cli_subcommand_is_documented():
    docs = all_docs()
    missing = [c for c in subcommands() if not re.search(rf"fieldatlas {re.escape(c)}\b", docs)]
    assert not missing, f"undocumented commands: {missing}"


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", quick, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "--demo" in commands[0] and "pytest" in commands[1]


def test_every_menu_action_is_documented(qtbot, demo_store):
    from core.settings import Settings
    from desktop.context import AppContext
    from desktop.main_window import MainWindow

    window = MainWindow(AppContext(demo_store, Settings(), persist_settings=False))
    qtbot.addWidget(window)
    docs = all_docs()
    missing = []
    for menu in window.menuBar().findChildren(type(window.menuBar().actions()[0].menu())):
        for action in menu.actions():
            text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()
            if text and not action.isSeparator() and text not in docs:
                missing.append(text)
    assert not missing, f"menu actions missing from docs/: {missing}"
