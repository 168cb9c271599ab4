"""Lead scoring rules a manager edits: fit points by industry and size, engagement points by source, grade bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from core.changes import Changes
from core.storage import writes
from core.storage.database import Store

KINDS = ("industry", "employees", "source", "grade")
# Used until a manager saves rules of their own; '*' is "any other value".
DEFAULT_RULES: tuple[tuple[str, str, int], ...] = (
    ("industry", "Healthcare", 20), ("industry", "Manufacturing", 20), ("industry", "Technology", 15),
    ("industry", "Energy", 15), ("industry", "*", 5),
    ("employees", "0", 0), ("employees", "50", 10), ("employees", "200", 20), ("employees", "1000", 30),
    ("source", "Test Drive", 40), ("source", "Demo request", 35), ("source", "Referral", 25),
    ("source", "Trade show", 15), ("source", "Web form", 10), ("source", "*", 5),
    ("grade", "A", 70), ("grade", "B", 45), ("grade", "C", 25),
)


class RuleProblem(ValueError):
    """A scoring rule that cannot be used, in the manager's words."""


@dataclass(frozen=True)
class Rules:
    """Points tables read once per run; score() is a few dict look-ups."""

    industry: dict[str, int] = field(default_factory=dict)
    employees: tuple[tuple[int, int], ...] = ()      # (minimum employees, points), ascending
    source: dict[str, int] = field(default_factory=dict)
    grades: tuple[tuple[int, str], ...] = ()         # (minimum score, grade), descending

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, int]]) -> "Rules":
        industry: dict[str, int] = {}
        source: dict[str, int] = {}
        bands: list[tuple[int, int]] = []
        grades: list[tuple[int, str]] = []
        for kind, match, points in rows:
            if kind == "industry":
                industry[match.casefold() if match != "*" else "*"] = int(points)
            elif kind == "source":
                source[match.casefold() if match != "*" else "*"] = int(points)
            elif kind == "employees":
                bands.append((int(match), int(points)))
            elif kind == "grade":
                grades.append((int(points), match))
        return cls(industry, tuple(sorted(bands)), source, tuple(sorted(grades, reverse=True)))

    def fit(self, industry: str | None, employees: int | None) -> int:
        points = self.industry.get((industry or "").casefold(), self.industry.get("*", 0)) if industry else 0
        if employees is not None:
            points += next((p for minimum, p in reversed(self.employees) if employees >= minimum), 0)
        return points

    def engagement(self, source: str | None) -> int:
        if not source:
            return 0
        return self.source.get(source.casefold(), self.source.get("*", 0))

    def score(self, lead: dict[str, Any]) -> tuple[int, str]:
        total = self.fit(lead.get("industry"), lead.get("employees")) + self.engagement(lead.get("source"))
        grade = next((g for minimum, g in self.grades if total >= minimum), "D")
        return total, grade


def rule_rows(store: Store) -> list[tuple[str, str, int]]:
    """The saved rules, or the defaults when none are saved yet."""
    rows = [(r["kind"], r["match"], r["points"]) for r in store.conn.execute(
        "SELECT kind, match, points FROM lead_rules WHERE deleted_at IS NULL ORDER BY kind, id")]
    return rows or list(DEFAULT_RULES)


def load_rules(store: Store) -> Rules:
    return Rules.from_rows(rule_rows(store))


def parse_rule(text: str) -> tuple[str, str, int]:
    """'industry:Healthcare=25' -> ('industry', 'Healthcare', 25), with a message naming what is wrong."""
    head, sep, points = text.rpartition("=")
    kind, colon, match = head.partition(":")
    kind = kind.strip().lower()
    if not sep or not colon or not match.strip():
        raise RuleProblem(f"{text!r}: write a rule as KIND:VALUE=POINTS, e.g. source:Test Drive=40")
    if kind not in KINDS:
        raise RuleProblem(f"{text!r}: kind must be one of {', '.join(KINDS)}")
    try:
        value = int(points)
    except ValueError:
        raise RuleProblem(f"{text!r}: points must be a whole number, not {points!r}") from None
    if kind == "employees" and not match.strip().isdigit():
        raise RuleProblem(f"{text!r}: an employees rule names the smallest company size, e.g. employees:200=20")
    if kind == "grade" and match.strip().upper() not in ("A", "B", "C"):
        raise RuleProblem(f"{text!r}: grades are A, B and C (a lead below C is D)")
    return kind, match.strip().upper() if kind == "grade" else match.strip(), value


def save_rules(store: Store, changes: Iterable[tuple[str, str, int]], remove: Iterable[tuple[str, str]] = ()) -> Changes:
    """Set (kind, match) -> points (the defaults are saved first, so editing one keeps the rest) and rescore new leads."""
    changes = list(changes)
    remove = [(k, m.casefold()) for k, m in remove]
    touched: set[int] = set()
    with store.atomic():
        if not store.scalar("SELECT count(*) FROM lead_rules WHERE deleted_at IS NULL"):
            writes.insert_many(store, "lead_rules", [{"kind": k, "match": m, "points": p} for k, m, p in DEFAULT_RULES])
        existing = {(r["kind"], r["match"].casefold()): r["id"] for r in store.conn.execute(
            "SELECT id, kind, match FROM lead_rules WHERE deleted_at IS NULL")}
        for kind, match, points in changes:
            rid = existing.get((kind, match.casefold()))
            if rid is None:
                touched.add(writes.insert(store, "lead_rules", {"kind": kind, "match": match, "points": points}))
            else:
                writes.update(store, "lead_rules", rid, {"points": points})
                touched.add(rid)
        for key in remove:
            if key in existing:
                writes.delete(store, "lead_rules", existing[key])
                touched.add(existing[key])
        rescored = rescore_new_leads(store)
    return Changes.of("lead_rules", touched, "scoring rules saved").merge(rescored)


def rescore_new_leads(store: Store) -> Changes:
    """Scores of leads not yet routed follow the current rules (routed ones keep the score they were routed on)."""
    rules = load_rules(store)
    edits = []
    for r in store.conn.execute("SELECT id, uid, industry, employees, source, score, grade FROM leads "
                                "WHERE status = 'new' AND deleted_at IS NULL"):
        score, grade = rules.score(dict(r))
        if (score, grade) != (r["score"], r["grade"]):
            edits.append((r["id"], r["uid"], {"score": score, "grade": grade}))
    with store.atomic():
        writes.update_known(store, "leads", edits)
    return Changes.of("leads", [e[0] for e in edits], "leads rescored") if edits else Changes()
