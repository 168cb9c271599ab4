"""`fieldatlas plan`: plan a rep's visits over some days, print or export them, optionally accept them."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

from core.account_value import read_accounts
from core.files import CannotWrite, write_atomically
from core.planning import PlanOptions, WeekPlan, accept, plan_week
from core.reps import find_rep
from core.routing import clock
from desktop.cli.common import (
    BarProgress, CliError, add_db_argument, add_json_argument, emit, iso_date, open_store,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="plan a rep's visit routes for some days",
                       description="Choose the accounts that are due, route them day by day (opening hours, lunch, "
                                   "driving limit, tiers A before B before C) and print the itinerary.")
    add_db_argument(p)
    p.add_argument("--rep", required=True, help="rep id, email or name")
    p.add_argument("--start", required=True, type=iso_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--days", type=int, default=5, help="calendar days from --start (weekends skipped; default 5)")
    p.add_argument("--seconds", type=float, default=None, help="search time limit (default: 2 s per day for several days, under a second for one day)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-drive", type=int, default=300, metavar="MIN", help="daily driving limit in minutes")
    p.add_argument("--lunch", type=int, default=30, metavar="MIN", help="lunch break minutes (0 = none)")
    p.add_argument("--hotel", action="append", default=[], metavar="DATE:LAT,LON",
                   help="spend the night of DATE at a hotel (that day ends there, the next starts there); repeatable")
    p.add_argument("--appointment", action="append", default=[], metavar="ACCOUNT@YYYY-MM-DDTHH:MM",
                   help="a fixed appointment (local time) that the plan keeps; repeatable")
    p.add_argument("--ics", metavar="OUT", help="write the visits as an iCalendar file")
    p.add_argument("--gpx", metavar="OUT", help="write the routes as GPX")
    p.add_argument("--links", action="store_true", help="print Google Maps directions links per day")
    p.add_argument("--accept", action="store_true", help="save the plan: routes and planned visits")
    add_json_argument(p)
    p.set_defaults(func=run)


def _write(path: str, data: bytes | str) -> None:
    """Write via a temp file and rename so a failed export never leaves half a file."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        write_atomically(path, lambda tmp: Path(tmp).write_bytes(payload))
    except CannotWrite as exc:
        raise CliError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def _hotels(values: list[str]) -> dict[date, tuple[float, float]]:
    out = {}
    for text in values:
        try:
            day, coords = text.split(":", 1)
            lat, lon = (float(x) for x in coords.split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
            out[date.fromisoformat(day)] = (lat, lon)
        except ValueError:
            raise CliError(f"--hotel: expected DATE:LAT,LON such as 2026-11-30:30.27,-97.74 (got {text!r})") from None
    return out


def _appointments(store, values: list[str]) -> dict[int, datetime]:
    out = {}
    for text in values:
        try:
            account, when = text.split("@", 1)
            out[int(account)] = datetime.fromisoformat(when)
        except ValueError:
            raise CliError(f"--appointment: expected ACCOUNT_ID@YYYY-MM-DDTHH:MM (got {text!r})") from None
        if not read_accounts(store, ids=[int(account)]):
            raise CliError(f"--appointment: account {account} does not exist")
    return out


def plan_as_dict(plan: WeekPlan) -> dict:
    """The plan in JSON-friendly form (local times in the rep's zone, plus UTC)."""
    days = []
    for r in plan.result.routes:
        days.append({
            "day": r.shift_id, "stops": len(r.visits), "leave": plan.at(r.leave).isoformat() if r.visits else None,
            "back": plan.at(r.back).isoformat() if r.visits else None, "drive_minutes": round(r.drive_minutes, 1),
            "distance_m": round(r.distance), "lunch": plan.at(r.break_start).isoformat() if r.break_start else None,
            "warnings": list(r.warnings), "filled": round(plan.fill(r.shift_id), 3),
            "short_because": plan.notes.get(r.shift_id),
            "visits": [{"account_id": v.stop_id, "name": plan.name(v.stop_id),
                        "tier": plan.accounts.get(v.stop_id, {}).get("tier"),
                        "ahead_of_schedule": bool(plan.accounts.get(v.stop_id, {}).get("pulled_forward")),
                        "booked": bool(plan.accounts.get(v.stop_id, {}).get("booked_day")),
                        "arrive": plan.at(v.arrival).isoformat(), "start": plan.at(v.start).isoformat(),
                        "leave": plan.at(v.departure).isoformat(), "start_utc": plan.utc_iso(v.start),
                        "drive_minutes": round(v.drive_minutes, 1), "distance_m": round(v.distance)}
                       for v in r.visits]})
    return {"rep": {"id": plan.rep["id"], "name": plan.rep["name"], "time_zone": plan.rep["time_zone"]},
            "start": plan.start.isoformat(), "days": days,
            "skipped": [{"day": d.isoformat(), "why": why} for d, why in sorted(plan.skipped.items())],
            "unserved": [{"account_id": u.stop_id, "name": plan.name(u.stop_id), "reason": u.reason}
                         for u in plan.result.unserved],
            "not_open": [{"account_id": aid, "name": plan.name(aid), "reason": why}
                         for aid, why in sorted(plan.not_open.items())],
            "drive_minutes": round(plan.result.drive_minutes, 1), "distance_m": round(plan.result.distance),
            "runtime_s": round(plan.result.runtime, 2)}


def plan_as_text(plan: WeekPlan) -> str:
    lines = [f"Plan for {plan.rep['name']} from {plan.start}: {len(plan.result.served)} visits, "
             f"{plan.result.drive_minutes:.0f} min driving, {plan.result.distance / 1609.344:,.0f} mi"]
    for r in plan.result.routes:
        why = f"\n  short: {plan.notes[r.shift_id]}" if r.shift_id in plan.notes else ""
        if not r.visits:
            lines.append(f"\n{r.shift_id}: no visits{why}")
            continue
        lines.append(f"\n{r.shift_id}: leave {clock(r.leave % 1440)}, back {clock(r.back % 1440)}, "
                     f"{r.drive_minutes:.0f} min driving, {r.distance / 1609.344:.0f} mi, "
                     f"{plan.fill(r.shift_id):.0%} of working hours{why}")
        for k, v in enumerate(r.visits, 1):
            acc = plan.accounts.get(v.stop_id, {})
            ahead = (f", ahead of schedule (due {acc['due']})" if acc.get("pulled_forward")
                     else ", booked for this day" if acc.get("booked_day") else "")
            lines.append(f"  {k:2}. {clock(v.start % 1440)}–{clock(v.departure % 1440)}  {plan.name(v.stop_id)}"
                         f" ({acc.get('city') or ''}, tier {acc.get('tier') or '-'}), {v.drive_minutes:.0f} min drive"
                         f"{ahead}")
        if r.break_start is not None:
            lines.append(f"      lunch {clock(r.break_start % 1440)}–{clock(r.break_end % 1440)}")
        for w in r.warnings:
            lines.append(f"  ! {w}")
    for d, why in sorted(plan.skipped.items()):
        if why != "weekend":
            lines.append(f"\n{d.isoformat()}: {why}, nothing planned")
    if plan.result.unserved:
        lines.append(f"\nNot planned ({len(plan.result.unserved)}):")
        for u in plan.result.unserved:
            lines.append(f"  {_labelled(plan, u.stop_id)}: {u.reason}")
    if plan.not_open:
        lines.append(f"\nDue, but no planned day will do ({len(plan.not_open)}):")
        for aid, why in sorted(plan.not_open.items()):
            lines.append(f"  {_labelled(plan, aid)}: {why}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.days < 1 or args.days > 31:
        raise CliError(f"--days: must be between 1 and 31 (got {args.days})")
    if args.seconds is not None and args.seconds <= 0:
        raise CliError(f"--seconds: must be positive (got {args.seconds})")
    store = open_store(args.db)
    try:
        try:
            rep = find_rep(store, args.rep)
        except KeyError as exc:
            raise CliError(f"--rep: {exc.args[0]}") from exc
        from core.settings import load

        options = PlanOptions(lunch_minutes=max(0, args.lunch), max_drive_minutes=args.max_drive or None,
                              routing_url=load().routing_url, hotels=_hotels(args.hotel),
                              appointments=_appointments(store, args.appointment))
        try:
            with BarProgress("Planning") as bar:
                plan = plan_week(store, rep["id"], args.start, args.days, seconds=args.seconds, seed=args.seed,
                                 options=options, progress=bar)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        data = plan_as_dict(plan)
        text = plan_as_text(plan)
        if args.ics:
            from core.exports import plan_to_ics

            _write(args.ics, plan_to_ics(plan))
            text += f"\nWrote calendar {args.ics}"
            data["ics"] = args.ics
        if args.gpx:
            from core.exports import plan_to_gpx

            _write(args.gpx, plan_to_gpx(plan))
            text += f"\nWrote GPX {args.gpx}"
            data["gpx"] = args.gpx
        if args.links:
            from core.exports import plan_links

            links = plan_links(plan)
            data["links"] = links
            text += "\n\nDirections links:" + "".join(
                f"\n{day}:\n" + "\n".join(f"  {u}" for u in urls) for day, urls in links.items())
        if args.accept:
            changes = accept(store, plan)
            data["accepted"] = {"routes": sorted(changes.ids("routes")), "visits": len(changes.ids("visits"))}
            text += f"\nSaved: {changes.note}"
        emit(args, text, data)
    finally:
        store.close()
    return 0


def _labelled(plan, account_id: str) -> str:
    """An account's name with its tier, as the Plan view shows it: the reasons do not repeat the tier."""
    tier = plan.accounts.get(account_id, {}).get("tier")
    return f"{plan.name(account_id)} (tier {tier})" if tier else plan.name(account_id)
