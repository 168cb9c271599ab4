"""Lead queues and their members: which leads a queue takes, how it routes, and each rep's weight and daily cap."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from core.changes import Changes
from core.segments import SegmentProblem, check_names
from core.storage import writes
from core.storage.database import Store

MODES = ("round_robin", "best_available")
MODE_WORDS = {"round_robin": "round robin", "best_available": "best available rep"}
# Decisions that take a turn in a queue's rotation (an account owner's lead does not).
ROTATION_KINDS = ("rotation", "best_available")


class QueueProblem(ValueError):
    """A queue setting that cannot be used, in the manager's words."""


@dataclass
class Member:
    rep_id: int
    weight: int
    position: int
    daily_cap: int | None
    baseline: int
    active: bool
    member_id: int = 0


@dataclass
class Queue:
    id: int
    name: str
    mode: str
    priority: int
    hours_only: bool
    sources: tuple[str, ...] = ()     # as the manager wrote them; empty = any source
    states: tuple[str, ...] = ()
    min_score: int | None = None
    segments: tuple[str, ...] = ()    # saved segment names: only leads in one of them (see core.segments)
    members: list[Member] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sources = frozenset(s.casefold() for s in self.sources)
        self._segments = frozenset(s.strip().lower() for s in self.segments)

    def takes(self, lead: dict[str, Any], in_segments: frozenset[str] = frozenset()) -> bool:
        """Whether this queue takes the lead; `in_segments` are the lower-cased segments the lead is in."""
        # `lead` is a dict or a sqlite3.Row (routing reads rows as they come, without copying them).
        if self.sources and (lead["source"] or "").casefold() not in self._sources:
            return False
        if self._segments and not self._segments & in_segments:
            return False
        if self.states and lead["state"] and lead["state"].upper() not in self.states:
            return False
        if self.min_score is not None and (lead["score"] or 0) < self.min_score:
            return False
        return True

    def describe(self) -> str:
        parts = []
        if self.sources:
            parts.append("sources " + ", ".join(self.sources))
        if self.states:
            parts.append("states " + ", ".join(self.states))
        if self.min_score is not None:
            parts.append(f"score ≥ {self.min_score}")
        if self.segments:
            parts.append("segment " + ", ".join(self.segments))
        return "; ".join(parts) or "every lead"


def load_queues(store: Store) -> list[Queue]:
    """Active queues in the order leads try them: highest priority first, then oldest."""
    queues = []
    for r in store.conn.execute("SELECT * FROM lead_queues WHERE deleted_at IS NULL AND active = 1 "
                                "ORDER BY priority DESC, id"):
        rule = json.loads(r["rule"] or "{}")
        q = Queue(r["id"], r["name"], r["strategy"] if r["strategy"] in MODES else "round_robin", r["priority"],
                  bool(r["hours_only"]), tuple(rule.get("sources") or ()),
                  tuple(s.upper() for s in rule.get("states") or ()), rule.get("min_score"),
                  tuple(rule.get("segments") or ()))
        queues.append(q)
    by_id = {q.id: q for q in queues}
    for m in store.conn.execute("SELECT * FROM queue_members WHERE deleted_at IS NULL ORDER BY position, id"):
        if m["queue_id"] in by_id:
            by_id[m["queue_id"]].members.append(Member(m["rep_id"], max(1, m["weight"]), m["position"], m["daily_cap"],
                                                       m["baseline"], bool(m["active"]), m["id"]))
    return queues


def rotation_counts(store: Store, queue_id: int) -> dict[int, int]:
    """Leads each rep has had through this queue's rotation (stored decisions, not counting account owners')."""
    return {r[0]: r[1] for r in store.conn.execute(
        f"SELECT rep_id, count(*) FROM routing_decisions WHERE queue_id = ? AND rep_id IS NOT NULL AND "
        f"kind IN ({','.join('?' * len(ROTATION_KINDS))}) AND deleted_at IS NULL GROUP BY rep_id",
        (queue_id, *ROTATION_KINDS))}


def find_queue(store: Store, name: str) -> dict[str, Any] | None:
    row = store.conn.execute("SELECT * FROM lead_queues WHERE deleted_at IS NULL AND (lower(name) = lower(?) "
                             "OR CAST(id AS TEXT) = ?)", (name, name)).fetchone()
    return dict(row) if row else None


