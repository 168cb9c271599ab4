"""Dynamic books: a refresh takes back accounts untouched for N days (they rest in a pool), then refills books below capacity.

Deterministic: the same database and day give the same plan, so the preview is what Apply does.
Rules, in the order applied:
1. Only reps with a book capacity (book_min..book_max) take part; locked accounts never move.
2. Take back: a book's accounts untouched for `untouched_days` and for longer than their own visit
   interval (no done visit, won deal or routed lead since; never touched counts from when the rep
   got it: a quarterly account last seen 70 days ago is on schedule, not neglected), oldest first,
   never leaving the book below its minimum. They rest in the pool for `rest_days`.
3. Refill: accounts in the pool whose rest is over (never-owned ones too; only those in the
   segment, when one is given), best score first (fit + timing), go to the book below its maximum
   whose rep's skills match the account's industry, else to the smallest book; never back to the
   rep they came from; no book goes above its maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core import visit_frequency
from core.books.scores import recent_leads, timing_points
from core.segments import account_ids as segment_account_ids
from core.changes import Changes
from core.leads.scoring import load_rules
from core.storage import writes
from core.storage.database import Store


@dataclass
class Move:
    account_id: int
    account: str
    rep_id: int | None      # the new owner (None: back to the pool)
    rep: str
    from_rep_id: int | None
    score: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account": self.account, "rep_id": self.rep_id, "rep": self.rep,
                "from_rep_id": self.from_rep_id, "score": self.score, "reason": self.reason}


@dataclass
class BooksPlan:
    today: date
    untouched_days: int
    rest_days: int
    take_back: list[Move] = field(default_factory=list)
    refill: list[Move] = field(default_factory=list)
    books: list[dict[str, Any]] = field(default_factory=list)    # rep, before, after, min, max
    resting: int = 0          # pool accounts still resting after this refresh
    available: int = 0        # pool accounts free to refill from, before refilling
    applied: bool = False
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        verb = "Took back" if self.applied else "Would take back"
        text = (f"{verb} {len(self.take_back):,} accounts untouched for {self.untouched_days}+ days (they rest in the "
                f"pool until {self.today + timedelta(days=self.rest_days)}) and "
                f"{'refilled' if self.applied else 'refill'} {len(self.refill):,} from the pool.")
        if not self.refill and self.resting and any(b["after"] < b["max"] for b in self.books):
            text += (f" {self.resting:,} pool accounts are still resting; a refresh after their rest refills the "
                     f"books below capacity.")
        for b in self.books:
            text += f"\n  {b['rep']:22} {b['before']:5} -> {b['after']:5}   (capacity {b['min']}–{b['max']})"
        if not self.applied:
            text += "\nNothing changed yet: add --apply to make these moves."
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "untouched_days": self.untouched_days, "rest_days": self.rest_days,
                "applied": self.applied, "take_back": [m.as_dict() for m in self.take_back],
                "refill": [m.as_dict() for m in self.refill], "books": self.books, "resting": self.resting,
                "available_in_pool": self.available}


def _last_touch(store: Store) -> dict[int, str]:
    """Account -> the latest day anyone worked it: a done visit, a won deal, a lead routed to its owner."""
    touch: dict[int, str] = {}

    def later(aid: int, day: str | None) -> None:
        if day and (aid not in touch or day[:10] > touch[aid]):
            touch[aid] = day[:10]

    for aid, day in store.conn.execute("SELECT id, last_visit_at FROM accounts WHERE last_visit_at IS NOT NULL"):
        later(aid, day)
    for aid, day in store.conn.execute("SELECT account_id, max(closed_on) FROM deals WHERE deleted_at IS NULL "
                                       "AND stage = 'won' AND account_id IS NOT NULL GROUP BY account_id"):
        later(aid, day)
    for aid, day in store.conn.execute("SELECT account_id, max(assigned_at) FROM leads WHERE deleted_at IS NULL "
                                       "AND account_id IS NOT NULL AND assigned_at IS NOT NULL GROUP BY account_id"):
        later(aid, day)
    return touch


def _owned_since(store: Store) -> dict[int, str]:
    return {r[0]: r[1][:10] for r in store.conn.execute(
        "SELECT account_id, max(valid_from) FROM assignments WHERE deleted_at IS NULL AND rep_id IS NOT NULL "
        "GROUP BY account_id")}


def plan_refresh(store: Store, *, today: date | None = None, untouched_days: int = 60, rest_days: int = 14,
                 segment_rule: dict[str, Any] | None = None) -> BooksPlan:
    """What a refresh would do today, without changing anything."""
    today = today or date.today()
    if untouched_days < 1 or rest_days < 0:
        raise ValueError("untouched days must be 1 or more and rest days 0 or more")
    plan = BooksPlan(today, untouched_days, rest_days)
    reps = {r["id"]: dict(r) for r in store.conn.execute(
        "SELECT id, name, skills, book_min, book_max FROM reps WHERE deleted_at IS NULL AND active = 1 AND role = 'rep' "
        "AND book_max IS NOT NULL ORDER BY id")}
    if not reps:
        return plan
    import json

    skills = {rid: {s.casefold() for s in json.loads(r["skills"] or "[]")} for rid, r in reps.items()}
    rules = load_rules(store)
    touch, since = _last_touch(store), _owned_since(store)
    accounts = [dict(r) for r in store.conn.execute(
        "SELECT id, name, owner_id, industry, employees, fit_score, timing_score, locked, pool_until, pooled_from, "
        "created_at, visit_frequency FROM accounts WHERE deleted_at IS NULL AND status != 'inactive' ORDER BY id")]
    recent = recent_leads(store, today)

    def score(a: dict[str, Any]) -> int:
        # Stored scores (core.books.scores) win; an account never scored gets the same formula now.
        fit = a["fit_score"] if a["fit_score"] is not None else rules.fit(a["industry"], a["employees"])
        timing = a["timing_score"] if a["timing_score"] is not None else timing_points(recent.get(a["id"], 0))
        return fit + timing

    books: dict[int, list[dict[str, Any]]] = {rid: [] for rid in reps}
    for a in accounts:
        if a["owner_id"] in books:
            books[a["owner_id"]].append(a)
    size = {rid: len(b) for rid, b in books.items()}
    before = dict(size)
    cutoff = (today - timedelta(days=untouched_days)).isoformat()
    rest_until = (today + timedelta(days=rest_days)).isoformat()
    taken: set[int] = set()
    for rid, book in books.items():
        minimum = reps[rid]["book_min"] or 0
        stale = []
        for a in book:
            last = touch.get(a["id"]) or since.get(a["id"]) or a["created_at"][:10]
            interval = visit_frequency.interval_days(a["visit_frequency"]) or 0
            overdue = (today - timedelta(days=interval)).isoformat()
            if not a["locked"] and last < cutoff and last < overdue:
                stale.append((last, a["id"], a))
        stale.sort(key=lambda t: (t[0], t[1]))
        room = max(0, size[rid] - minimum)
        for last, _aid, a in stale[:room]:
            days = (today - date.fromisoformat(last)).days
            every = visit_frequency.label(a["visit_frequency"]) if visit_frequency.interval_days(a["visit_frequency"]) else ""
            plan.take_back.append(Move(a["id"], a["name"], None, "the pool", rid, score(a),
                                       f"untouched for {days} days (last worked {last}"
                                       + (f"; visited {every.lower()}" if every else "")
                                       + f"); rests in the pool until {rest_until}"))
            taken.add(a["id"])
            size[rid] -= 1
    in_segment = segment_account_ids(store, segment_rule, today) if segment_rule else None
    pool = [a for a in accounts if a["owner_id"] is None and a["id"] not in taken and not a["locked"]
            and (a["pool_until"] is None or a["pool_until"][:10] <= today.isoformat())
            and (in_segment is None or a["id"] in in_segment)]
    if rest_days == 0:
        pool += [a for a in accounts if a["id"] in taken and (in_segment is None or a["id"] in in_segment)]
    plan.available = len(pool)
    came_from = {m.account_id: m.from_rep_id for m in plan.take_back}
    pool.sort(key=lambda a: (-score(a), a["id"]))
    for a in pool:
        previous = came_from.get(a["id"], a["pooled_from"])
        open_books = [rid for rid in reps if size[rid] < reps[rid]["book_max"] and rid != previous]
        if not open_books:
            if all(size[rid] >= reps[rid]["book_max"] for rid in reps):
                break
            continue
        industry = (a["industry"] or "").casefold()
        rid = min(open_books, key=lambda r: (industry not in skills[r] if industry else True, size[r], r))
        matched = bool(industry) and industry in skills[rid]
        why = (f"score {score(a)} from the pool; {reps[rid]['name']} is a {a['industry']} specialist with "
               f"{size[rid]} accounts" if matched else
               f"score {score(a)} from the pool; {reps[rid]['name']} has the smallest book below capacity ({size[rid]})")
        plan.refill.append(Move(a["id"], a["name"], rid, reps[rid]["name"], previous, score(a), why))
        size[rid] += 1
    names = {m.from_rep_id: reps[m.from_rep_id]["name"] for m in plan.take_back}
    for m in plan.take_back:
        m.reason = f"{names[m.from_rep_id]}: " + m.reason
    refilled = {m.account_id for m in plan.refill}
    plan.resting = store.scalar("SELECT count(*) FROM accounts WHERE deleted_at IS NULL AND owner_id IS NULL AND "
                                "pool_until > ?", (today.isoformat(),)) + len(taken - refilled)
    plan.books = [{"rep_id": rid, "rep": reps[rid]["name"], "before": before[rid], "after": size[rid],
                   "min": reps[rid]["book_min"] or 0, "max": reps[rid]["book_max"]} for rid in reps]
    return plan


def apply_refresh(store: Store, plan: BooksPlan) -> BooksPlan:
    """Make the plan's moves in one transaction, with an assignment row (and reason) for each."""
    uids = {}
    ids = [m.account_id for m in plan.take_back + plan.refill]
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        uids.update(store.conn.execute(f"SELECT id, uid FROM accounts WHERE id IN ({','.join('?' * len(chunk))})",
                                       chunk).fetchall())
    day = plan.today.isoformat()
    rest_until = (plan.today + timedelta(days=plan.rest_days)).isoformat()
    final: dict[int, dict[str, Any]] = {}
    history = []
    for m in plan.take_back:
        final[m.account_id] = {"owner_id": None, "pooled_at": day, "pool_until": rest_until, "pooled_from": m.from_rep_id}
        history.append({"account_id": m.account_id, "rep_id": None, "territory_id": None, "valid_from": day,
                        "valid_to": None, "reason": "books refresh: " + m.reason, "scenario_id": None})
    for m in plan.refill:
        final[m.account_id] = {**final.get(m.account_id, {}), "owner_id": m.rep_id, "pool_until": None}
        history.append({"account_id": m.account_id, "rep_id": m.rep_id, "territory_id": None, "valid_from": day,
                        "valid_to": None, "reason": "books refresh: " + m.reason, "scenario_id": None})
    with store.atomic():
        # Only the columns that differ from what is stored are written (update() compares for us).
        old = writes.update_many(store, "accounts", final)
        assignment_ids = writes.insert_many(store, "assignments", history)
    plan.applied = True
    plan.changes = Changes.of("accounts", old.keys(), "books refreshed").merge(Changes.of("assignments", assignment_ids))
    return plan


def book_sizes(store: Store) -> list[dict[str, Any]]:
    return [dict(r) for r in store.conn.execute(
        "SELECT r.id AS rep_id, r.name AS rep, r.book_min, r.book_max, (SELECT count(*) FROM accounts a WHERE "
        "a.owner_id = r.id AND a.deleted_at IS NULL AND a.status != 'inactive') AS accounts FROM reps r "
        "WHERE r.deleted_at IS NULL AND r.role = 'rep' AND r.active = 1 ORDER BY r.name")]


def set_capacity(store: Store, rep_id: int, book_min: int | None, book_max: int | None) -> Changes:
    if book_max is not None and (book_max < 1 or (book_min or 0) > book_max):
        raise ValueError(f"capacity {book_min}–{book_max}: the maximum must be at least 1 and not below the minimum")
    with store.atomic():
        writes.update(store, "reps", rep_id, {"book_min": book_min, "book_max": book_max})
    return Changes.of("reps", [rep_id], "book capacity set")
