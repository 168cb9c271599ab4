"""Territory edits (validated, logged, returning Changes) and the figures the Territories view shows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from core.workload import workload_matrix
from core.changes import Changes
from core.segments import SegmentProblem, check_names
from core.storage import writes
from core.storage.database import Store
from core.territories.engagement import (
    AccountSnapshot, Territory, list_territories, load_accounts, load_members, resolve, territory_owner,
)
from core.territories.rules import KINDS, LEVELS, RuleError, parse_rule, validate_rule

EDITABLE = ("name", "kind", "level", "parent_id", "rule", "precedence", "owner_id", "goal_cents", "color")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LEVEL_RANK = {"region": 0, "district": 1, "territory": 2}


class TerritoryError(ValueError):
    """A territory edit that was refused; the message names the field, the value and the reason."""


def _validate(store: Store, values: Mapping[str, Any], territory_id: int | None = None) -> dict[str, Any]:
    problems: list[str] = []
    out = dict(values)
    for key in values:
        if key not in EDITABLE:
            problems.append(f"{key}: not a territory field that can be edited")
    if "name" in values and not str(values["name"] or "").strip():
        problems.append("name: a name is required")
    if "kind" in values and values["kind"] not in KINDS:
        problems.append(f"kind: must be one of {', '.join(KINDS)} (got {values['kind']!r})")
    if "level" in values and values["level"] not in LEVELS:
        problems.append(f"level: must be region, district or territory (got {values['level']!r})")
    if "rule" in values:
        try:
            rule = parse_rule(values["rule"])
            problems += validate_rule(rule)
            if isinstance(rule.get("in_segments"), list):
                try:
                    rule["in_segments"] = check_names(store, [str(n) for n in rule["in_segments"]])
                except SegmentProblem as exc:
                    problems.append(f"in_segments: {exc}")
            out["rule"] = json.dumps(rule, separators=(", ", ": "))
        except RuleError as exc:
            problems.append(str(exc))
    if "precedence" in values and (isinstance(values["precedence"], bool) or not isinstance(values["precedence"], int)):
        problems.append(f"precedence: must be a whole number (got {values['precedence']!r})")
    if values.get("goal_cents") is not None and (not isinstance(values["goal_cents"], int) or values["goal_cents"] < 0):
        problems.append(f"goal_cents: must be whole cents, 0 or more (got {values['goal_cents']!r})")
    if values.get("color") is not None and not _COLOR.match(str(values["color"])):
        problems.append(f"color: use #RRGGBB (got {values['color']!r})")
    if values.get("owner_id") is not None and not store.scalar(
            "SELECT 1 FROM reps WHERE id = ? AND deleted_at IS NULL", (values["owner_id"],)):
        problems.append(f"owner_id: no such rep (got {values['owner_id']!r})")
    if values.get("parent_id") is not None:
        parent = store.conn.execute("SELECT id, level FROM territories WHERE id = ? AND deleted_at IS NULL",
                                    (values["parent_id"],)).fetchone()
        level = values.get("level")
        if level is None and territory_id is not None:
            level = store.scalar("SELECT level FROM territories WHERE id = ?", (territory_id,))
        if parent is None:
            problems.append(f"parent_id: no such territory (got {values['parent_id']!r})")
        elif values["parent_id"] == territory_id:
            problems.append("parent_id: a territory cannot be its own parent")
        elif level in _LEVEL_RANK and _LEVEL_RANK[parent["level"]] >= _LEVEL_RANK[level]:
            problems.append(f"parent_id: a {level} must sit under a higher level (its parent is a {parent['level']})")
    if problems:
        raise TerritoryError("; ".join(problems))
    return out


def create_territory(store: Store, values: Mapping[str, Any]) -> tuple[int, Changes]:
    """Add a territory (name, kind and rule required); returns its id and what changed."""
    missing = [k for k in ("name", "kind") if k not in values]
    if missing:
        raise TerritoryError(f"{missing[0]}: is required")
    row = {"level": "territory", "parent_id": None, "rule": "{}", "precedence": 0, "owner_id": None,
           "goal_cents": None, "color": None, **_validate(store, values)}
    with store.atomic():
        territory_id = writes.insert(store, "territories", row)
    return territory_id, Changes.of("territories", [territory_id], "territory added")


def update_territory(store: Store, territory_id: int, values: Mapping[str, Any]) -> Changes:
    """Edit a territory's fields (rule as dict or JSON text); nothing is written when any field is refused."""
    clean = _validate(store, values, territory_id)
    with store.atomic():
        old = writes.update(store, "territories", territory_id, clean)
    return Changes.of("territories", [territory_id], "territory edited") if old else Changes()


def delete_territory(store: Store, territory_id: int) -> Changes:
    """Tombstone a territory; its children move up to its parent so none is lost from the tree."""
    with store.atomic():
        parent = store.scalar("SELECT parent_id FROM territories WHERE id = ?", (territory_id,))
        children = [r[0] for r in store.conn.execute(
            "SELECT id FROM territories WHERE parent_id = ? AND deleted_at IS NULL", (territory_id,))]
        writes.update_many(store, "territories", {c: {"parent_id": parent} for c in children})
        writes.delete(store, "territories", territory_id)
    return Changes.of("territories", [territory_id, *children], "territory deleted")


