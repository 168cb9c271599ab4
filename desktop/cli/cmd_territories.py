"""`fieldatlas territories`: list the tree, report rule problems, ask who owned an account on a date, handle scenarios."""

from __future__ import annotations

import argparse
import json

from core import reps as reps_service
from core.balancing.scenarios import (
    ScenarioError, apply_scenario, compare_scenario, discard_scenario, list_scenarios, scenario_moves,
)
from core.balancing.explain import WORKLOAD_MEASURE
from core.money import format_cents
from core.territories.engagement import engagement_report
from core.territories.history import find_account, owner_on, ownership_history
from core.territories.rules import describe_rule
from core.territories.service import TerritoryError, create_territory, territory_figures, territory_tree
from desktop.cli.common import CliError, add_json_argument, emit, open_store

SUBCOMMANDS = ("list", "report", "owner", "history", "add", "hire", "scenarios", "compare", "apply", "discard")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("territories", help="territories, rules of engagement, ownership history and scenarios",
                       description="Territories and their rules: list the tree with figures, report conflicts "
                                   "and orphans, ask who owned an account on a date, and review or apply "
                                   "balancing scenarios.")
    inner = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--db", metavar="PATH", required=True, help="the FieldAtlas database file")
        add_json_argument(q)

    common(inner.add_parser("list", help="the territory tree with accounts, potential and workload"))
    q = inner.add_parser("report", help="conflicts (equal precedence), orphans (no territory), owners who differ")
    common(q)
    q.add_argument("--limit", type=int, default=20, help="rows shown per problem in text output (default 20)")
    q = inner.add_parser("owner", help="who owned an account on a date")
    common(q)
    q.add_argument("account", help="account number, CRM id or exact name")
    q.add_argument("--on", metavar="YYYY-MM-DD", required=True, help="the date")
    q = inner.add_parser("history", help="every ownership period of an account")
    common(q)
    q.add_argument("account", help="account number, CRM id or exact name")
    q = inner.add_parser("add", help="add a territory with a rule")
    common(q)
    q.add_argument("--name", required=True)
    q.add_argument("--kind", required=True, help="geographic, industry, customer_size, customer_type, product, "
                                                 "channel or named")
    q.add_argument("--rule", required=True, help='rule JSON, e.g. \'{"industries": ["Healthcare"]}\'')
    q.add_argument("--level", default="territory", help="region, district or territory (default territory)")
    q.add_argument("--parent", type=int, help="parent territory id")
    q.add_argument("--precedence", type=int, default=0, help="higher wins when rules overlap (default 0)")
    q.add_argument("--owner", help="owner rep (id, email or name)")
    q.add_argument("--color", help="#RRGGBB")
    q = inner.add_parser("hire", help="add a field rep (home at a ZIP code) to plan a territory for")
    common(q)
    q.add_argument("--name", required=True)
    q.add_argument("--home-zip", required=True, help="the ZIP code the rep starts from")
    q.add_argument("--hours", type=float, default=40.0, help="hours per week (default 40)")
    q.add_argument("--weeks", type=int, default=46, help="working weeks a year (default 46)")
    common(inner.add_parser("scenarios", help="saved balancing scenarios"))
    q = inner.add_parser("compare", help="a scenario beside today, per rep, and its moves")
    common(q)
    q.add_argument("scenario", type=int)
    q = inner.add_parser("apply", help="apply a scenario (a manager only)")
    common(q)
    q.add_argument("scenario", type=int)
    q.add_argument("--as", dest="acting_as", metavar="PERSON", required=True, help="the manager applying it")
    q.add_argument("--effective", metavar="YYYY-MM-DD", help="date the new owners take over (default today)")
    q = inner.add_parser("discard", help="discard a draft scenario")
    common(q)
    q.add_argument("scenario", type=int)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        return {"list": _list, "report": _report, "owner": _owner, "history": _history, "add": _add, "hire": _hire,
                "scenarios": _scenarios, "compare": _compare, "apply": _apply, "discard": _discard}[args.action](
            store, args)
    finally:
        store.close()


def _list(store, args) -> int:
    figures = territory_figures(store)
    rows, lines = [], []

    def walk(nodes, depth):
        for node in nodes:
            t = node["territory"]
            f = figures[t.id]
            rows.append({"id": t.id, "name": t.name, "kind": t.kind, "level": t.level, "parent_id": t.parent_id,
                         "precedence": t.precedence, "owner_id": f.owner_id, "owner": f.owner, "rule": dict(t.rule),
                         "accounts": f.accounts, "potential_cents": f.potential_cents,
                         "workload_hours": f.workload_hours, "goal_cents": f.goal_cents,
                         "goal_period": f.goal_period,
                         "color": t.color})
            lines.append(f"{'  ' * depth}{t.id:>4} {t.name} [{t.level}, {t.kind}, precedence {t.precedence}] "
                         f"owner {f.owner or '-'}: {f.accounts:,} accounts, ${f.potential_cents / 100:,.0f} potential, "
                         f"{f.workload_hours:,.0f} h workload — {describe_rule(t.rule)}")
            walk(node["children"], depth + 1)

    walk(territory_tree(store), 0)
    emit(args, "\n".join(lines) or "No territories yet.", {"territories": rows})
    return 0


