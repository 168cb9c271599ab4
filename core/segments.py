"""Segments: named account filters (industry, size, recent visits, deal stage, score) with live counts.

A segment feeds a books refresh (core.books), a lead queue (core.leads: leads from accounts in it)
and a territory rule (core.territories: `in_segments`), so it sits below all three.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Mapping

from core.changes import Changes
from core.storage import writes
from core.storage.database import Store

# Rule keys and what they mean; every key is optional and they all must hold.
RULE_KEYS = {
    "industries": "industry is one of these",
    "min_employees": "at least this many employees",
    "max_employees": "at most this many employees",
    "tiers": "tier is one of these (A, B, C)",
    "visited_within_days": "visited (done) in the last N days",
    "not_visited_days": "not visited for N days (or never)",
    "deal_stage": "has a closed deal with this stage (won or lost)",
    "min_score": "fit + timing score at least this",
    "owned": "true: has an owner; false: in the pool",
}


# The keys a lead without a matched account can answer from its own fields (industry, employees).
LEAD_KEYS = frozenset({"industries", "min_employees", "max_employees"})


class SegmentProblem(ValueError):
    pass


def check_rule(rule: dict[str, Any]) -> dict[str, Any]:
    unknown = [k for k in rule if k not in RULE_KEYS]
    if unknown:
        raise SegmentProblem(f"segment rule: unknown key {unknown[0]!r} (known: {', '.join(RULE_KEYS)})")
    for key in ("min_employees", "max_employees", "visited_within_days", "not_visited_days", "min_score"):
        if key in rule and (not isinstance(rule[key], int) or rule[key] < 0):
            raise SegmentProblem(f"segment rule: {key} must be a whole number of zero or more, not {rule[key]!r}")
    if "deal_stage" in rule and rule["deal_stage"] not in ("won", "lost"):
        raise SegmentProblem("segment rule: deal_stage is won or lost")
    return rule


def where_clause(rule: dict[str, Any], today: date) -> tuple[str, list[Any]]:
    """SQL conditions on `accounts a` for a rule (all must hold)."""
    sql = ["a.deleted_at IS NULL"]
    params: list[Any] = []
    if rule.get("industries"):
        sql.append(f"lower(a.industry) IN ({','.join('?' * len(rule['industries']))})")
        params += [i.lower() for i in rule["industries"]]
    if "min_employees" in rule:
        sql.append("a.employees >= ?")
        params.append(rule["min_employees"])
    if "max_employees" in rule:
        sql.append("a.employees <= ?")
        params.append(rule["max_employees"])
    if rule.get("tiers"):
        sql.append(f"a.tier IN ({','.join('?' * len(rule['tiers']))})")
        params += [t.upper() for t in rule["tiers"]]
    if "visited_within_days" in rule:
        sql.append("a.last_visit_at >= ?")
        params.append((today - timedelta(days=rule["visited_within_days"])).isoformat())
    if "not_visited_days" in rule:
        sql.append("(a.last_visit_at IS NULL OR a.last_visit_at < ?)")
        params.append((today - timedelta(days=rule["not_visited_days"])).isoformat())
    if "deal_stage" in rule:
        sql.append("EXISTS (SELECT 1 FROM deals d WHERE d.account_id = a.id AND d.deleted_at IS NULL AND d.stage = ?)")
        params.append(rule["deal_stage"])
    if "min_score" in rule:
        sql.append("coalesce(a.fit_score, 0) + coalesce(a.timing_score, 0) >= ?")
        params.append(rule["min_score"])
    if "owned" in rule:
        sql.append("a.owner_id IS NOT NULL" if rule["owned"] else "a.owner_id IS NULL")
    return " AND ".join(sql), params


def count(store: Store, rule: dict[str, Any], today: date | None = None) -> int:
    clause, params = where_clause(check_rule(rule), today or date.today())
    return store.scalar(f"SELECT count(*) FROM accounts a WHERE {clause}", params)


def account_ids(store: Store, rule: dict[str, Any], today: date | None = None) -> set[int]:
    clause, params = where_clause(check_rule(rule), today or date.today())
    return {r[0] for r in store.conn.execute(f"SELECT a.id FROM accounts a WHERE {clause}", params)}


def describe(rule: dict[str, Any]) -> str:
    """The conditions in words, e.g. "Healthcare; 100+ employees; not visited for 90 days (or never); a won deal"."""
    parts = []
    if rule.get("industries"):
        parts.append(", ".join(rule["industries"]))
    lo, hi = rule.get("min_employees"), rule.get("max_employees")
    if lo is not None and hi is not None:
        parts.append(f"{lo:,}–{hi:,} employees")
    elif lo is not None:
        parts.append(f"{lo:,}+ employees")
    elif hi is not None:
        parts.append(f"up to {hi:,} employees")
    if rule.get("tiers"):
        parts.append("tier " + ", ".join(rule["tiers"]))
    if "visited_within_days" in rule:
        parts.append(f"visited in the last {rule['visited_within_days']} days")
    if "not_visited_days" in rule:
        parts.append(f"not visited for {rule['not_visited_days']} days (or never)")
    if "deal_stage" in rule:
        parts.append(f"a {rule['deal_stage']} deal")
    if "min_score" in rule:
        parts.append(f"fit + timing score {rule['min_score']}+")
    if "owned" in rule:
        parts.append("has an owner" if rule["owned"] else "in the pool (no owner)")
    return "; ".join(parts) or "every account"


def save_segment(store: Store, name: str, rule: dict[str, Any]) -> tuple[int, Changes]:
    if not name.strip():
        raise SegmentProblem("a segment needs a name")
    check_rule(rule)
    with store.atomic():
        row = store.conn.execute("SELECT id FROM segments WHERE deleted_at IS NULL AND lower(name) = lower(?)",
                                 (name.strip(),)).fetchone()
        text = json.dumps(rule, sort_keys=True)
        if row:
            writes.update(store, "segments", row["id"], {"rule": text})
            return row["id"], Changes.of("segments", [row["id"]], "segment changed")
        sid = writes.insert(store, "segments", {"name": name.strip(), "rule": text})
    return sid, Changes.of("segments", [sid], "segment saved")


def find_segment(store: Store, name: str) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM segments WHERE deleted_at IS NULL AND (lower(name) = lower(?) "
                             "OR CAST(id AS TEXT) = ?)", (name, name)).fetchone()
    if row is None:
        raise SegmentProblem(f"no segment {name!r}")
    return {**dict(row), "rule": json.loads(row["rule"])}


def list_segments(store: Store, today: date | None = None) -> list[dict[str, Any]]:
    """Every segment with its live count (counted now, not stored)."""
    out = []
    for r in store.conn.execute("SELECT * FROM segments WHERE deleted_at IS NULL ORDER BY name"):
        rule = json.loads(r["rule"])
        out.append({"id": r["id"], "name": r["name"], "rule": rule, "describe": describe(rule),
                    "accounts": count(store, rule, today)})
    return out


def segment_rules(store: Store, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Saved segments' rules by lower-cased name (all, or the names given that exist)."""
    wanted = None if names is None else {n.strip().lower() for n in names}
    out = {}
    for r in store.conn.execute("SELECT name, rule FROM segments WHERE deleted_at IS NULL"):
        key = r["name"].strip().lower()
        if wanted is None or key in wanted:
            out[key] = json.loads(r["rule"])
    return out


