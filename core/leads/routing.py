"""Routing new leads to reps: account owners first, then each lead's queue (weighted round robin or best available rep).

A run reads everything once (reps, time off, queues, counts), decides every lead in memory, and
writes the decisions and the leads in one transaction, so 100,000 leads route in seconds and a
failure leaves nothing half-routed. Every decision is stored with its reason in words.
"""

from __future__ import annotations

import heapq
import json
import math
import time as time_module
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from core.changes import Changes
from core.importing.values import zip5
from core.leads.queues import MODE_WORDS, ROTATION_KINDS, Member, Queue, load_queues
from core.progress import Progress, check_cancelled
from core.segments import lead_matcher, memberships, segment_rules
from core.storage import writes
from core.storage.bulk import indexes_rebuilt_after
from core.storage.database import Store


@dataclass
class RepState:
    id: int
    name: str
    skills: frozenset[str]
    skill_words: dict[str, str]
    local_day: str
    away: str | None          # why the rep cannot take leads today ("on time off (Vacation)"), else None
    outside_hours: str | None  # why the rep is outside working hours now, else None
    load: int = 0             # open (assigned, not converted) leads

    def unavailable(self, hours_only: bool) -> str | None:
        return self.away or (self.outside_hours if hours_only else None)


@dataclass
class RoutingResult:
    assignments: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    fairness: list[dict[str, Any]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        by_kind = Counter(a["kind"] for a in self.assignments)
        text = (f"Routed {len(self.assignments):,} leads ({by_kind['owner']:,} to their account's owner, "
                f"{by_kind['rotation']:,} by round robin, {by_kind['best_available']:,} to the best available rep); "
                f"{len(self.waiting):,} waiting.")
        for f in self.fairness:
            text += (f"\n  {f['queue']}: {f['leads']:,} leads by rotation, "
                     f"{f['min']}–{f['max']} each among reps free all run (spread {f['spread']})")
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"assignments": self.assignments, "waiting": self.waiting, "fairness": self.fairness}


def _parse_hhmm(text: str, default: time) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        return default


def _rep_states(store: Store, at: datetime) -> dict[int, RepState]:
    off: dict[tuple[int | None, str], str] = {}
    for r in store.conn.execute("SELECT rep_id, day, reason FROM time_off WHERE deleted_at IS NULL"):
        off[(r["rep_id"], r["day"])] = r["reason"] or "time off"
    load = dict(store.conn.execute("SELECT rep_id, count(*) FROM leads WHERE status = 'assigned' "
                                   "AND deleted_at IS NULL AND rep_id IS NOT NULL GROUP BY rep_id").fetchall())
    reps = {}
    for r in store.conn.execute("SELECT * FROM reps WHERE deleted_at IS NULL AND active = 1 AND role = 'rep'"):
        try:
            tz = ZoneInfo(r["time_zone"] or "UTC")
        except (KeyError, ValueError):
            tz = ZoneInfo("UTC")
        local = at.astimezone(tz)
        day = local.date().isoformat()
        reason = off.get((r["id"], day)) or off.get((None, day))
        away = f"on time off today ({reason})" if reason else None
        start, end = _parse_hhmm(r["work_start"], time(8)), _parse_hhmm(r["work_end"], time(17))
        outside = None
        if local.weekday() >= 5 or not start <= local.time() < end:
            outside = f"outside working hours ({r['work_start']}–{r['work_end']} Mon–Fri, {r['time_zone']})"
        skills = [s for s in json.loads(r["skills"] or "[]") if isinstance(s, str) and s.strip()]
        reps[r["id"]] = RepState(r["id"], r["name"], frozenset(s.casefold() for s in skills),
                                 {s.casefold(): s for s in skills}, day, away, outside, load.get(r["id"], 0))
    return reps


def _names(items: list[str], limit: int = 3) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


