"""`fieldatlas goals`: set goals per rep or territory and period, and report them against results (XLSX/PDF too)."""

from __future__ import annotations

import argparse

from core.goals.periods import PeriodProblem
from core.goals.report import ReportProblem, build_report, export_report
from core.goals.results import METRICS, GoalProblem, set_goal

from core.reps import find_rep
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("goals", help="set goals and report goals against results",
                       description="Goals per rep or territory and period (2026, 2026-Q4, 2026-11) for revenue, "
                                   "visits or new accounts; results come from done visits and imported deals.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    s = verbs.add_parser("set", help="set (or change) a goal")
    add_db_argument(s)
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--rep", help="rep id, email or name")
    who.add_argument("--territory", help="territory id or name")
    s.add_argument("--period", required=True, help="2026, 2026-Q4 or 2026-11")
    s.add_argument("--metric", required=True, choices=("revenue", "visits", "new_accounts"))
    s.add_argument("--target", required=True, help="dollars for revenue ($250,000 or 250000), else a count")
    add_json_argument(s)
    r = verbs.add_parser("report", help="goals against results, coverage, visits per week, mileage per territory")
    add_db_argument(r)
    r.add_argument("--period", help="default: the latest period with goals")
    r.add_argument("--out", metavar="FILE.xlsx|FILE.pdf", help="also export the report to this file")
    add_json_argument(r)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        return _set(args, store) if args.verb == "set" else _report(args, store)
    except (GoalProblem, PeriodProblem, ReportProblem) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _set(args, store) -> int:
    from core.money import parse_cents

    rep_id = territory_id = None
    if args.rep:
        try:
            rep_id = find_rep(store, args.rep)["id"]
        except KeyError as exc:
            raise CliError(f"--rep: {exc.args[0]}") from exc
    else:
        row = store.conn.execute("SELECT id FROM territories WHERE deleted_at IS NULL AND (CAST(id AS TEXT) = ? "
                                 "OR lower(name) = lower(?))", (args.territory, args.territory)).fetchone()
        if row is None:
            raise CliError(f"--territory: no territory {args.territory!r}")
        territory_id = row["id"]
    try:
        target = parse_cents(args.target) if args.metric == "revenue" else int(args.target.replace(",", ""))
    except ValueError:
        raise CliError(f"--target: not a number: {args.target!r}") from None
    gid, _ = set_goal(store, period=args.period, metric=args.metric, target=target or 0, rep_id=rep_id,
                      territory_id=territory_id)
    emit(args, f"Goal {gid} set.", {"goal_id": gid})
    return 0


def _report(args, store) -> int:
    report = build_report(store, args.period)
    lines = [f"Goals against results, {report.period}:"]
    for g in report.goals:
        lines.append(f"  {g.who:28} {METRICS.get(g.metric, g.metric):13} {g.formatted(g.result):>12} of "
                     f"{g.formatted(g.target):>12}  {100 * g.attainment:5.0f} %")
    if report.coverage:
        lines.append(f"Coverage ({report.coverage_basis} done of due): " + ", ".join(
            f"{c['rep']} {c['pct']:.0f} %" for c in report.coverage))
    lines.append("Visits per week: " + ", ".join(f"{w['week'][5:]} {w['visits']}" for w in report.weeks))
    lines.append("Business miles per territory: " + ", ".join(f"{m['territory']} {m['miles']:,.0f}" for m in report.mileage))
    data = report.as_dict()
    if args.out:
        path = export_report(report, args.out)
        lines.append(f"Exported to {path}")
        data["exported"] = str(path)
    emit(args, "\n".join(lines), data)
    return 0



