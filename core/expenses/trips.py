"""Trips for the mileage log (IRS Pub 463: date, start, destination, business purpose, distance, vehicle).

A trip comes from a day's accepted route or visits (one trip per leg, distances from the travel
matrix), from odometer readings, or from a typed distance. Commute and personal trips are logged but
not paid. Distances are kept in metres; miles and km are shown to a tenth.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP
from typing import Any, Mapping, Sequence

from core import defaults
from core.changes import Changes
from core.clock import local_days_in_utc
from core.expenses.common import (ExpenseError, MILE_M, audit, check_unlocked, km, miles, open_report_for, parse_day,
                                  person, today_utc)
from core.expenses.rates import pay_trips, rate_on, rates_for
from core.routing.matrix import MatrixProvider, provider_for
from core.storage import writes
from core.storage.database import Store

KINDS = ("business", "commute", "personal")
MAX_TRIP_M = 2_000_000  # 1,240 miles in a day is a typo, not a trip


def _distance_m(value: str | Decimal | int, unit: str, field: str) -> int:
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ExpenseError(f"{field}: not a distance: {value!r}") from None
    if not d.is_finite():
        raise ExpenseError(f"{field}: not a distance: {value!r}")
    if d < 0:
        raise ExpenseError(f"{field}: {value} is negative")
    metres = d * (MILE_M if unit == "mi" else 1000)
    return int(metres.quantize(Decimal(1), ROUND_HALF_UP))


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ExpenseError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    return kind


def add_trip(store: Store, rep_id: int, day: date | str, *, start: str, destination: str, purpose: str,
             distance: str | Decimal | None = None, unit: str = "mi", odometer_start: str | Decimal | None = None,
             odometer_end: str | Decimal | None = None, vehicle: str | None = None, kind: str = "business",
             account_id: int | None = None, actor_id: int | None = None,
             today: date | None = None) -> tuple[int, Changes]:
    """Log one trip from a typed distance or odometer readings; refused with a reason when the input is wrong."""
    rep = person(store, rep_id, "rep")
    day = parse_day(day, today=today)
    _check_kind(kind)
    if unit not in ("mi", "km"):
        raise ExpenseError(f"unit: {unit!r} is not mi or km")
    if kind == "business" and not (purpose or "").strip():
        raise ExpenseError("purpose: a business trip needs its business purpose (IRS Pub 463)")
    if not (destination or "").strip():
        raise ExpenseError("destination: where did the trip go?")
    source = "typed"
    start_reading = end_reading = None
    if odometer_start is not None or odometer_end is not None:
        if odometer_start is None or odometer_end is None:
            raise ExpenseError("odometer: give both the start and the end reading")
        try:
            start_reading, end_reading = Decimal(str(odometer_start)), Decimal(str(odometer_end))
        except InvalidOperation:
            raise ExpenseError(f"odometer: not readings: {odometer_start!r}, {odometer_end!r}") from None
        if start_reading < 0:
            raise ExpenseError(f"odometer start: {odometer_start} is negative")
        if end_reading < start_reading:
            raise ExpenseError(f"odometer end: {odometer_end} is below the start reading {odometer_start}")
        if distance is not None:
            raise ExpenseError("distance: give a distance or odometer readings, not both")
        distance_m = _distance_m(end_reading - start_reading, unit, "odometer")
        source = "odometer"
    elif distance is None:
        raise ExpenseError("distance: give a distance or the odometer start and end")
    else:
        distance_m = _distance_m(distance, unit, "distance")
    if distance_m > MAX_TRIP_M:
        raise ExpenseError(f"distance: {distance} {unit} is more than a day's drive; check the number")
    scheme = rep_scheme(store, rep_id)
    if kind == "business":
        rate_on(rates_for(store, scheme), day, scheme)  # refuse now rather than fail every later listing
    actor = actor_id if actor_id is not None else rep_id
    with store.atomic():
        report_id = open_report_for(store, rep_id, day, actor)
        tid = writes.insert(store, "trips", {
            "rep_id": rep_id, "day": day.isoformat(), "purpose": (purpose or "").strip() or None,
            "start_place": (start or "").strip() or None, "end_place": destination.strip(),
            "start_odometer": float(start_reading) if start_reading is not None else None,
            "end_odometer": float(end_reading) if end_reading is not None else None,
            "distance_m": distance_m, "route_id": None, "account_id": account_id, "vehicle": vehicle,
            "business": int(kind == "business"), "report_id": report_id, "kind": kind, "distance_source": source,
            "entered_unit": unit, "rate_scheme": scheme, "visit_id": None})
        audit(store, report_id, actor, "trip added", item_table="trips", item_id=tid,
              detail={"day": day.isoformat(), "distance_m": distance_m, "kind": kind})
    return tid, Changes.of("trips", [tid], f"trip added for {rep['name']}").merge(Changes.of("expense_reports", [report_id] if report_id else []))


def rep_scheme(store: Store, rep_id: int) -> str:
    return store.scalar("SELECT mileage_scheme FROM reps WHERE id = ?", (rep_id,)) or "IRS"


def _place(account: Mapping[str, Any]) -> str:
    where = ", ".join(x for x in (account["street"], account["city"], account["state"]) if x)
    return f"{account['name']} ({where})" if where else account["name"]


def route_legs(store: Store, rep_id: int, day: date) -> tuple[str, list[dict[str, Any]]]:
    """The day's stops in driving order: the accepted route's stops, else the day's visits by planned time.

    Returns (source, stops) where each stop has account fields and, when known, the visit.
    """
    rep = store.conn.execute("SELECT * FROM reps WHERE id = ?", (rep_id,)).fetchone()
    route = store.conn.execute(
        "SELECT * FROM routes WHERE deleted_at IS NULL AND rep_id = ? AND day = ? AND status IN ('accepted', 'done') "
        "ORDER BY id DESC LIMIT 1", (rep_id, day.isoformat())).fetchone()
    if route is not None:
        stops = store.conn.execute(
            "SELECT a.*, s.seq, v.id AS visit_id, v.status AS visit_status FROM route_stops s "
            "JOIN accounts a ON a.id = s.account_id "
            "LEFT JOIN visits v ON v.route_id = s.route_id AND v.account_id = s.account_id AND v.deleted_at IS NULL "
            "WHERE s.route_id = ? AND s.deleted_at IS NULL ORDER BY s.seq", (route["id"],)).fetchall()
        return "route", [dict(s, route_id=route["id"]) for s in stops if s["visit_status"] not in ("cancelled", "missed")]
    lo, hi = local_days_in_utc(day, 1, rep["time_zone"] or defaults.TIME_ZONE)
    stops = store.conn.execute(
        "SELECT a.*, v.id AS visit_id, v.status AS visit_status FROM visits v JOIN accounts a ON a.id = v.account_id "
        "WHERE v.deleted_at IS NULL AND v.rep_id = ? AND v.planned_start >= ? AND v.planned_start < ? "
        "AND v.status IN ('planned', 'done') ORDER BY v.planned_start, v.id", (rep_id, lo, hi)).fetchall()
    return "visits", [dict(s, route_id=None) for s in stops]


def purpose_for(store: Store, stop: Mapping[str, Any]) -> str:
    """'Customer visit: Acme Supply' plus the visit's own purpose or outcome when it has one."""
    text = f"Customer visit: {stop['name']}"
    if stop.get("visit_id"):
        cols = writes.columns(store, "visits")
        extra = [c for c in ("purpose", "outcome") if c in cols]
        if extra:
            row = store.conn.execute(f"SELECT {', '.join(extra)} FROM visits WHERE id = ?", (stop["visit_id"],)).fetchone()
            detail = next((row[c] for c in extra if row[c]), None)
            if detail:
                text += f" ({detail})"
    return text