def set_members(store: Store, territory_id: int, members: Iterable[tuple[int, str]]) -> Changes:
    """Replace a territory's reps: [(rep id, 'primary' | 'overlay')] (several reps for overlays)."""
    wanted = {(int(r), role) for r, role in members}
    bad = [role for _r, role in wanted if role not in ("primary", "overlay")]
    if bad:
        raise TerritoryError(f"role: must be primary or overlay (got {bad[0]!r})")
    with store.atomic():
        current = {(r["rep_id"], r["role"]): r["id"] for r in store.conn.execute(
            "SELECT id, rep_id, role FROM territory_members WHERE territory_id = ? AND deleted_at IS NULL",
            (territory_id,))}
        for key, row_id in current.items():
            if key not in wanted:
                writes.delete(store, "territory_members", row_id)
        writes.insert_many(store, "territory_members", [
            {"territory_id": territory_id, "rep_id": r, "role": role} for r, role in sorted(wanted - set(current))])
    return Changes.of("territories", [territory_id], "territory members changed")


def save_territory(store: Store, territory_id: int | None, values: Mapping[str, Any],
                   overlay_rep_ids: Iterable[int] | None = None) -> tuple[int, Changes]:
    """Create (territory_id None) or edit a territory and, when given, its overlay reps, in one transaction."""
    with store.atomic():
        if territory_id is None:
            territory_id, changes = create_territory(store, values)
        else:
            changes = update_territory(store, territory_id, values)
        if overlay_rep_ids is not None:
            primaries = [(r[0], "primary") for r in store.conn.execute(
                "SELECT rep_id FROM territory_members WHERE territory_id = ? AND role = 'primary' "
                "AND deleted_at IS NULL", (territory_id,))]
            changes = changes.merge(set_members(store, territory_id,
                                                primaries + [(r, "overlay") for r in overlay_rep_ids]))
    return territory_id, changes


@dataclass(frozen=True)
class TerritoryFigures:
    """Per-territory figures; regions and districts add up their children."""

    territory_id: int
    accounts: int
    potential_cents: int
    workload_hours: float
    goal_cents: int | None            # territories.goal_cents, else the latest revenue goal in goals
    owner_id: int | None
    owner: str | None
    goal_period: str | None = None


def territory_figures(store: Store, snapshot: AccountSnapshot | None = None) -> dict[int, TerritoryFigures]:
    """Accounts the rules give each territory, their potential, and their workload for its owner."""
    territories = list_territories(store)
    snapshot = snapshot or load_accounts(store)
    members = load_members(store)
    resolution = resolve(territories, snapshot)
    reps = {r["id"]: dict(r) for r in store.conn.execute("SELECT * FROM reps")}
    by_territory: dict[int, list[int]] = {}
    for res in resolution.values():
        if res.territory_id is not None:
            by_territory.setdefault(res.territory_id, []).append(res.account_id)
        for o in res.overlays:
            by_territory.setdefault(o, []).append(res.account_id)
    own: dict[int, tuple[int, int, float]] = {}
    owners: dict[int, int | None] = {}
    for t in territories:
        ids = by_territory.get(t.id, [])
        owner = territory_owner(t, members)
        owners[t.id] = owner
        rows = [snapshot.rows[i] for i in ids]
        potential = sum(r["potential_cents"] or 0 for r in rows)
        if rows and owner in reps:
            work, _ = workload_matrix(rows, [reps[owner]])
            hours = float(work.sum()) / 60
        else:
            hours = float(workload_matrix(rows, [{"home_lat": None, "home_lon": None}])[0].sum()) / 60 if rows else 0.0
        own[t.id] = (len(ids), potential, hours)
    children: dict[int, list[int]] = {}
    for t in territories:
        if t.parent_id is not None:
            children.setdefault(t.parent_id, []).append(t.id)

    def total(tid: int, seen: frozenset[int] = frozenset()) -> tuple[int, int, float]:
        n, p, h = own.get(tid, (0, 0, 0.0))
        if tid in seen:
            return n, p, h
        for c in children.get(tid, []):
            cn, cp, ch = total(c, seen | {tid})
            n, p, h = n + cn, p + cp, h + ch
        return n, p, h

    goals: dict[int, tuple[str, int]] = {}
    for g in store.conn.execute(
            "SELECT territory_id, period, target FROM goals WHERE deleted_at IS NULL AND territory_id IS NOT NULL "
            "AND metric = 'revenue_cents' ORDER BY period, id"):
        goals[g["territory_id"]] = (g["period"], g["target"])
    by_id = {t.id: t for t in territories}
    out = {}
    for t in territories:
        # A leaf counts its own accounts; a region or district counts its children's (its own rule
        # only outlines the area for the map).
        n, p, h = own[t.id] if t.level == "territory" else total(t.id) if children.get(t.id) else own[t.id]
        goal, period = by_id[t.id].goal_cents, None
        if goal is None and t.id in goals:
            period, goal = goals[t.id]
        out[t.id] = TerritoryFigures(t.id, n, p, round(h, 1), goal, owners[t.id],
                                     reps.get(owners[t.id], {}).get("name"), period)
    return out


def territory_tree(store: Store) -> list[dict[str, Any]]:
    """Territories as nested dicts (region > district > territory), each with 'children'."""
    territories = list_territories(store)
    nodes = {t.id: {"territory": t, "children": []} for t in territories}
    roots = []
    for t in territories:
        parent = nodes.get(t.parent_id) if t.parent_id is not None else None
        (parent["children"] if parent else roots).append(nodes[t.id])
    return roots


def get_territory(store: Store, territory_id: int) -> Territory:
    for t in list_territories(store):
        if t.id == territory_id:
            return t
    raise KeyError(f"territory {territory_id} does not exist")
