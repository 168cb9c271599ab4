"""`fieldatlas trip`: log trips (typed distance, odometer, or a day's route), list, edit, delete; mileage rates."""

from __future__ import annotations

import argparse
from datetime import date

from core import settings as settings_mod
from core.expenses import (SCHEMES, DayAlreadyLogged, add_trip, add_trips_from_route, delete_trip, list_trips, rate_list,
                           set_rate, set_rep_scheme, update_trip)
from core.expenses.common import check_period, parse_day
from core.expenses.trips import add_trips_for_days, week_so_far
from core.money import format_cents
from core.routing.matrix import provider_for
from core.storage.database import Store
from desktop.cli.cmd_expense import actor_id, add_actor_argument, off_report_note, person_id, run_on_store
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, iso_date


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trip", help="log mileage trips and set mileage rates",
                       description="Trips for the mileage log (date, start, destination, business purpose, miles, "
                                   "vehicle): `add` one, `from-route` logs a day's route leg by leg, `list`, `edit`, "
                                   "`delete`; `rates` and `rate-set` show and set reimbursement rates.")
    verbs = p.add_subparsers(dest="verb", required=True)
    a = verbs.add_parser("add", help="log a trip from a distance or odometer readings")
    add_db_argument(a)
    a.add_argument("--date", required=True, help="YYYY-MM-DD (not in the future)")
    a.add_argument("--rep", default=None, help="whose trip (id, email or name); default the only rep")
    a.add_argument("--start", default=None, help="where the trip started")
    a.add_argument("--to", dest="destination", required=True, help="destination")
    a.add_argument("--purpose", default=None, help="business purpose (required for business trips)")
    a.add_argument("--miles", default=None, help="distance in miles")
    a.add_argument("--km", default=None, help="distance in km")
    a.add_argument("--odometer-start", default=None)
    a.add_argument("--odometer-end", default=None)
    a.add_argument("--unit", choices=("mi", "km"), default="mi", help="odometer unit (default mi)")
    a.add_argument("--vehicle", default=None)
    a.add_argument("--kind", choices=("business", "commute", "personal"), default="business",
                   help="commute and personal trips are logged but not reimbursed")
    a.add_argument("--account", type=int, default=None, metavar="ID")
    add_actor_argument(a)
    add_json_argument(a)
    fr = verbs.add_parser("from-route", help="log a day's accepted route (or visits) as one trip per leg")
    add_db_argument(fr)
    fr.add_argument("--rep", default=None)
    fr.add_argument("--date", required=True, help="YYYY-MM-DD")
    fr.add_argument("--vehicle", default=None)
    fr.add_argument("--week", action="store_true",
                    help="every working day from that week's Monday to --date (days with nothing to log are skipped)")
    # A day whose driving was already typed is refused unless the rep says which of the two is true.
    same_day = fr.add_mutually_exclusive_group()
    same_day.add_argument("--replace", action="store_true",
                          help="the day's trips typed by hand are the same driving: swap them for the route's legs")
    same_day.add_argument("--keep", action="store_true",
                          help="the day's trips typed by hand are other driving: log the legs beside them")
    add_actor_argument(fr)
    add_json_argument(fr)
    ls = verbs.add_parser("list", help="a month's trips with miles, rate and amount")
    add_db_argument(ls)
    ls.add_argument("--period", required=True, help="YYYY-MM")
    ls.add_argument("--rep", default=None)
    add_json_argument(ls)
    ed = verbs.add_parser("edit", help="change a trip (not once its report is submitted)")
    add_db_argument(ed)
    ed.add_argument("trip_id", type=int)
    ed.add_argument("--purpose", default=None)
    ed.add_argument("--start", default=None)
    ed.add_argument("--to", dest="destination", default=None)
    ed.add_argument("--vehicle", default=None)
    ed.add_argument("--kind", choices=("business", "commute", "personal"), default=None)
    add_actor_argument(ed)
    add_json_argument(ed)
    de = verbs.add_parser("delete", help="delete a trip (not once its report is submitted)")
    add_db_argument(de)
    de.add_argument("trip_id", type=int)
    add_actor_argument(de)
    add_json_argument(de)
    rs = verbs.add_parser("rates", help="mileage rates in force, built-in and set")
    add_db_argument(rs)
    rs.add_argument("--scheme", choices=tuple(SCHEMES), default=None)
    add_json_argument(rs)
    st = verbs.add_parser("rate-set", help="set a mileage rate from a date (e.g. IRS 2026)")
    add_db_argument(st)
    st.add_argument("--scheme", choices=tuple(SCHEMES), required=True)
    st.add_argument("--from", dest="effective_from", type=iso_date, required=True)
    st.add_argument("--to", dest="effective_to", type=iso_date, default=None)
    st.add_argument("--rate", required=True, help="per mile or km, e.g. 0.725")
    st.add_argument("--above", default=None, help="rate beyond the yearly tier (CRA, HMRC)")
    st.add_argument("--tier-limit", type=int, default=None, help="miles or km per tax year at --rate")
    add_json_argument(st)
    sc = verbs.add_parser("scheme", help="which rates pay a rep's trips (IRS, CRA, HMRC)")
    add_db_argument(sc)
    sc.add_argument("--rep", required=True)
    sc.add_argument("--scheme", choices=tuple(SCHEMES), required=True)
    add_json_argument(sc)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_on_store(args, _run)