def draft_trips_from_route(store: Store, rep_id: int, day: date | str, *, matrix: MatrixProvider | None = None,
                           vehicle: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """The trips a day's route would log, one per leg (home, each account, home), not yet written.

    Each has start, destination, purpose (from the visited account, editable before saving),
    distance_m from the travel matrix, and the visit it leads to.
    """
    day = parse_day(day, today=today)
    rep = store.conn.execute("SELECT * FROM reps WHERE id = ? AND deleted_at IS NULL", (rep_id,)).fetchone()
    if rep is None:
        raise ExpenseError(f"rep: no rep with id {rep_id}")
    source, stops = route_legs(store, rep_id, day)
    stops = [s for s in stops if s["lat"] is not None and s["lon"] is not None]
    if not stops:
        raise ExpenseError(f"{rep['name']} has no accepted route or visits with a location on {day.isoformat()}")
    if rep["home_lat"] is None:
        raise ExpenseError(f"{rep['name']} has no home location to start the day from")
    home = (rep["home_lat"], rep["home_lon"])
    home_name = f"Home, {rep['home_city']}" if rep["home_city"] else "Home"
    points = [home] + [(s["lat"], s["lon"]) for s in stops] + [home]
    m = (matrix or provider_for()).matrix(points)
    legs = []
    names = [home_name] + [_place(s) for s in stops] + [home_name]
    for k in range(len(points) - 1):
        to_stop = stops[k] if k < len(stops) else None
        legs.append({
            "rep_id": rep_id, "day": day.isoformat(), "start_place": names[k], "end_place": names[k + 1],
            "purpose": purpose_for(store, to_stop) if to_stop else f"Return from {stops[-1]['name']}",
            "distance_m": int(round(m.distance[k][k + 1])), "account_id": to_stop["id"] if to_stop else None,
            "visit_id": to_stop.get("visit_id") if to_stop else None,
            "route_id": stops[0].get("route_id"), "source": source, "vehicle": vehicle, "kind": "business"})
    return legs


# What to do with business trips already logged by hand (typed or odometer) on the day of a route.
EXISTING_CHOICES = ("refuse", "replace", "keep")


class DayAlreadyLogged(ExpenseError):
    """The day already has business trips logged by hand: the route's legs would likely count that driving twice."""

    def __init__(self, message: str, day: str, trips: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.day = day
        self.trips = trips


def hand_logged_trips(store: Store, rep_id: int, day: date | str) -> list[dict[str, Any]]:
    """The day's business trips not made from a route or visits (typed or from odometer readings)."""
    the_day = day.isoformat() if isinstance(day, date) else str(day)
    return [dict(r) for r in store.conn.execute(
        "SELECT id, day, start_place, end_place, distance_m, distance_source, report_id FROM trips "
        "WHERE deleted_at IS NULL AND rep_id = ? AND day = ? AND kind = 'business' "
        "AND distance_source NOT IN ('route', 'visits') ORDER BY id", (rep_id, the_day))]


def describe_trips(trips: Sequence[Mapping[str, Any]]) -> str:
    """'trip 12 (Home, Austin -> Home, Austin, 204.9 mi)' for each, for messages."""
    return ", ".join(f"trip {t['id']} ({t['start_place'] or '?'} -> {t['end_place'] or '?'}, {miles(t['distance_m'])} mi)"
                     for t in trips)


def add_trips_from_route(store: Store, rep_id: int, day: date | str, *, matrix: MatrixProvider | None = None,
                         vehicle: str | None = None, purposes: Sequence[str] | None = None,
                         actor_id: int | None = None, today: date | None = None,
                         existing: str = "refuse") -> tuple[list[int], Changes]:
    """Log the day's legs as trips (purposes as given, else filled from the visits); refuses a day already logged.

    A day that already has business trips typed or read from the odometer is refused too
    (DayAlreadyLogged, naming them): a rep who typed the day's drive and then logs the route would be
    paid twice for the same miles. existing="replace" deletes those trips and logs the legs in one
    transaction (both or neither); existing="keep" logs the legs beside them (different driving).
    """
    if existing not in EXISTING_CHOICES:
        raise ExpenseError(f"existing trips: must be one of {', '.join(EXISTING_CHOICES)} (got {existing!r})")
    legs = draft_trips_from_route(store, rep_id, day, matrix=matrix, vehicle=vehicle, today=today)
    if purposes is not None:
        if len(purposes) != len(legs):
            raise ExpenseError(f"purposes: {len(purposes)} given for {len(legs)} legs")
        for leg, text in zip(legs, purposes):
            if not (text or "").strip():
                raise ExpenseError(f"purpose: leg to {leg['end_place']} needs a business purpose")
            leg["purpose"] = text.strip()
    the_day = legs[0]["day"]
    already = store.scalar("SELECT count(*) FROM trips WHERE deleted_at IS NULL AND rep_id = ? AND day = ? "
                           "AND distance_source IN ('route', 'visits')", (rep_id, the_day))
    if already:
        raise ExpenseError(f"trips from the route of {the_day} are already logged ({already}); delete them first")
    others = hand_logged_trips(store, rep_id, the_day)
    if others and existing == "refuse":
        one = len(others) == 1
        raise DayAlreadyLogged(
            f"{the_day} already has {describe_trips(others)} logged by hand; the route's {len(legs)} legs would "
            f"count that driving twice: replace {'it' if one else 'them'} with the legs, or keep both if "
            f"{'it is' if one else 'they are'} other driving",
            the_day, others)
    replaced = others if existing == "replace" else []
    for t in replaced:
        check_unlocked(store, t["report_id"], f"trip {t['id']}")
    actor = actor_id if actor_id is not None else rep_id
    scheme = rep_scheme(store, rep_id)
    rate_on(rates_for(store, scheme), date.fromisoformat(the_day), scheme)
    with store.atomic():
        for t in replaced:
            writes.delete(store, "trips", t["id"])
            audit(store, t["report_id"], actor, "trip deleted", item_table="trips", item_id=t["id"],
                  detail={"replaced by": f"the route of {the_day}"})
        report_id = open_report_for(store, rep_id, date.fromisoformat(the_day), actor)
        ids = writes.insert_many(store, "trips", [{
            "rep_id": rep_id, "day": leg["day"], "purpose": leg["purpose"], "start_place": leg["start_place"],
            "end_place": leg["end_place"], "start_odometer": None, "end_odometer": None,
            "distance_m": leg["distance_m"], "route_id": leg["route_id"], "account_id": leg["account_id"],
            "vehicle": leg["vehicle"], "business": 1, "report_id": report_id, "kind": "business",
            "distance_source": leg["source"], "entered_unit": "mi", "rate_scheme": scheme,
            "visit_id": leg["visit_id"]} for leg in legs])
        detail: dict[str, Any] = {"day": the_day, "trips": len(ids), "distance_m": sum(l["distance_m"] for l in legs)}
        if replaced:
            detail["replaced_trips"] = [t["id"] for t in replaced]
        audit(store, report_id, actor, "trips added from route", item_table="trips", item_id=ids[0], detail=detail)
    note = f"{len(ids)} trips from {the_day}"
    if replaced:
        note += f" (replacing {describe_trips(replaced)})"
    elif others:
        note += f" (beside {describe_trips(others)}, kept as other driving)"
    changes = Changes.of("trips", ids + [t["id"] for t in replaced], note)
    return ids, changes.merge(Changes.of("expense_reports", sorted(
        {report_id} | {t["report_id"] for t in replaced} - {None})))


EDITABLE = ("purpose", "start_place", "end_place", "vehicle", "kind", "distance_m", "day", "account_id")


def update_trip(store: Store, trip_id: int, values: Mapping[str, Any], *, actor_id: int | None = None,
                today: date | None = None) -> Changes:
    """Edit a trip (purpose, places, vehicle, kind, distance); refused when its report is submitted or approved."""
    row = trip(store, trip_id)
    check_unlocked(store, row["report_id"], f"trip {trip_id}")
    unknown = [k for k in values if k not in EDITABLE]
    if unknown:
        raise ExpenseError(f"{unknown[0]}: cannot be edited on a trip")
    new = dict(values)
    if "kind" in new:
        _check_kind(new["kind"])
        new["business"] = int(new["kind"] == "business")
    if "day" in new:
        d = parse_day(new["day"], today=today)
        if d.isoformat()[:7] != row["day"][:7]:
            raise ExpenseError("date: move a trip within its month (its report is per month)")
        new["day"] = d.isoformat()
    if "distance_m" in new and (int(new["distance_m"]) < 0 or int(new["distance_m"]) > MAX_TRIP_M):
        raise ExpenseError(f"distance: {new['distance_m']} m is not a trip's distance")
    kind = new.get("kind", row["kind"])
    if kind == "business" and not str(new.get("purpose", row["purpose"]) or "").strip():
        raise ExpenseError("purpose: a business trip needs its business purpose (IRS Pub 463)")
    with store.atomic():
        old = writes.update(store, "trips", trip_id, new)
        if old:
            audit(store, row["report_id"], actor_id if actor_id is not None else row["rep_id"], "trip edited",
                  item_table="trips", item_id=trip_id, detail={k: {"from": old[k], "to": new[k]} for k in old})
    return Changes.of("trips", [trip_id], "trip edited") if old else Changes()


def delete_trip(store: Store, trip_id: int, *, actor_id: int | None = None) -> Changes:
    row = trip(store, trip_id)
    check_unlocked(store, row["report_id"], f"trip {trip_id}")
    with store.atomic():
        writes.delete(store, "trips", trip_id)
        audit(store, row["report_id"], actor_id if actor_id is not None else row["rep_id"], "trip deleted",
              item_table="trips", item_id=trip_id)
    return Changes.of("trips", [trip_id], "trip deleted")


def trip(store: Store, trip_id: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM trips WHERE id = ? AND deleted_at IS NULL", (trip_id,)).fetchone()
    if row is None:
        raise ExpenseError(f"trip {trip_id} does not exist")
    return dict(row)


def list_trips(store: Store, *, first: date, last: date, rep_id: int | None = None) -> list[dict[str, Any]]:
    """Trips in the date range with miles, km, rate and amount (tiers counted from the tax year's start)."""
    sql = ("SELECT t.*, r.name AS rep_name, er.state AS report_state FROM trips t JOIN reps r ON r.id = t.rep_id "
           "LEFT JOIN expense_reports er ON er.id = t.report_id "
           "WHERE t.deleted_at IS NULL AND t.day >= ? AND t.day <= ?")
    params: list[Any] = [first.isoformat(), last.isoformat()]
    if rep_id is not None:
        sql += " AND t.rep_id = ?"
        params.append(rep_id)
    rows = [dict(r) for r in store.conn.execute(sql + " ORDER BY r.name, t.day, t.id", params)]
    paid = pay_trips(store, rows)
    for r in rows:
        p = paid[r["id"]]
        r["miles"] = miles(r["distance_m"])
        r["km"] = km(r["distance_m"])
        r["pay"] = p
        r["amount_cents"] = p.amount_cents
        r["currency"] = p.currency
    return rows


def week_so_far(store: Store, rep_id: int, day: date, today: date | None = None) -> list[date]:
    """The rep's working days from the Monday of `day`'s week up to that day (time off left out)."""
    from core.planning.week import working_days

    monday = date.fromordinal(day.toordinal() - day.weekday())
    limit = min(day, today or today_utc())
    return [d for d in working_days(store, rep_id, monday, 7) if d <= limit]


def add_trips_for_days(store: Store, rep_id: int, days: Sequence[date], *, matrix: MatrixProvider | None = None,
                       vehicle: str | None = None, actor_id: int | None = None,
                       today: date | None = None, existing: str = "refuse") -> tuple[list[int], list[str], Changes]:
    """Log several days' routes (e.g. the week so far); a day with nothing to log is skipped with its reason.

    Returns (trip ids, one line per skipped day, Changes). Each day is its own transaction, so a
    skipped day never undoes the others.
    """
    ids: list[int] = []
    skipped: list[str] = []
    changes = Changes()
    for day in days:
        try:
            new, c = add_trips_from_route(store, rep_id, day, matrix=matrix, vehicle=vehicle, actor_id=actor_id,
                                          today=today, existing=existing)
        except ExpenseError as exc:
            skipped.append(f"{day.isoformat()}: {exc}")
            continue
        ids += new
        changes = changes.merge(c)
    note = f"{len(ids)} trips from {len(days) - len(skipped)} of {len(days)} days"
    return ids, skipped, Changes(changes.rows, note)
