"""The docs' examples name people, queues and territories the demo has, so a new user can try them as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from core.storage import open_database

ROOT = Path(__file__).resolve().parents[1]
# Options whose value is a person (name, email or id), a queue, or a territory.
PERSON_OPTIONS = ("--rep", "--as", "--add-rep", "--remove-rep", "--owner")


def examples() -> list[tuple[str, list[str]]]:
    """(doc file name, argv after `fieldatlas`) for every example line in README.md and docs/*.md."""
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            for m in re.finditer(r"(?:^|`)\s*(fieldatlas [^`#]+)", line.strip()):
                try:
                    argv = shlex.split(m.group(1).replace("[", " ").replace("]", " "))[1:]
                except ValueError:
                    continue
                out.append((path.name, argv))
    return out


@pytest.fixture(scope="module")
def demo(demo_db_template):
    with open_database(demo_db_template) as store:
        people = {r["name"] for r in store.query("SELECT name FROM reps WHERE deleted_at IS NULL")}
        queues = {r["name"] for r in store.query("SELECT name FROM lead_queues WHERE deleted_at IS NULL")}
        queue_ids = {str(r["id"]) for r in store.query("SELECT id FROM lead_queues WHERE deleted_at IS NULL")}
        territories = {r["name"] for r in store.query("SELECT name FROM territories WHERE deleted_at IS NULL")}
    return people, queues | queue_ids, territories


def quoted_values(argv: list[str], options: tuple[str, ...]) -> list[str]:
    """Values of the options that name something (not placeholders such as R, REP or ID)."""
    return [argv[k + 1] for k, a in enumerate(argv[:-1])
            if a in options and " " in argv[k + 1]]


def test_every_person_in_an_example_is_in_the_demo(demo):
    people, _queues, _territories = demo
    hired = {argv[argv.index("--name") + 1] for _doc, argv in examples()
             if argv[:2] == ["territories", "hire"] and "--name" in argv}
    unknown = sorted({(doc, name) for doc, argv in examples() for name in quoted_values(argv, PERSON_OPTIONS)
                      if name not in people | hired})
    assert not unknown, f"examples name people the demo does not have: {unknown}"


def test_queue_members_are_changed_on_a_queue_the_demo_has(demo):
    """Adding a rep to a queue by a name the demo lacks would make a second queue beside the demo's."""
    _people, queues, _territories = demo
    wrong = [(doc, argv[2]) for doc, argv in examples()
             if argv[:2] == ["leads", "queue"] and len(argv) > 2 and ({"--add-rep", "--remove-rep"} & set(argv))
             and argv[2] not in queues]
    assert not wrong, f"queue examples name queues the demo does not have: {wrong}"


def test_territories_in_examples_are_in_the_demo(demo):
    _people, _queues, territories = demo
    wrong = [(doc, name) for doc, argv in examples() for name in quoted_values(argv, ("--territory",))
             if name not in territories]
    assert not wrong, f"examples name territories the demo does not have: {wrong}"