def _trip_line(t: dict) -> str:
    return (f"{t['id']:6}  {t['day']}  {t['rep_name'][:16]:16} {t['miles']:>7} mi  {t['pay'].rate_text():>6}  "
            f"{format_cents(t['amount_cents'], t['currency']):>10}  {t['kind']:8} "
            f"{(t['start_place'] or '')[:20]} -> {(t['end_place'] or '')[:30]}: {(t['purpose'] or '')[:40]}")


def _run(store: Store, args: argparse.Namespace) -> int:
    if args.verb == "add":
        if args.miles is not None and args.km is not None:
            raise CliError("--miles/--km: give one")
        distance, unit = (args.miles, "mi") if args.miles is not None else (args.km, "km") if args.km is not None \
            else (None, args.unit)
        tid, changes = add_trip(store, person_id(store, args.rep, "--rep"), args.date, start=args.start,
                                destination=args.destination, purpose=args.purpose, distance=distance, unit=unit,
                                odometer_start=args.odometer_start, odometer_end=args.odometer_end,
                                vehicle=args.vehicle, kind=args.kind, account_id=args.account,
                                actor_id=actor_id(store, args))
        t = next(t for t in list_trips(store, first=date.fromisoformat(args.date), last=date.fromisoformat(args.date))
                 if t["id"] == tid)
        emit(args, "Trip " + _trip_line(t).strip() + off_report_note(t["report_id"]), _json(t))
    elif args.verb == "from-route":
        settings = settings_mod.load()
        rep_id = person_id(store, args.rep, "--rep")
        day = parse_day(args.date, "--date")
        matrix = provider_for(settings.routing_url)
        skipped: list[str] = []
        existing = "replace" if args.replace else "keep" if args.keep else "refuse"
        if args.week:
            ids, skipped, changes = add_trips_for_days(store, rep_id, week_so_far(store, rep_id, day), matrix=matrix,
                                                       vehicle=args.vehicle, actor_id=actor_id(store, args),
                                                       existing=existing)
            if not ids:
                raise CliError("nothing to log: " + "; ".join(skipped))
        else:
            try:
                ids, changes = add_trips_from_route(store, rep_id, day, matrix=matrix, vehicle=args.vehicle,
                                                    actor_id=actor_id(store, args), existing=existing)
            except DayAlreadyLogged as exc:
                raise CliError(f"{exc} (--replace or --keep)") from None
        first = date.fromordinal(day.toordinal() - day.weekday()) if args.week else day
        rows = [t for t in list_trips(store, first=first, last=day, rep_id=rep_id) if t["id"] in set(ids)]
        emit(args, f"Logged {len(ids)} trips ({changes.note}):\n" + "\n".join(_trip_line(t) for t in rows)
             + "".join(f"\nskipped {s}" for s in skipped), [_json(t) for t in rows])
    elif args.verb == "list":
        first, last = check_period(args.period)
        rep_id = person_id(store, args.rep, "--rep") if args.rep else None
        rows = list_trips(store, first=first, last=last, rep_id=rep_id)
        emit(args, "\n".join(_trip_line(t) for t in rows) or f"No trips in {args.period}", [_json(t) for t in rows])
    elif args.verb == "edit":
        values = {k: v for k, v in (("purpose", args.purpose), ("start_place", args.start),
                                    ("end_place", args.destination), ("vehicle", args.vehicle), ("kind", args.kind))
                  if v is not None}
        if not values:
            raise CliError("edit: give at least one of --purpose --start --to --vehicle --kind")
        changes = update_trip(store, args.trip_id, values, actor_id=actor_id(store, args))
        emit(args, f"Trip {args.trip_id}: {changes.note or 'nothing changed'}", {"trip": args.trip_id})
    elif args.verb == "delete":
        delete_trip(store, args.trip_id, actor_id=actor_id(store, args))
        emit(args, f"Trip {args.trip_id} deleted", {"deleted": args.trip_id})
    elif args.verb == "rates":
        rates = rate_list(store, args.scheme)
        emit(args, "\n".join(f"{r.scheme:5} {r.effective_from} to {r.effective_to or 'open':10}  {r.describe():48} "
                             f"{'built in' if r.id is None else 'set'}: {r.source}" for r in rates),
             [dict(r.__dict__) for r in rates])
    elif args.verb == "scheme":
        rep_id = person_id(store, args.rep, "--rep")
        changes = set_rep_scheme(store, rep_id, args.scheme)
        emit(args, f"{args.rep}: {changes.note or 'already ' + args.scheme}", {"rep_id": rep_id, "scheme": args.scheme})
    else:
        rid, changes = set_rate(store, args.scheme, args.effective_from, args.rate, effective_to=args.effective_to,
                                tier_limit=args.tier_limit, above=args.above)
        emit(args, f"Rate {rid}: {changes.note}", {"rate_id": rid})
    return 0


def _json(t: dict) -> dict:
    out = {k: v for k, v in t.items() if k != "pay"}
    out["rate"] = t["pay"].rate_text()
    return out
