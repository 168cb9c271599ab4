"""`fieldatlas rotation`: plan a rep's call rotation, apply it as visits, keep it current, show coverage by tier."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from core.rotation import planner
from core.routing.child import SolverCrashed
from desktop.cli.common import (
    BarProgress, CliError, add_db_argument, add_json_argument, emit, iso_date, open_store,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotation", help="plan, apply and follow a rep's call rotation over a 4–8 week cycle",
                       description="`plan` checks coverage and solves a cycle (`--save` keeps it as a draft); "
                                   "`apply` books a saved plan as visits; `replan` rolls missed visits forward; "
                                   "`time-off` adds a day off and re-plans; `move` edits a draft; `list` and "
                                   "`coverage` show saved plans and visits done / due per tier.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{plan,apply,replan,time-off,move,list,coverage}")

    pl = verbs.add_parser("plan", help="coverage check, then every visit a day of the cycle, each day routed")
    add_db_argument(pl)
    pl.add_argument("--rep", required=True, help="rep id, email or name")
    pl.add_argument("--weeks", type=int, default=4, help="cycle length in weeks (4–8 usual, 1–13 allowed; default 4)")
    pl.add_argument("--start", type=iso_date, default=None,
                    help="first day (YYYY-MM-DD, moved back to its Monday; default next Monday)")
    pl.add_argument("--workdays", default="mon-fri",
                    help="weekdays the rep works, e.g. mon-fri (default) or mon-sat")
    pl.add_argument("--seconds", type=float, default=20.0, help="solver time (default 20)")
    pl.add_argument("--seed", type=int, default=0, help="random seed")
    pl.add_argument("--save", action="store_true", help="save the rotation as a draft (rotation_plans + slots)")
    add_json_argument(pl)

    for name, text in (("apply", "book a saved plan's visits from today on (again: bring them in line)"),
                       ("replan", "roll missed visits forward, move visits off days off, re-apply"),
                       ("coverage", "visits done / due by today per account tier")):
        v = verbs.add_parser(name, help=text)
        add_db_argument(v)
        v.add_argument("--plan", type=int, required=True, help="rotation plan id (see `rotation list`)")
        v.add_argument("--today", type=iso_date, default=None, help="YYYY-MM-DD (default today in the rep's zone)")
        add_json_argument(v)

    off = verbs.add_parser("time-off", help="add a day off for a rep and re-plan their applied rotations")
    add_db_argument(off)
    off.add_argument("--rep", required=True, help="rep id, email or name")
    off.add_argument("--day", type=iso_date, required=True, help="YYYY-MM-DD")
    off.add_argument("--reason", default="time off", help="shown on the day (default 'time off')")
    off.add_argument("--today", type=iso_date, default=None, help="YYYY-MM-DD (default today in the rep's zone)")
    add_json_argument(off)

    mv = verbs.add_parser("move", help="edit a saved plan: move an account's visit to another day")
    add_db_argument(mv)
    mv.add_argument("--plan", type=int, required=True, help="rotation plan id")
    mv.add_argument("--account", type=int, required=True, help="account id")
    mv.add_argument("--from", dest="from_day", type=iso_date, required=True, help="the visit's day, YYYY-MM-DD")
    mv.add_argument("--to", dest="to_day", type=iso_date, required=True, help="the new day, YYYY-MM-DD")
    add_json_argument(mv)

    ls = verbs.add_parser("list", help="saved rotation plans, newest first")
    add_db_argument(ls)
    ls.add_argument("--rep", default=None, help="only this rep's plans (id, email or name)")
    add_json_argument(ls)
    p.set_defaults(func=run)


def _rep(store, text: str):
    from core.reps import find_rep

    try:
        return find_rep(store, text)
    except KeyError as exc:
        raise CliError(f"--rep: {exc.args[0]}") from exc


def run(args: argparse.Namespace) -> int:
    if args.verb == "plan":
        if not 1 <= args.weeks <= 13:
            raise CliError(f"--weeks: a cycle is 1 to 13 weeks, got {args.weeks}")
        if args.seconds <= 0:
            raise CliError(f"--seconds: must be positive, got {args.seconds}")
        try:
            args.workdays = planner.calendar.ordered_weekdays(args.workdays)
        except ValueError as exc:
            raise CliError(f"--workdays: {exc}") from exc
    store = open_store(args.db)
    try:
        return {"plan": _plan, "apply": _apply, "replan": _apply, "coverage": _coverage, "time-off": _time_off,
                "move": _move, "list": _list}[args.verb](store, args)
    except KeyError as exc:
        raise CliError(str(exc.args[0]) if exc.args else "not found") from exc
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _plan(store, args: argparse.Namespace) -> int:
    rep = _rep(store, args.rep)
    start = args.start or _next_monday(date.today())
    data = planner.prepare(store, rep["id"], start, args.weeks, workdays=args.workdays)
    coverage = data.coverage()
    if not args.json:
        print(coverage.summary(), flush=True)
    with BarProgress("Planning rotation") as bar:
        try:
            rotation = planner.solve_rotation_in_child(data, seconds=args.seconds, seed=args.seed, progress=bar)
        except SolverCrashed as exc:
            raise CliError(str(exc)) from None
    result = rotation.as_dict()
    if args.save:
        plan_id, _ = planner.save_rotation(store, rotation)
        result["plan_id"] = plan_id
    emit(args, _text(rotation, result.get("plan_id")), result)
    return 0


def _apply(store, args: argparse.Namespace) -> int:
    fn = planner.apply_rotation if args.verb == "apply" else planner.replan
    result = fn(store, args.plan, args.today)
    figures = planner.tier_coverage(store, args.plan, args.today)
    lines = [result.summary()]
    lines += [f"  {name} ({why})" for _, name, why in result.not_rebooked]
    lines.append(planner.coverage_text(figures))
    emit(args, "\n".join(lines), {**result.as_dict(), "coverage": [f.as_dict() for f in figures]})
    return 0


def _coverage(store, args: argparse.Namespace) -> int:
    plan = planner.get_plan(store, args.plan)
    figures = planner.tier_coverage(store, args.plan, args.today)
    lines = [f"Rotation plan {plan.id} ({plan.status}, {plan.start:%d %b} to {plan.end:%d %b %Y}):",
             planner.coverage_text(figures)]
    for f in figures:
        lines.append(f"  {f.tier:>7}: {f.done} done of {f.due} due, {f.missed} missed, {f.planned} in the plan")
    emit(args, "\n".join(lines), {"plan": plan.as_dict(), "coverage": [f.as_dict() for f in figures]})
    return 0


def _time_off(store, args: argparse.Namespace) -> int:
    rep = _rep(store, args.rep)
    results, _ = planner.add_time_off(store, rep["id"], args.day, args.reason, args.today)
    lines = [f"{rep['name']}: {args.day:%a %d %b %Y} off ({args.reason})."]
    lines += [r.summary() for r in results] or ["No applied rotation covers that day."]
    emit(args, "\n".join(lines), {"rep_id": rep["id"], "day": args.day.isoformat(),
                                  "replanned": [r.as_dict() for r in results]})
    return 0


def _move(store, args: argparse.Namespace) -> int:
    changes = planner.move_slot(store, args.plan, args.account, args.from_day, args.to_day)
    text = (f"Rotation plan {args.plan}: account {args.account} {changes.note}. "
            f"Run `fieldatlas rotation apply --plan {args.plan}` to move the booked visit too.")
    emit(args, text, {"plan_id": args.plan, "account_id": args.account, "from": args.from_day.isoformat(),
                      "to": args.to_day.isoformat()})
    return 0


def _list(store, args: argparse.Namespace) -> int:
    rep_id = _rep(store, args.rep)["id"] if args.rep else None
    plans = planner.list_plans(store, rep_id)
    names = {r["id"]: r["name"] for r in store.conn.execute("SELECT id, name FROM reps")}
    lines = [f"{p.id:5}  {names.get(p.rep_id, p.rep_id)}  {p.start} to {p.end}  {p.weeks} weeks  {p.slots} visits  "
             f"{p.status}" for p in plans] or ["No saved rotations."]
    emit(args, "\n".join(lines), [{**p.as_dict(), "rep": names.get(p.rep_id)} for p in plans])
    return 0


def _next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _text(rotation: planner.Rotation, plan_id: int | None) -> str:
    per_week = rotation.per_week
    lines = [f"Rotation for {rotation.rep_name}: {rotation.weeks} weeks from {rotation.start:%a %d %b %Y}, "
             f"{rotation.visit_count} visits, {rotation.total_drive_minutes / 60:.1f} h driving in total"]
    for i, day in enumerate(rotation.days):
        if i % per_week == 0:
            lines.append(f"Week {i // per_week + 1}")
        if day.off:
            lines.append(f"  {day.day:%a %d %b}: off ({day.off})")
            continue
        if not day.stops:
            lines.append(f"  {day.day:%a %d %b}: no visits")
            continue
        plural = "visit" if len(day.stops) == 1 else "visits"
        lines.append(f"  {day.day:%a %d %b}: {len(day.stops)} {plural}, {day.hours:.1f} h, "
                     f"{day.drive_minutes:.0f} min driving")
        for k, s in enumerate(day.stops, 1):
            lines.append(f"    {k:>2}. {s.arrive:>5}  {s.name}  ({s.drive_minutes:.0f} min drive)")
        for w in day.warnings:
            lines.append(f"    ! {w}")
    if rotation.unplaced:
        lines.append(f"Not placed ({len(rotation.unplaced)}):")
        for _, name, reason in rotation.unplaced[:25]:
            lines.append(f"  {name}: {reason}")
        if len(rotation.unplaced) > 25:
            lines.append(f"  … and {len(rotation.unplaced) - 25} more (all of them with --json)")
    if rotation.not_due:
        lines.append(f"{len(rotation.not_due)} quarterly accounts are not due in this cycle.")
    if plan_id is not None:
        lines.append(f"Saved as rotation plan {plan_id} (a draft: `fieldatlas rotation apply --plan {plan_id}` "
                     f"books its visits).")
    return "\n".join(lines)
