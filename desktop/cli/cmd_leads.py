"""`fieldatlas leads`: import inbound leads, edit scoring rules and queues, route leads and see why each went where."""

from __future__ import annotations

import argparse
from datetime import timezone

from core.importing.reading import FileProblem
from core.leads.importing import LeadImportProblem, import_leads
from core.leads.queues import MODES, QueueProblem, find_queue, queue_overview, remove_member, save_queue, set_member
from core.leads.routing import decisions_for, list_leads, route_leads
from core.leads.scoring import RuleProblem, parse_rule, rule_rows, save_rules
from core.reps import find_rep
from desktop.cli.common import (BarProgress, CliError, add_db_argument, add_json_argument, emit, open_store,
                                 zoned_time)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leads", help="import, score and route inbound leads through round-robin queues",
                       description="Inbound leads: import a CSV/XLSX, score and match them to accounts, and route "
                                   "them to reps through queues (round robin or best available rep).")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    imp = verbs.add_parser("import", help="import leads from a CSV or XLSX file",
                           description="Columns: company, contact, email, phone, postal code, industry, employees, "
                                       "source (also product, city, state, lead id, received). Good rows are imported; "
                                       "bad rows go to a rejects file with the reason.")
    imp.add_argument("file", metavar="FILE")
    add_db_argument(imp)
    imp.add_argument("--rejects", metavar="OUT.csv", help="where rejected rows go (default: FILE-rejects.csv)")
    add_json_argument(imp)

    route = verbs.add_parser("route", help="route every new lead and store each decision with its reason")
    add_db_argument(route)
    route.add_argument("--at", metavar="ISO-TIME", help="route as of this time (default now), e.g. 2026-11-20T15:00Z")
    add_json_argument(route)

    ls = verbs.add_parser("list", help="leads with their score, grade, rep and the reason for the last decision")
    add_db_argument(ls)
    ls.add_argument("--status", choices=("new", "assigned", "converted", "rejected"))
    ls.add_argument("--limit", type=int, default=50)
    add_json_argument(ls)

    why = verbs.add_parser("why", help="every routing decision stored for one lead")
    add_db_argument(why)
    why.add_argument("lead_id", type=int)
    add_json_argument(why)

    qs = verbs.add_parser("queues", help="queues, their members, weights, caps and lead counts")
    add_db_argument(qs)
    add_json_argument(qs)

    q = verbs.add_parser("queue", help="create or change a queue, add or remove reps",
                         description="Creates the queue NAME if it does not exist. A rep who joins starts level with "
                                     "the rep furthest behind; nothing already assigned moves.")
    q.add_argument("name", metavar="NAME")
    add_db_argument(q)
    q.add_argument("--mode", choices=MODES)
    q.add_argument("--sources", help="comma-separated lead sources this queue takes (empty: any)")
    q.add_argument("--states", help="comma-separated states this queue takes (empty: any)")
    q.add_argument("--min-score", type=int)
    q.add_argument("--segments", help="comma-separated saved segments (books segments): only leads from accounts in "
                                      "them, or matching their industry and size (empty: any)")
    q.add_argument("--priority", type=int, help="queues with a higher priority are tried first")
    q.add_argument("--hours-only", choices=("yes", "no"), help="only route to reps inside their working hours")
    q.add_argument("--add-rep", metavar="REP", help="rep id, email or name to add (or change, with --weight/--cap)")
    q.add_argument("--remove-rep", metavar="REP")
    q.add_argument("--weight", type=int, help="with --add-rep: share of leads (2 = twice as many)")
    q.add_argument("--cap", help="with --add-rep: most leads a day from this queue ('none' for no cap)")
    add_json_argument(q)

    rules = verbs.add_parser("rules", help="show or edit the scoring and grading rules",
                             description="Rules are KIND:VALUE=POINTS with KIND industry, employees (smallest size), "
                                         "source or grade (the lowest score for A, B or C). New leads are rescored.")
    add_db_argument(rules)
    rules.add_argument("--set", action="append", default=[], metavar="KIND:VALUE=POINTS")
    rules.add_argument("--remove", action="append", default=[], metavar="KIND:VALUE")
    add_json_argument(rules)
    p.set_defaults(func=run)


def _rep(store, text: str) -> dict:
    try:
        return find_rep(store, text)
    except KeyError as exc:
        raise CliError(f"rep: {exc.args[0]}") from exc


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        return VERBS[args.verb](args, store)
    except (QueueProblem, RuleProblem, LeadImportProblem, FileProblem) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _import(args, store) -> int:
    with BarProgress("Importing leads") as bar:
        result = import_leads(store, args.file, rejects_path=args.rejects, progress=bar)
    text = result.summary()
    if result.rejects:
        text += "\nFirst problems:\n" + "\n".join("  " + r.text() for r in result.rejects[:5])
    emit(args, text, result.as_dict())
    return 0


