"""`fieldatlas balance`: balance workload (or potential) across reps with CP-SAT and save the plan as a scenario."""

from __future__ import annotations

import argparse

from core import reps as reps_service
from core.balancing import in_child
from core.balancing.explain import describe_travel
from core.balancing.model import BY_CHOICES, BalanceOptions
from core.balancing.scenarios import ScenarioError, apply_scenario, save_scenario
from core.money import format_cents
from desktop.cli.common import BarProgress, CliError, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "balance", help="balance territories across reps and save the plan as a scenario",
        description="Find a plan where every rep's workload (visits x (visit time + travel from home)) is "
                    "within a tolerance of their share, travel is low, locked and named accounts stay, and at "
                    "most K% of accounts change owner. The plan is saved as a draft scenario; --apply (as a "
                    "manager) gives the accounts to their new reps and records the ownership history.")
    p.add_argument("--db", metavar="PATH", required=True, help="the FieldAtlas database file")
    p.add_argument("--reps", metavar="ID,...", help="balance only these reps (ids or names, comma-separated)")
    p.add_argument("--tolerance", metavar="PCT", type=float, default=2.0,
                   help="allowed deviation from each rep's target in percent (default 2)")
    p.add_argument("--max-moves", metavar="PCT", type=float, default=100.0,
                   help="at most this percent of accounts may change owner (default 100)")
    p.add_argument("--seconds", metavar="S", type=float, default=20.0, help="time limit (default 20)")
    p.add_argument("--by", choices=BY_CHOICES, default="workload", help="what to balance (default workload)")
    p.add_argument("--candidates", type=int, default=12, help="nearest reps each account may go to (default 12)")
    flow = p.add_mutually_exclusive_group()
    flow.add_argument("--add-rep", metavar="REP", help="plan a fair share for this new rep with few moves")
    flow.add_argument("--remove-rep", metavar="REP", help="spread this leaving rep's accounts over the others")
    p.add_argument("--name", help="scenario name (default: kind and time)")
    p.add_argument("--no-save", action="store_true", help="do not save a scenario (just print the figures)")
    p.add_argument("--apply", action="store_true", help="apply the plan now (needs --as a manager)")
    p.add_argument("--as", dest="acting_as", metavar="PERSON", help="who is acting (id, email or name)")
    p.add_argument("--effective", metavar="YYYY-MM-DD", help="date the new owners take over (default today)")
    add_json_argument(p)
    p.set_defaults(func=run)


def _rep_id(store, text: str, what: str) -> int:
    try:
        return int(reps_service.find_rep(store, text)["id"])
    except KeyError as exc:
        raise CliError(f"{what}: {exc.args[0]}") from None


def run(args: argparse.Namespace) -> int:
    if args.apply and args.no_save:
        raise CliError("--apply needs the scenario saved; drop --no-save")
    store = open_store(args.db)
    try:
        acting = _rep_id(store, args.acting_as, "--as") if args.acting_as else None
        if args.apply:
            if acting is None:
                raise CliError("--apply needs --as PERSON, a manager (e.g. --as 'Dana Whitfield')")
            try:
                from core.balancing.scenarios import require_manager

                require_manager(store, acting)
            except ScenarioError as exc:
                raise CliError(str(exc)) from None
        rep_ids = None
        if args.reps:
            rep_ids = tuple(_rep_id(store, part, "--reps") for part in args.reps.split(",") if part.strip())
        try:
            options = BalanceOptions(rep_ids=rep_ids, tolerance_pct=args.tolerance, max_moves_pct=args.max_moves,
                                     seconds=args.seconds, by=args.by, candidates=max(1, args.candidates))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        kind = "balance"
        try:
            rep_id = 0
            if args.add_rep:
                kind, rep_id = "add_rep", _rep_id(store, args.add_rep, "--add-rep")
            elif args.remove_rep:
                kind, rep_id = "remove_rep", _rep_id(store, args.remove_rep, "--remove-rep")
            with BarProgress("Balancing") as bar:
                # In a child process, as in the app: a crash inside CP-SAT is one line here, not a core dump.
                result = in_child.run(str(store.path), kind, rep_id, options, bar)
        except (ValueError, in_child.SolverCrashed) as exc:
            raise CliError(str(exc)) from None
        data = result.as_dict()
        data["scenario_id"] = None
        data["applied"] = False
        if not args.no_save:
            data["scenario_id"], _changes = save_scenario(store, result, args.name, kind=kind)
        if args.apply:
            if result.status != "balanced":
                emit(args, _text(data), data)
                raise CliError(f"not applied: the plan misses the targets ({'; '.join(result.reasons) or 'see above'})")
            try:
                apply_scenario(store, data["scenario_id"], acting, args.effective)
            except ScenarioError as exc:
                raise CliError(str(exc)) from None
            data["applied"] = True
        emit(args, _text(data), data)
    finally:
        store.close()
    return 0


def _text(d: dict) -> str:
    lines = [f"{'Rep':<24} {'Accounts':>8} {'Workload h':>11} {'Travel h':>9} {'Target h':>9} {'Dev %':>7} "
             f"{'Potential':>14}"]
    for r in d["reps"]:
        lines.append(f"{r['name'][:24]:<24} {r['accounts']:>8,} {r['workload_hours']:>11,.0f} {r['travel_hours']:>9,.0f} "
                     f"{r['target_hours']:>9,.0f} {r['deviation_pct']:>+7.1f} {format_cents(r['potential_cents'], whole=True):>14}")
    lines.append(d["measure"])
    status = "balanced" if d["status"] == "balanced" else "NOT balanced"
    lines.append(f"{status}: max deviation {d['max_deviation_pct']:.2f}% (today {d['before_max_deviation_pct']:.1f}%), "
                 f"{d['moved']:,} of {d['accounts']:,} accounts move, {d['seconds']:.1f} s")
    lines += describe_travel(d)
    for reason in d["reasons"]:
        lines.append(f"note: {reason}")
    if d.get("scenario_id"):
        lines.append(f"saved as scenario {d['scenario_id']}" + (" and applied" if d.get("applied") else
                     "; apply with: fieldatlas territories apply " + str(d["scenario_id"]) + " --as MANAGER"))
    return "\n".join(lines)
