"""The `fieldatlas` command: opens the desktop, or runs a scripting subcommand (one module per command)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from desktop.cli.common import CliError


def command_modules() -> list:
    """Every desktop/cli/cmd_*.py module, in name order; each adds its subcommand with register()."""
    import desktop.cli as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("cmd_"))
    return [importlib.import_module(f"desktop.cli.{name}") for name in names]


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line like every other error, not the whole usage first.

    Subcommand parsers inherit the class (add_subparsers uses the parent's type), so
    `fieldatlas plan --start 2026-13-45` says what is wrong in one line and exits 2.
    """

    def error(self, message: str):
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        self.exit(2, f"fieldatlas: error: {where}{message} (see `{self.prog} --help`)\n")


def version() -> str:
    """The installed distribution's version (pyproject's), also inside a frozen build."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("fieldatlas")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="fieldatlas",
        description="FieldAtlas: territories, maps, visit routes, mileage and expenses for field sales. "
                    "With no command, opens the desktop app.",
    )
    parser.add_argument("--demo", action="store_true",
                        help="open the desktop on the demo database (created once in the user data folder)")
    parser.add_argument("--db", metavar="PATH", help="open the desktop on this database")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation offscreen (demo database, offline map, a small route) and exit")
    parser.add_argument("--version", action="version", version=f"FieldAtlas {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    return parser


# Commands that route days with PyVRP. Its worker server takes 1-2 s to start (it imports PyVRP and
# this command line); started on a thread before the parser is built, that start overlaps with
# importing every command (1-2 s) and reading the database instead of coming after them.
ENGINE_COMMANDS = (("plan",), ("rotation", "plan"))


def _warm_engine_for(argv: list[str]) -> None:
    words = [a for a in argv if not a.startswith("-")]
    if any(tuple(words[:len(c)]) == c for c in ENGINE_COMMANDS) and "--help" not in argv and "-h" not in argv:
        import threading

        def warm_up() -> None:
            from core.routing import engine

            engine.warm_up()

        threading.Thread(target=warm_up, name="fieldatlas-warm-engine", daemon=True).start()


def _command_parser(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """The (sub)command parser argv reaches: `visit list ...` -> the parser of `fieldatlas visit list`."""
    for word in argv:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            break
        if word in subs[0].choices:
            parser = subs[0].choices[word]
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`fieldatlas visit list ... | head`): stop quietly, as Unix tools do,
        # and point stdout at /dev/null so the interpreter's final flush does not fail again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _warm_engine_for(argv)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse reports an unknown option from the top parser ("see `fieldatlas --help`");
        # point at the subcommand the user typed, whose help lists its options.
        _command_parser(parser, argv).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.self_test:
            from desktop.self_test import main as self_test

            return self_test()
        if args.command is None:
            from desktop.app import run_desktop

            return run_desktop(db=args.db, demo=args.demo)
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"fieldatlas: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fieldatlas: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
