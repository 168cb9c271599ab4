"""Rules of engagement: which territory an account belongs to, and what does not add up (conflicts, orphans, owners).

Only leaf territories (level 'territory') that are not overlays compete for an account; regions and
districts group them, and overlay territories (rule {"overlay": true}) add reps beside the owner
without taking the account. The highest precedence wins; equal top precedence is a conflict
(reported; the lowest territory id wins meanwhile so the result is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from core.segments import memberships
from core.storage.database import Store
from core.territories.rules import AccountFacts, RuleError, compile_rule, parse_rule

ACCOUNT_COLUMNS = ("id, name, external_id, state, postal_code, lat, lon, industry, employees, segment, "
                   "customer_type, products, channel, owner_id, territory_id, potential_cents, visit_frequency, "
                   "visit_minutes, locked, status")


@dataclass(frozen=True)
class Territory:
    """One row of territories with its rule parsed."""

    id: int
    name: str
    kind: str
    level: str
    parent_id: int | None
    rule: Mapping[str, Any]
    precedence: int
    owner_id: int | None
    goal_cents: int | None
    color: str | None

    @property
    def overlay(self) -> bool:
        return bool(self.rule.get("overlay"))

    @property
    def competes(self) -> bool:
        """Takes part in rules of engagement (a leaf territory that is not an overlay)."""
        return self.level == "territory" and not self.overlay


def list_territories(store: Store) -> list[Territory]:
    """Every live territory, regions first, then by precedence and name."""
    out = []
    for r in store.conn.execute(
            "SELECT * FROM territories WHERE deleted_at IS NULL "
            "ORDER BY CASE level WHEN 'region' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, precedence DESC, name"):
        try:
            rule = parse_rule(r["rule"])
        except RuleError:
            rule = {}
        out.append(Territory(r["id"], r["name"], r["kind"], r["level"], r["parent_id"], rule, r["precedence"],
                             r["owner_id"], r["goal_cents"], r["color"]))
    return out


@dataclass(frozen=True)
class AccountSnapshot:
    """Accounts as the rules see them, plus the columns figures need; loaded once, matched many times."""

    facts: tuple[AccountFacts, ...]
    rows: Mapping[int, Mapping[str, Any]]


def load_accounts(store: Store) -> AccountSnapshot:
    """Every live account's facts (with county from its ZIP code and the saved segments it is in) and raw row."""
    rows = {r["id"]: dict(r) for r in store.conn.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE deleted_at IS NULL ORDER BY id")}
    # Segment membership is counted today (visits, deals and scores move accounts in and out), for
    # rules with `in_segments`; a database without saved segments skips it.
    saved = memberships(store) if store.scalar("SELECT 1 FROM segments WHERE deleted_at IS NULL LIMIT 1") else {}
    none: frozenset[str] = frozenset()
    return AccountSnapshot(tuple(AccountFacts.from_row(r, saved.get(r["id"], none)) for r in rows.values()), rows)


def matching_ids(rule: Mapping[str, Any], snapshot: AccountSnapshot) -> list[int]:
    """Ids of the accounts a rule matches (raises RuleError for a bad rule)."""
    predicate = compile_rule(rule)
    return [a.id for a in snapshot.facts if predicate(a)]


@dataclass(frozen=True)
class Resolution:
    """Where the rules put one account."""

    account_id: int
    territory_id: int | None          # the winner, None for an orphan
    tied: tuple[int, ...] = ()        # other territories at the winner's precedence (a conflict)
    overlays: tuple[int, ...] = ()


def resolve(territories: Sequence[Territory], snapshot: AccountSnapshot) -> dict[int, Resolution]:
    """Apply the rules of engagement to every account."""
    competing: list[tuple[Territory, Callable[[AccountFacts], bool]]] = []
    overlays: list[tuple[Territory, Callable[[AccountFacts], bool]]] = []
    for t in territories:
        try:
            predicate = compile_rule(t.rule)
        except RuleError:
            continue  # a broken rule matches nothing; the editor refuses to save one anyway
        if t.level != "territory":
            continue
        (overlays if t.overlay else competing).append((t, predicate))
    competing.sort(key=lambda tp: (-tp[0].precedence, tp[0].id))
    out: dict[int, Resolution] = {}
    for a in snapshot.facts:
        winner: Territory | None = None
        tied: list[int] = []
        for t, predicate in competing:
            if winner is not None and t.precedence < winner.precedence:
                break
            if predicate(a):
                if winner is None:
                    winner = t
                else:
                    tied.append(t.id)
        over = tuple(t.id for t, p in overlays if p(a))
        out[a.id] = Resolution(a.id, winner.id if winner else None, tuple(tied), over)
    return out


def territory_owner(territory: Territory, members: Mapping[int, list[tuple[int, str]]]) -> int | None:
    """The rep who owns a territory's accounts: owner_id, else its single primary member."""
    if territory.owner_id is not None:
        return territory.owner_id
    primaries = [rep for rep, role in members.get(territory.id, []) if role == "primary"]
    return primaries[0] if len(primaries) == 1 else None


def load_members(store: Store) -> dict[int, list[tuple[int, str]]]:
    """territory id -> [(rep id, role)] from territory_members."""
    out: dict[int, list[tuple[int, str]]] = {}
    for r in store.conn.execute(
            "SELECT territory_id, rep_id, role FROM territory_members WHERE deleted_at IS NULL ORDER BY id"):
        out.setdefault(r["territory_id"], []).append((r["rep_id"], r["role"]))
    return out


@dataclass(frozen=True)
class Conflict:
    account_id: int
    account: str
    territory_ids: tuple[int, ...]
    territories: tuple[str, ...]
    precedence: int


@dataclass(frozen=True)
class Disagreement:
    account_id: int
    account: str
    owner_id: int | None
    owner: str | None
    rule_owner_id: int | None
    rule_owner: str | None
    territory_id: int
    territory: str


@dataclass(frozen=True)
class EngagementReport:
    """What the rules of engagement say is wrong today."""

    accounts: int
    conflicts: list[Conflict] = field(default_factory=list)
    orphans: list[tuple[int, str]] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "conflicts": [c.__dict__ for c in self.conflicts],
            "orphans": [{"account_id": i, "account": n} for i, n in self.orphans],
            "owner_disagreements": [d.__dict__ for d in self.disagreements],
        }