def check_names(store: Store, names: Iterable[str]) -> list[str]:
    """The names as saved, or SegmentProblem naming the first that is not a saved segment."""
    saved = {r["name"].strip().lower(): r["name"] for r in
             store.conn.execute("SELECT name FROM segments WHERE deleted_at IS NULL")}
    out = []
    for name in names:
        if name.strip().lower() not in saved:
            known = ", ".join(sorted(saved.values())) or "none saved yet"
            raise SegmentProblem(f"segment {name!r}: no such segment (saved: {known})")
        out.append(saved[name.strip().lower()])
    return out


def memberships(store: Store, names: Iterable[str] | None = None,
                today: date | None = None) -> dict[int, frozenset[str]]:
    """Account id -> the lower-cased names of the saved segments it is in today (accounts in none are left out)."""
    found: dict[int, set[str]] = {}
    for name, rule in segment_rules(store, names).items():
        for account_id in account_ids(store, rule, today):
            found.setdefault(account_id, set()).add(name)
    return {k: frozenset(v) for k, v in found.items()}


def lead_matcher(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool] | None:
    """For a lead with no matched account: a test of its own industry and employees, when the
    segment says nothing else (visits, deals, score, tier, ownership belong to accounts); else None."""
    if not rule or not set(rule) <= LEAD_KEYS:
        return None
    industries = {i.lower() for i in rule.get("industries") or ()}
    lo, hi = rule.get("min_employees"), rule.get("max_employees")

    def test(lead: Mapping[str, Any]) -> bool:
        if industries and (lead["industry"] or "").lower() not in industries:
            return False
        employees = lead["employees"]
        if (lo is not None or hi is not None) and employees is None:
            return False
        return (lo is None or employees >= lo) and (hi is None or employees <= hi)
    return test


def known_industries(store: Store) -> list[str]:
    """The industries accounts have, as written (the first spelling of each), for a segment editor to offer."""
    seen: dict[str, str] = {}
    for (industry,) in store.conn.execute("SELECT DISTINCT trim(industry) FROM accounts WHERE deleted_at IS NULL "
                                          "AND industry IS NOT NULL AND trim(industry) <> '' ORDER BY 1"):
        seen.setdefault(industry.lower(), industry)
    return sorted(seen.values(), key=str.lower)


def used_by(store: Store, name: str) -> list[str]:
    """What names the segment: queues ("queue Health desk") and territories ("territory Healthcare book")."""
    key = name.strip().lower()
    out = []
    for table, word in (("lead_queues", "queue"), ("territories", "territory")):
        field = "segments" if table == "lead_queues" else "in_segments"
        for r in store.conn.execute(f"SELECT name, rule FROM {table} WHERE deleted_at IS NULL AND rule LIKE ?",
                                    (f"%{field}%",)):
            try:
                names = json.loads(r["rule"] or "{}").get(field) or []
            except ValueError:
                continue
            if any(isinstance(n, str) and n.strip().lower() == key for n in names):
                out.append(f"{word} {r['name']}")
    return out


def delete_segment(store: Store, name: str) -> Changes:
    """Remove a segment nothing names any more; refused (naming them) while a queue or territory uses it."""
    with store.atomic():
        segment = find_segment(store, name)
        users = used_by(store, segment["name"])
        if users:
            raise SegmentProblem(f"segment {segment['name']!r} is used by {', '.join(users)}: "
                                 f"take it out of {'them' if len(users) > 1 else 'it'} first")
        writes.delete(store, "segments", segment["id"])
    return Changes.of("segments", [segment["id"]], "segment removed")