class _QueueRun:
    """One queue's rotation during a run: turn counts, today's counts against caps, who is free."""

    def __init__(self, store: Store, queue: Queue, reps: dict[int, RepState]) -> None:
        self.queue = queue
        self.reps = reps
        members = [m for m in queue.members if m.active and m.rep_id in reps]
        decided = defaultdict(int)
        today = defaultdict(int)
        for r in store.conn.execute(
                f"SELECT rep_id, day, count(*) FROM routing_decisions WHERE queue_id = ? AND rep_id IS NOT NULL "
                f"AND kind IN ({','.join('?' * len(ROTATION_KINDS))}) AND deleted_at IS NULL GROUP BY rep_id, day",
                (queue.id, *ROTATION_KINDS)):
            decided[r[0]] += r[2]
            if r[0] in reps and r[1] == reps[r[0]].local_day:
                today[r[0]] += r[2]
        self.count = {m.rep_id: m.baseline + decided[m.rep_id] for m in members}
        self.today = {m.rep_id: today[m.rep_id] for m in members}
        self.member = {m.rep_id: m for m in members}
        self.away: list[str] = []
        self.free: list[Member] = []
        for m in members:
            why = reps[m.rep_id].unavailable(queue.hours_only)
            if why:
                self.away.append(f"{reps[m.rep_id].name} ({why})")
            elif m.daily_cap is not None and self.today[m.rep_id] >= m.daily_cap:
                self.away.append(f"{reps[m.rep_id].name} (daily cap of {m.daily_cap} reached)")
            else:
                self.free.append(m)
        self.free_ids = {m.rep_id for m in self.free}
        self.skills = frozenset().union(*(reps[m.rep_id].skills for m in self.free))
        self.version = {m.rep_id: 0 for m in members}
        self._heaps: dict[str, list[tuple[tuple[float, int, int], int, int]]] = {}
        self.taken = 0
        self.free_all_run = {m.rep_id for m in self.free}
        self._skipped: tuple[int, str] | None = None

    def next_in_turn(self, skill: str = "") -> Member | None:
        """Whose turn it is among everyone free ("") or among the free specialists in `skill`.

        A heap per pool with stale entries skipped on the way out: picking is O(log n) instead of
        a scan of every member for every lead (100,000 leads over 50 reps).
        """
        heap = self._heaps.get(skill)
        if heap is None:
            pool = [m for m in self.free if not skill or skill in self.reps[m.rep_id].skills]
            heap = self._heaps[skill] = [(self.turn_key(m), self.version[m.rep_id], m.rep_id) for m in pool]
            heapq.heapify(heap)
        while heap:
            _key, version, rep_id = heap[0]
            if version == self.version[rep_id] and rep_id in self.free_ids:
                return self.member[rep_id]
            heapq.heappop(heap)
        return None

    def turn_key(self, m: Member) -> tuple[float, int, int]:
        # Weighted round robin: the member whose next lead keeps them closest to their share goes next.
        return ((self.count[m.rep_id] + 1) / m.weight, m.position, m.rep_id)

    def took(self, m: Member) -> None:
        rep_id = m.rep_id
        self.count[rep_id] += 1
        self.today[rep_id] += 1
        self.taken += 1
        self.version[rep_id] += 1
        if m.daily_cap is not None and self.today[rep_id] >= m.daily_cap:
            self.free = [x for x in self.free if x.rep_id != rep_id]
            self.free_ids.discard(rep_id)
            self.free_all_run.discard(rep_id)
            self.away.append(f"{self.reps[rep_id].name} (daily cap of {m.daily_cap} reached)")
            return
        entry = (self.turn_key(m), self.version[rep_id], rep_id)
        skills = self.reps[rep_id].skills
        for skill, heap in self._heaps.items():
            if not skill or skill in skills:
                heapq.heappush(heap, entry)

    def skipped(self) -> str:
        # Cached: the list only grows when a cap is reached, and every reason in a queue repeats it.
        if self._skipped is None or self._skipped[0] != len(self.away):
            # "Rep A (on time off today (Vacation))" entries grouped by why: one reason, many names.
            groups: dict[str, list[str]] = {}
            for entry in self.away:
                name, _, why = entry.partition(" (")
                groups.setdefault(why, []).append(name)
            text = "; ".join(f"{_names(names)} ({why}" for why, names in groups.items())
            self._skipped = (len(self.away), f"; skipped {text}" if self.away else "")
        return self._skipped[1]


@contextmanager
def _page_cache(store: Store, kib: int) -> Iterator[None]:
    old = store.scalar("PRAGMA cache_size")
    wanted = -kib
    if old < 0 and old <= wanted or old > 0 and old * store.scalar("PRAGMA page_size") >= kib * 1024:
        yield  # already big enough
        return
    store.conn.execute(f"PRAGMA cache_size = {wanted}")
    try:
        yield
    finally:
        store.conn.execute(f"PRAGMA cache_size = {old}")


