"""`fieldatlas books`: dynamic books of accounts (capacity, refresh preview and apply) and segments with live counts."""

from __future__ import annotations

import argparse
import json
from datetime import date

from core.books.scores import store_scores
from core.books.refresh import apply_refresh, book_sizes, plan_refresh, set_capacity
from core.segments import (RULE_KEYS, SegmentProblem, check_rule, delete_segment, describe, find_segment, list_segments,
                           save_segment)
from core.reps import find_rep
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, iso_date, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("books", help="dynamic books of accounts: capacity, refresh (preview, apply), segments",
                       description="Dynamic books: each rep has a capacity; a refresh takes back accounts untouched "
                                   "for N days into a resting pool and refills books below capacity by score and skill.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    r = verbs.add_parser("refresh", help="preview a refresh (default) or make it with --apply")
    add_db_argument(r)
    r.add_argument("--apply", action="store_true", help="make the moves (default: only show them)")
    r.add_argument("--untouched-days", type=int, default=60, help="take back accounts untouched this long (default 60)")
    r.add_argument("--rest-days", type=int, default=14, help="how long they rest in the pool (default 14)")
    r.add_argument("--segment", metavar="NAME", help="refill only from pool accounts in this segment")
    r.add_argument("--today", type=iso_date, help="the day to refresh as of (YYYY-MM-DD, default today)")
    add_json_argument(r)
    c = verbs.add_parser("capacity", help="show book sizes, or set a rep's capacity with --rep --min --max")
    add_db_argument(c)
    c.add_argument("--rep", help="rep id, email or name")
    c.add_argument("--min", type=int, dest="book_min")
    c.add_argument("--max", type=int, dest="book_max")
    add_json_argument(c)
    sc = verbs.add_parser("scores", help="work out and store every account's fit and timing score",
                          description="Fit: the lead scoring rules' industry and size points; timing: 10 per lead from "
                                      "the account in the last 30 days (at most 30). Refreshes and segments with "
                                      "min_score read the stored scores.")
    add_db_argument(sc)
    sc.add_argument("--today", type=iso_date, help="the day to score as of (YYYY-MM-DD, default today)")
    add_json_argument(sc)
    s = verbs.add_parser("segments", help="segments with live counts; --save NAME --rule JSON to add or change one",
                         description="A rule is a JSON object with any of: " + "; ".join(
                             f"{k} ({v})" for k, v in RULE_KEYS.items()))
    add_db_argument(s)
    s.add_argument("--save", metavar="NAME")
    s.add_argument("--rule", metavar="JSON", help='e.g. {"industries": ["Healthcare"], "min_employees": 50}')
    s.add_argument("--remove", metavar="NAME", help="remove a segment no queue or territory uses")
    add_json_argument(s)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        return {"refresh": _refresh, "capacity": _capacity, "segments": _segments, "scores": _scores}[args.verb](args, store)
    except (SegmentProblem, ValueError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _scores(args, store) -> int:
    result = store_scores(store, today=args.today or date.today())
    emit(args, result.summary(), result.as_dict())
    return 0


def _refresh(args, store) -> int:
    rule = find_segment(store, args.segment)["rule"] if args.segment else None
    plan = plan_refresh(store, today=args.today or date.today(), untouched_days=args.untouched_days,
                        rest_days=args.rest_days, segment_rule=rule)
    if args.apply:
        apply_refresh(store, plan)
    text = plan.summary()
    for m in plan.refill[:5]:
        text += f"\n  {m.account} -> {m.rep}: {m.reason}"
    emit(args, text, plan.as_dict())
    return 0


def _capacity(args, store) -> int:
    if args.rep:
        try:
            rep = find_rep(store, args.rep)
        except KeyError as exc:
            raise CliError(f"--rep: {exc.args[0]}") from exc
        if args.book_max is None:
            raise CliError("--max is needed with --rep (the most accounts the book holds)")
        set_capacity(store, rep["id"], args.book_min, args.book_max)
    rows = book_sizes(store)
    text = "\n".join(f"{r['rep']:22} {r['accounts']:5} accounts   capacity "
                     + (f"{r['book_min'] or 0}–{r['book_max']}" if r["book_max"] else "not in dynamic books")
                     for r in rows)
    emit(args, text, {"books": rows})
    return 0


def _segments(args, store) -> int:
    if args.save:
        if not args.rule:
            raise CliError("--save needs --rule JSON")
        try:
            rule = json.loads(args.rule)
        except json.JSONDecodeError as exc:
            raise CliError(f"--rule: not JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(rule, dict):
            raise CliError("--rule: a JSON object, e.g. {\"industries\": [\"Healthcare\"]}")
        save_segment(store, args.save, check_rule(rule))
    if args.remove:
        delete_segment(store, args.remove)
    rows = list_segments(store)
    text = "\n".join(f"{r['name']:24} {r['accounts']:6,} accounts   {describe(r['rule'])}" for r in rows) or \
        "No segments yet: `fieldatlas books segments --save NAME --rule JSON`."
    emit(args, text, {"segments": rows})
    return 0