def _report(store, args) -> int:
    report = engagement_report(store)
    data = report.as_dict()
    n = args.limit
    lines = [f"{report.accounts:,} accounts: {len(report.conflicts):,} conflicts, {len(report.orphans):,} orphans, "
             f"{len(report.disagreements):,} owners differ from the rules"]
    if report.conflicts:
        lines.append("Conflicts (equal precedence; the first listed wins for now):")
        lines += [f"  {c.account_id:>6} {c.account}: {' / '.join(c.territories)} (precedence {c.precedence})"
                  for c in report.conflicts[:n]]
    if report.orphans:
        lines.append("Orphans (no territory matches):")
        lines += [f"  {i:>6} {name}" for i, name in report.orphans[:n]]
    if report.disagreements:
        lines.append("Owner differs from the rules:")
        lines += [f"  {d.account_id:>6} {d.account}: owner {d.owner or 'nobody'}, rules say {d.rule_owner} "
                  f"({d.territory})" for d in report.disagreements[:n]]
    emit(args, "\n".join(lines), data)
    return 0


def _account(store, text):
    try:
        return find_account(store, text)
    except KeyError as exc:
        raise CliError(f"account: {exc.args[0]}") from None


def _owner(store, args) -> int:
    account = _account(store, args.account)
    try:
        rep_id = owner_on(store, account["id"], args.on)
    except ValueError as exc:
        raise CliError(f"--on: {exc}") from None
    name = store.scalar("SELECT name FROM reps WHERE id = ?", (rep_id,)) if rep_id else None
    emit(args, f"{account['name']} was owned by {name or 'nobody'} on {args.on}",
         {"account_id": account["id"], "account": account["name"], "date": args.on, "rep_id": rep_id, "rep": name})
    return 0


def _history(store, args) -> int:
    account = _account(store, args.account)
    rows = ownership_history(store, account["id"])
    lines = [f"{account['name']}:"] + [f"  {r['valid_from']} – {r['valid_to'] or 'now':<10} {r['rep'] or 'nobody'}"
                                       f"  ({r['reason'] or ''})" for r in rows]
    emit(args, "\n".join(lines), {"account_id": account["id"], "account": account["name"], "history": rows})
    return 0


def _add(store, args) -> int:
    try:
        rule = json.loads(args.rule)
    except json.JSONDecodeError as exc:
        raise CliError(f"--rule: not valid JSON ({exc.msg})") from None
    owner = None
    if args.owner:
        try:
            owner = reps_service.find_rep(store, args.owner)["id"]
        except KeyError as exc:
            raise CliError(f"--owner: {exc.args[0]}") from None
    try:
        tid, _ = create_territory(store, {"name": args.name, "kind": args.kind, "level": args.level,
                                          "parent_id": args.parent, "rule": rule, "precedence": args.precedence,
                                          "owner_id": owner, "color": args.color})
    except TerritoryError as exc:
        raise CliError(str(exc)) from None
    emit(args, f"Added territory {tid} {args.name}", {"territory_id": tid})
    return 0


def _hire(store, args) -> int:
    from core.balancing.flows import hire_rep

    try:
        rep_id, _ = hire_rep(store, args.name, args.home_zip, args.hours, args.weeks)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    emit(args, f"Added rep {rep_id} {args.name}; plan their territory with: fieldatlas balance --add-rep {rep_id}",
         {"rep_id": rep_id, "name": args.name})
    return 0


def _scenarios(store, args) -> int:
    rows = list_scenarios(store)
    lines = [f"{r['id']:>4} {r['name']} [{r['kind']}, {r['status']}] {r['moved'] or 0:,} moves, "
             f"max deviation {r['max_deviation_pct']}%" for r in rows]
    emit(args, "\n".join(lines) or "No scenarios yet; make one with fieldatlas balance.", {"scenarios": rows})
    return 0


def _compare(store, args) -> int:
    try:
        c = compare_scenario(store, args.scenario)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    moves = scenario_moves(store, args.scenario)
    lines = [f"Scenario {c.scenario_id} {c.name} ({c.status}): {c.moved:,} moves"
             + (f", {c.stale:,} out of date" if c.stale else ""),
             f"{'Rep':<24} {'Accounts':>15} {'Workload h':>17} {'Travel h':>15} {'Target h':>15} {'Potential':>29}"]
    for a, b in zip(c.today, c.scenario):
        lines.append(f"{a['name'][:24]:<24} {a['accounts']:>6,} → {b['accounts']:<6,} {a['workload_hours']:>7,.0f} → "
                     f"{b['workload_hours']:<7,.0f} {a['travel_hours']:>6,.0f} → {b['travel_hours']:<6,.0f} "
                     f"{a['target_hours']:>6,.0f} → {b['target_hours']:<6,.0f} "
                     f"{format_cents(a['potential_cents'], whole=True):>13} → "
                     f"{format_cents(b['potential_cents'], whole=True):<13}")
    lines.append(f"{'Total':<24} {'':>15} {sum(a['workload_hours'] for a in c.today):>7,.0f} → "
                 f"{sum(b['workload_hours'] for b in c.scenario):<7,.0f} {sum(a['travel_hours'] for a in c.today):>6,.0f} → "
                 f"{sum(b['travel_hours'] for b in c.scenario):<6,.0f}")
    lines.append(f"{WORKLOAD_MEASURE}; the total changes by exactly the change in travel")
    emit(args, "\n".join(lines), {**c.as_dict(), "moves": moves})
    return 0


def _apply(store, args) -> int:
    try:
        acting = reps_service.find_rep(store, args.acting_as)["id"]
    except KeyError as exc:
        raise CliError(f"--as: {exc.args[0]}") from None
    try:
        changes = apply_scenario(store, args.scenario, acting, args.effective)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    n = len(changes.ids("accounts"))
    emit(args, f"Applied scenario {args.scenario}: {n:,} accounts changed owner",
         {"scenario_id": args.scenario, "applied": True, "accounts_changed": n})
    return 0


def _discard(store, args) -> int:
    try:
        discard_scenario(store, args.scenario)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    emit(args, f"Discarded scenario {args.scenario}", {"scenario_id": args.scenario, "discarded": True})
    return 0
