"""`fieldatlas rotation`: plan a rep's call rotation (coverage check, then each week's days routed)."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from core.rotation import planner
from desktop.cli.common import (
    BarProgress, CliError, add_db_argument, add_json_argument, emit, iso_date, open_store,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotation", help="plan a rep's call rotation over a 4–8 week cycle",
                       description="Check whether the rep's hours cover their accounts' visit frequencies, then "
                                   "assign every visit a day of the cycle and route each day.")
    add_db_argument(p)
    p.add_argument("--rep", required=True, help="rep id, email or name")
    p.add_argument("--weeks", type=int, default=4, help="cycle length in weeks (4–8 usual, 1–13 allowed; default 4)")
    p.add_argument("--start", type=iso_date, default=None,
                   help="first day (YYYY-MM-DD, moved back to its Monday; default next Monday)")
    p.add_argument("--seconds", type=float, default=20.0, help="solver time (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--save", action="store_true", help="save the rotation (rotation_plans + rotation_slots)")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.reps import find_rep

    if not 1 <= args.weeks <= 13:
        raise CliError(f"--weeks: a cycle is 1 to 13 weeks, got {args.weeks}")
    if args.seconds <= 0:
        raise CliError(f"--seconds: must be positive, got {args.seconds}")
    store = open_store(args.db)
    try:
        try:
            rep = find_rep(store, args.rep)
        except KeyError as exc:
            raise CliError(f"--rep: {exc.args[0]}") from exc
        start = args.start or _next_monday(date.today())
        try:
            data = planner.prepare(store, rep["id"], start, args.weeks)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        coverage = data.coverage()
        if not args.json:
            print(coverage.summary(), flush=True)
        with BarProgress("Planning rotation") as bar:
            rotation = planner.solve_rotation(data, seconds=args.seconds, seed=args.seed, progress=bar)
        result = rotation.as_dict()
        if args.save:
            plan_id, _ = planner.save_rotation(store, rotation)
            result["plan_id"] = plan_id
        emit(args, _text(rotation, result.get("plan_id")), result)
    finally:
        store.close()
    return 0


def _next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _text(rotation: planner.Rotation, plan_id: int | None) -> str:
    lines = [f"Rotation for {rotation.rep_name}: {rotation.weeks} weeks from {rotation.start:%a %d %b %Y}, "
             f"{rotation.visit_count} visits, {rotation.total_drive_minutes / 60:.1f} h driving in total"]
    for i, day in enumerate(rotation.days):
        if i % 5 == 0:
            lines.append(f"Week {i // 5 + 1}")
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
        lines.append(f"Saved as rotation plan {plan_id}.")
    return "\n".join(lines)