def _route(args, store) -> int:
    at = zoned_time(args.at)
    with BarProgress("Routing leads") as bar:
        result = route_leads(store, at=at.astimezone(timezone.utc) if at else None, progress=bar)
    text = result.summary()
    for a in result.assignments[:10]:
        text += f"\n  lead {a['lead_id']} -> {a['rep']}: {a['reason']}"
    if len(result.assignments) > 10:
        text += f"\n  … and {len(result.assignments) - 10:,} more (see `fieldatlas leads list`)"
    for w in result.waiting[:5]:
        text += f"\n  lead {w['lead_id']} waits: {w['reason']}"
    emit(args, text, result.as_dict())
    return 0


def _list(args, store) -> int:
    rows = list_leads(store, status=args.status, limit=args.limit)
    text = "\n".join(f"{r['id']:6} {r['grade'] or '-'} {r['score'] or 0:3}  {(r['company'] or '')[:32]:32} "
                     f"{r['status']:9} {r['rep'] or '':18} {r['reason'] or ''}" for r in rows) or "No leads."
    emit(args, text, {"leads": rows})
    return 0


def _why(args, store) -> int:
    rows = decisions_for(store, args.lead_id)
    if not rows and not store.scalar("SELECT 1 FROM leads WHERE id = ?", (args.lead_id,)):
        raise CliError(f"lead {args.lead_id} does not exist")
    text = "\n".join(f"{r['created_at']}  {r['kind']:14} {r['rep'] or '(waiting)'}: {r['reason']}" for r in rows)
    emit(args, text or f"Lead {args.lead_id} has not been routed yet.", {"lead_id": args.lead_id, "decisions": rows})
    return 0


def _queues(args, store) -> int:
    data = queue_overview(store)
    lines = []
    for q in data:
        lines.append(f"{q['name']} (#{q['id']}, {q['mode'].replace('_', ' ')}, priority {q['priority']}, takes {q['takes']}"
                     + (", working hours only" if q["hours_only"] else "") + ")")
        for m in q["members"]:
            cap = f"cap {m['daily_cap']}/day" if m["daily_cap"] is not None else "no cap"
            lines.append(f"  {m['rep']:22} weight {m['weight']}  {cap:12} {m['leads']:5} leads"
                         + ("" if m["active"] else "  (paused)"))
    emit(args, "\n".join(lines) or "No queues yet: `fieldatlas leads queue NAME --db D --add-rep REP`.", {"queues": data})
    return 0


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [s.strip() for s in text.split(",") if s.strip()]


def _queue(args, store) -> int:
    if (args.weight is not None or args.cap is not None) and not args.add_rep:
        raise CliError("--weight and --cap go with --add-rep REP")
    existed = find_queue(store, args.name) is not None
    qid, changes = save_queue(store, args.name, mode=args.mode, sources=_split(args.sources), states=_split(args.states),
                              min_score=args.min_score, priority=args.priority, segments=_split(args.segments),
                              hours_only=None if args.hours_only is None else args.hours_only == "yes")
    done = [f"{'Changed' if existed else 'Created'} queue {args.name}."]
    if args.add_rep:
        rep = _rep(store, args.add_rep)
        cap: int | None | str = "keep"
        if args.cap is not None:
            if args.cap.lower() == "none":
                cap = None
            elif args.cap.isdigit():
                cap = int(args.cap)
            else:
                raise CliError(f"--cap: a number of leads a day or 'none', not {args.cap!r}")
        set_member(store, qid, rep["id"], weight=args.weight, daily_cap=cap)
        done.append(f"{rep['name']} is in the queue.")
    if args.remove_rep:
        rep = _rep(store, args.remove_rep)
        remove_member(store, qid, rep["id"])
        done.append(f"{rep['name']} left the queue (their leads stay with them).")
    emit(args, " ".join(done), {"queue_id": qid, "queue": next(q for q in queue_overview(store) if q["id"] == qid)
                                if any(q["id"] == qid for q in queue_overview(store)) else None})
    return 0


def _rules(args, store) -> int:
    if args.set or args.remove:
        sets = [parse_rule(t) for t in args.set]
        removes = []
        for t in args.remove:
            kind, _, match = t.partition(":")
            if not match:
                raise CliError(f"--remove {t!r}: write KIND:VALUE, e.g. source:Web form")
            removes.append((kind.strip().lower(), match.strip()))
        changes = save_rules(store, sets, removes)
        note = f"Saved. {len(changes.ids('leads'))} new leads rescored."
    else:
        note = ""
    rows = rule_rows(store)
    text = "\n".join(f"  {k:10} {m:24} {p:4}" for k, m, p in rows)
    emit(args, (note + "\n" if note else "") + text, {"rules": [{"kind": k, "match": m, "points": p} for k, m, p in rows]})
    return 0


VERBS = {"import": _import, "route": _route, "list": _list, "why": _why, "queues": _queues, "queue": _queue,
         "rules": _rules}