def save_queue(store: Store, name: str, *, mode: str | None = None, sources: list[str] | None = None,
               states: list[str] | None = None, min_score: int | None = None, priority: int | None = None,
               hours_only: bool | None = None, active: bool | None = None,
               segments: list[str] | None = None, clear_min_score: bool = False) -> tuple[int, Changes]:
    """Create the queue `name`, or change the settings given (None = keep; an empty list clears).

    `segments`: saved segment names; the queue then takes only leads in one of them (a lead is in a
    segment when its matched account is, or, with no account, when the segment's industry and size
    conditions, its only ones, hold for the lead itself).
    """
    if not name.strip():
        raise QueueProblem("a queue needs a name")
    if mode is not None and mode not in MODES:
        raise QueueProblem(f"mode {mode!r}: choose {' or '.join(MODES)}")
    with store.atomic():
        row = find_queue(store, name)
        rule = json.loads(row["rule"]) if row else {}
        if sources is not None:
            rule["sources"] = [s.strip() for s in sources if s.strip()]
        if states is not None:
            rule["states"] = [s.strip().upper() for s in states if s.strip()]
        if min_score is not None:
            rule["min_score"] = min_score
        elif clear_min_score:
            rule.pop("min_score", None)
        if segments is not None:
            try:
                rule["segments"] = check_names(store, [s for s in segments if s.strip()])
            except SegmentProblem as exc:
                raise QueueProblem(str(exc)) from exc
        values: dict[str, Any] = {"rule": json.dumps({k: v for k, v in rule.items() if v not in (None, [])})}
        if mode is not None:
            values["strategy"] = mode
        if priority is not None:
            values["priority"] = priority
        if hours_only is not None:
            values["hours_only"] = int(hours_only)
        if active is not None:
            values["active"] = int(active)
        if row is None:
            values.setdefault("strategy", "round_robin")
            qid = writes.insert(store, "lead_queues", {"name": name.strip(), **values})
            return qid, Changes.of("lead_queues", [qid], f"queue {name} created")
        writes.update(store, "lead_queues", row["id"], values)
        return row["id"], Changes.of("lead_queues", [row["id"]], f"queue {name} changed")


def set_member(store: Store, queue_id: int, rep_id: int, *, weight: int | None = None,
               daily_cap: int | None | str = "keep", active: bool | None = None) -> Changes:
    """Add a rep to a queue, or change their weight, cap or presence.

    A rep who joins starts level with the member furthest behind (their baseline), so they are
    next in turn soon but do not take a run of catch-up leads, and nobody's leads are moved.
    """
    if weight is not None and not 1 <= weight <= 100:
        raise QueueProblem(f"weight {weight}: must be between 1 and 100")
    if isinstance(daily_cap, int) and daily_cap < 0:
        raise QueueProblem(f"daily cap {daily_cap}: must not be negative")
    rep = store.conn.execute("SELECT name, role FROM reps WHERE id = ? AND deleted_at IS NULL", (rep_id,)).fetchone()
    if rep is None:
        raise QueueProblem(f"rep {rep_id} does not exist")
    if rep["role"] != "rep":
        raise QueueProblem(f"{rep['name']} is a {rep['role']}; only reps take leads from a queue")
    with store.atomic():
        row = store.conn.execute("SELECT * FROM queue_members WHERE queue_id = ? AND rep_id = ? AND deleted_at IS NULL",
                                 (queue_id, rep_id)).fetchone()
        if row is None:
            weight = weight or 1
            counts = rotation_counts(store, queue_id)
            members = store.conn.execute("SELECT rep_id, weight, baseline FROM queue_members WHERE queue_id = ? "
                                         "AND deleted_at IS NULL AND active = 1", (queue_id,)).fetchall()
            level = min(((m["baseline"] + counts.get(m["rep_id"], 0)) / max(1, m["weight"]) for m in members), default=0)
            position = (store.scalar("SELECT max(position) FROM queue_members WHERE queue_id = ?", (queue_id,)) or 0) + 1
            mid = writes.insert(store, "queue_members", {
                "queue_id": queue_id, "rep_id": rep_id, "weight": weight, "position": position,
                "active": 1 if active is None else int(active),
                "daily_cap": None if daily_cap == "keep" else daily_cap, "baseline": math.floor(level * weight)})
            return Changes.of("queue_members", [mid], "rep joined the queue")
        values: dict[str, Any] = {}
        if weight is not None:
            values["weight"] = weight
        if daily_cap != "keep":
            values["daily_cap"] = daily_cap
        if active is not None:
            values["active"] = int(active)
        writes.update(store, "queue_members", row["id"], values)
        return Changes.of("queue_members", [row["id"]], "queue member changed")


def remove_member(store: Store, queue_id: int, rep_id: int) -> Changes:
    with store.atomic():
        row = store.conn.execute("SELECT id FROM queue_members WHERE queue_id = ? AND rep_id = ? AND deleted_at IS NULL",
                                 (queue_id, rep_id)).fetchone()
        if row is None:
            raise QueueProblem("that rep is not in the queue")
        writes.delete(store, "queue_members", row["id"])
    return Changes.of("queue_members", [row["id"]], "rep left the queue")


def queue_overview(store: Store) -> list[dict[str, Any]]:
    """Every queue with its members' weights, caps and rotation counts (for the view and `leads queues`)."""
    names = {r["id"]: r["name"] for r in store.conn.execute("SELECT id, name FROM reps")}
    out = []
    for q in load_queues(store):
        counts = rotation_counts(store, q.id)
        out.append({
            "id": q.id, "name": q.name, "mode": q.mode, "priority": q.priority, "hours_only": q.hours_only,
            "takes": q.describe(), "sources": list(q.sources), "states": list(q.states), "min_score": q.min_score,
            "segments": list(q.segments),
            "members": [{"rep_id": m.rep_id, "rep": names.get(m.rep_id, "?"), "weight": m.weight,
                         "daily_cap": m.daily_cap, "active": m.active, "leads": counts.get(m.rep_id, 0)}
                        for m in q.members]})
    return out