def engagement_report(store: Store, snapshot: AccountSnapshot | None = None) -> EngagementReport:
    """Conflicts (equal top precedence), orphans (no territory) and owners who differ from the rules."""
    territories = list_territories(store)
    by_id = {t.id: t for t in territories}
    snapshot = snapshot or load_accounts(store)
    members = load_members(store)
    rep_names = {r["id"]: r["name"] for r in store.conn.execute("SELECT id, name FROM reps")}
    resolution = resolve(territories, snapshot)
    conflicts, orphans, disagreements = [], [], []
    for account_id, res in resolution.items():
        row = snapshot.rows[account_id]
        if res.territory_id is None:
            orphans.append((account_id, row["name"]))
            continue
        if res.tied:
            ids = (res.territory_id, *res.tied)
            conflicts.append(Conflict(account_id, row["name"], ids, tuple(by_id[i].name for i in ids),
                                      by_id[res.territory_id].precedence))
        rule_owner = territory_owner(by_id[res.territory_id], members)
        if rule_owner is not None and rule_owner != row["owner_id"]:
            disagreements.append(Disagreement(
                account_id, row["name"], row["owner_id"], rep_names.get(row["owner_id"]), rule_owner,
                rep_names.get(rule_owner), res.territory_id, by_id[res.territory_id].name))
    return EngagementReport(len(resolution), conflicts, orphans, disagreements)


def children_of(territories: Iterable[Territory]) -> dict[int | None, list[Territory]]:
    """parent id -> child territories (None holds the top level), for drawing the tree."""
    out: dict[int | None, list[Territory]] = {}
    for t in territories:
        out.setdefault(t.parent_id, []).append(t)
    return out