def _geo_owners(store: Store) -> dict[str, int]:
    """ZIP -> the rep owning most accounts there (who would get the lead by geography)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for postal, owner in store.conn.execute("SELECT postal_code, owner_id FROM accounts WHERE deleted_at IS NULL "
                                            "AND owner_id IS NOT NULL AND postal_code IS NOT NULL"):
        counts[zip5(postal)][owner] += 1
    return {z: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for z, c in counts.items()}


def route_leads(store: Store, *, at: datetime | None = None, lead_ids: list[int] | None = None,
                progress: Progress | None = None) -> RoutingResult:
    """Route every new lead (or the given ones) as of `at` (default now) and store each decision."""
    started = time_module.perf_counter()
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        raise ValueError("routing time needs a time zone")
    reps = _rep_states(store, at)
    queues = load_queues(store)
    runs = {q.id: _QueueRun(store, q, reps) for q in queues}
    accounts = {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT id, name, owner_id FROM accounts WHERE deleted_at IS NULL AND id IN "
        "(SELECT account_id FROM leads WHERE status = 'new' AND account_id IS NOT NULL)")}
    geo = _geo_owners(store) if any(q.mode == "best_available" for q in queues) else {}
    sql = ("SELECT id, uid, company, source, state, postal_code, industry, employees, product, score, account_id, match_reason, "
           "queue_id FROM leads WHERE status = 'new' AND deleted_at IS NULL")
    params: tuple = ()
    if lead_ids is not None:
        sql += f" AND id IN ({','.join('?' * len(lead_ids))})"
        params = tuple(lead_ids)
    leads = store.conn.execute(sql + " ORDER BY received_at, id", params).fetchall()
    timings = {"read_s": time_module.perf_counter() - started}
    now = writes.utc_now()
    utc_day = at.astimezone(timezone.utc).date().isoformat()
    result = RoutingResult()
    decisions: list[dict[str, Any]] = []
    edits: list[tuple[int, str, dict[str, Any]]] = []  # waiting leads whose queue changed
    assigned: list[int] = []
    no_queue = "no queue takes this lead"

    queues_for: dict[tuple, list[Queue]] = {}
    # The queue a kind of lead goes to (and the overflow words) until some queue has nobody free
    # left: then it is worked out again (a few times a run, against once per lead).
    choice: dict[tuple, tuple[Queue | None, str]] = {}
    score_matters = any(q.min_score is not None for q in queues)
    # Segments some queue takes from: which accounts are in them today, and for leads without an
    # account, the segments whose conditions (industry, size) the lead's own fields answer.
    used = {s.strip().lower() for q in queues for s in q.segments}
    in_account = memberships(store, used, at.date()) if used else {}
    by_fields = [(name, test) for name, rule in segment_rules(store, used).items()
                 if (test := lead_matcher(rule))] if used else []
    no_segments: frozenset[str] = frozenset()
    for n, lead in enumerate(leads):
        if n % 5000 == 0:
            check_cancelled(progress)
            if progress is not None:
                progress.update(n, len(leads), "Routing leads")
        lead_id = lead["id"]
        # The first queue (by priority) that takes the lead and has someone free; a full queue
        # overflows into the next one that takes it, and the reason says so.
        # Which queues take a lead depends only on its source, state and score: worked out once each.
        in_segments = no_segments
        if used:
            in_segments = (in_account.get(lead["account_id"], no_segments) if lead["account_id"]
                           else frozenset(name for name, test in by_fields if test(lead)))
        key = (lead["source"], lead["state"], lead["score"] if score_matters else None, in_segments)
        chosen = choice.get(key)
        if chosen is None:
            taking = queues_for.get(key)
            if taking is None:
                taking = queues_for[key] = [q for q in queues if q.takes(lead, in_segments)]
            queue = next((q for q in taking if runs[q.id].free), taking[0] if taking else None)
            prefix = "".join(f"{q.name} has nobody free; " for q in taking[:taking.index(queue)]) if queue else ""
            chosen = choice[key] = (queue, prefix)
        queue, prefix = chosen
        run = runs[queue.id] if queue else None
        qid = queue.id if queue else None
        rep_id: int | None = None
        kind = "waiting"
        # An existing customer's lead goes to the account's owner, whoever's turn it is.
        account = accounts.get(lead["account_id"]) if lead["account_id"] else None
        if account and account[1] in reps:
            owner = reps[account[1]]
            why = owner.unavailable(queue.hours_only if queue else False)
            if why is None:
                rep_id, kind = owner.id, "owner"
                how = (lead["match_reason"] or "").rpartition(" by ")[2] or "matching"
                reason = f"Existing account {account[0]} (found by {how}) is owned by {owner.name}"
            else:
                prefix = f"{account[0]} is owned by {owner.name}, who is {why}; " + prefix
        if rep_id is None and run is None:
            reason = prefix + f"Waiting: {no_queue} (source {lead['source'] or 'none'!s})"
        elif rep_id is None:
            industry = (lead["industry"] or "").casefold()
            where = queue.name
            if queue.segments:
                # Why this queue: which of its segments the lead is in (by its account, or by its own industry and size).
                seg_names = [n for n in queue.segments if n.strip().lower() in in_segments]
                how = "its account is in" if lead["account_id"] else "the lead fits"
                where += f" ({how} segment {', '.join(seg_names)})"
            product = (lead["product"] or "").casefold()
            free = run.free
            if not free:
                reason = prefix + f"Waiting in {where}: nobody is free{run.skipped()}"
            elif queue.mode == "best_available":
                def fit(m: Member) -> int:
                    skills = reps[m.rep_id].skills
                    return (industry in skills if industry else 0) + (product in skills if product else 0)
                pick = min(free, key=lambda m: (-fit(m), reps[m.rep_id].load, run.turn_key(m)))
                rep = reps[pick.rep_id]
                matched = [rep.skill_words[s] for s in (industry, product) if s and s in rep.skills]
                skill_text = (f"{' and '.join(matched)} specialist" if matched
                              else "no specialist for this lead is free")
                reason = (prefix + f"Best available in {where}: {rep.name} ({skill_text}, "
                          f"{rep.load} open leads, fewest among the best matches)")
                zip_owner = geo.get(zip5(lead["postal_code"])) if lead["postal_code"] else None
                if zip_owner is not None and zip_owner != rep.id and zip_owner in reps:
                    away = reps[zip_owner].unavailable(queue.hours_only)
                    reason += (f"; {reps[zip_owner].name}, who covers ZIP {lead['postal_code']}, is {away}" if away
                               else f"; chosen over {reps[zip_owner].name}, who covers ZIP {lead['postal_code']}")
                rep_id, kind = rep.id, "best_available"
                run.took(pick)
                if not run.free:
                    choice.clear()
            else:
                # Skills never break fairness: a specialist takes a lead of their industry or product
                # when it is still their turn this round (it does not put them a lead ahead).
                pick = next_up = run.next_in_turn()
                among = ""
                this_round = math.ceil(run.turn_key(next_up)[0] - 1e-9)
                for skill in (industry, product):
                    if skill and skill in run.skills:
                        expert = run.next_in_turn(skill)
                        if expert is None:
                            continue
                        word = reps[expert.rep_id].skill_words[skill]
                        if run.turn_key(expert)[0] <= this_round + 1e-9:
                            pick, among = expert, f" among {word} specialists"
                        else:
                            among = f" ({word} specialists have had their share this round)"
                        break
                rep = reps[pick.rep_id]
                weight = f", weight {pick.weight}" if pick.weight != 1 else ""
                reason = (prefix + f"Round robin in {where}{among}: {rep.name}'s turn "
                          f"({run.count[rep.id] - pick.baseline} earlier leads in this queue{weight}){run.skipped()}")
                rep_id, kind = rep.id, "rotation"
                run.took(pick)
                if not run.free:
                    choice.clear()
        if rep_id is not None:
            reps[rep_id].load += 1
            rep_name = reps[rep_id].name
            decisions.append({"lead_id": lead_id, "queue_id": qid, "rep_id": rep_id, "reason": reason,
                              "kind": kind, "day": reps[rep_id].local_day})
            assigned.append(lead_id)
            result.assignments.append({"lead_id": lead_id, "rep_id": rep_id, "rep": rep_name, "queue_id": qid,
                                       "queue": queue.name if queue else None, "kind": kind, "reason": reason})
        else:
            decisions.append({"lead_id": lead_id, "queue_id": qid, "rep_id": None, "reason": reason,
                              "kind": "waiting", "day": utc_day})
            if lead["queue_id"] != qid:
                edits.append((lead_id, lead["uid"], {"queue_id": qid}))
            result.waiting.append({"lead_id": lead_id, "queue_id": qid, "queue": queue.name if queue else None,
                                   "reason": reason})
    timings["decide_s"] = time_module.perf_counter() - started - timings["read_s"]
    with ExitStack() as big:
        if len(decisions) > 5000:
            # A big run writes about 3 KB per lead (decision, lead, two change-log rows, indexes) in
            # one transaction; once that outgrows the page cache SQLite spills pages mid-transaction,
            # which doubled the time of 100,000 leads (benchmarks/leads.py). The cache grows for the
            # run (at most 400 MB) and goes back after.
            big.enter_context(_page_cache(store, min(400_000, len(decisions) * 3)))
        big.enter_context(store.atomic())
        if len(decisions) > 5000:
            # A big run rebuilds the plain indexes once instead of maintaining them row by row.
            big.enter_context(indexes_rebuilt_after(store, "routing_decisions"))
            big.enter_context(indexes_rebuilt_after(store, "leads"))
        uids = writes.new_uid_run(len(decisions))
        for decision, uid in zip(decisions, uids):
            decision["uid"] = uid
        decision_ids = writes.insert_many(store, "routing_decisions", decisions)
        # An assigned lead takes its queue and rep from its decision: SQLite copies them across
        # (and logs each lead's edit) without 100,000 edits built and bound in Python.
        if decision_ids:
            writes.update_from_query(
                store, "leads", ("status", "queue_id", "rep_id", "assigned_at"),
                "SELECT l.id, l.uid, 'assigned', d.queue_id, d.rep_id, ? FROM routing_decisions d "
                "JOIN leads l ON l.id = d.lead_id WHERE d.id BETWEEN ? AND ? AND d.rep_id IS NOT NULL ORDER BY d.id",
                (now, decision_ids[0], decision_ids[-1]))
        writes.update_known(store, "leads", edits)
    timings["write_s"] = time_module.perf_counter() - started - timings["read_s"] - timings["decide_s"]
    result.timings = timings
    by_queue = Counter((a["queue_id"], a["rep_id"]) for a in result.assignments if a["kind"] != "owner")
    for q in queues:
        run = runs[q.id]
        got = Counter({rep: n for (qid, rep), n in by_queue.items() if qid == q.id})
        if not run.member:
            continue
        # Fairness is judged among the reps who could take leads the whole run (not away, not capped).
        per = [got.get(r, 0) for r in run.member if r in run.free_all_run] or [0]
        result.fairness.append({"queue": q.name, "queue_id": q.id, "leads": sum(got.values()),
                                "reps": len(run.free_all_run), "min": min(per), "max": max(per),
                                "spread": max(per) - min(per), "skipped": list(run.away),
                                "per_rep": {reps[r].name: got.get(r, 0) for r in run.member}})
    result.changes = Changes.of("leads", assigned + [e[0] for e in edits], f"{len(result.assignments)} leads routed").merge(
        Changes.of("routing_decisions", decision_ids))
    return result


def decisions_for(store: Store, lead_id: int) -> list[dict[str, Any]]:
    """A lead's stored routing decisions, oldest first, with rep and queue names."""
    return [dict(r) for r in store.conn.execute(
        "SELECT d.id, d.created_at, d.kind, d.reason, d.rep_id, r.name AS rep, d.queue_id, q.name AS queue "
        "FROM routing_decisions d LEFT JOIN reps r ON r.id = d.rep_id LEFT JOIN lead_queues q ON q.id = d.queue_id "
        "WHERE d.lead_id = ? AND d.deleted_at IS NULL ORDER BY d.id", (lead_id,))]


def list_leads(store: Store, *, status: str | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """Leads newest first with score, grade, rep, queue and the reason of their latest routing decision."""
    sql = ("SELECT l.id, l.received_at, l.company, l.name AS contact, l.email, l.source, l.industry, l.score, l.grade, "
           "l.status, l.rep_id, r.name AS rep, q.name AS queue, a.name AS account, "
           "(SELECT reason FROM routing_decisions d WHERE d.lead_id = l.id ORDER BY d.id DESC LIMIT 1) AS reason "
           "FROM leads l LEFT JOIN reps r ON r.id = l.rep_id LEFT JOIN lead_queues q ON q.id = l.queue_id "
           "LEFT JOIN accounts a ON a.id = l.account_id WHERE l.deleted_at IS NULL")
    params: list[Any] = []
    if status:
        sql += " AND l.status = ?"
        params.append(status)
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY l.id DESC LIMIT ?", (*params, limit))]


def lead_counts(store: Store) -> dict[str, int]:
    return dict(store.conn.execute("SELECT status, count(*) FROM leads WHERE deleted_at IS NULL GROUP BY status").fetchall())
