"""A deterministic, realistic demo database: reps in real cities, accounts at real ZIP centroids, three months of history."""

from __future__ import annotations

import json
import math
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from core.clock import utc_text
from core.geo import haversine_m, road_m
from core.progress import Progress, check_cancelled
from core.storage import writes
from core.storage.database import open_database, remove_database_files

FIRST = ["Maria", "James", "Aisha", "Carlos", "Emily", "Daniel", "Priya", "Marcus", "Sofia", "Tyler",
         "Grace", "Luis", "Hannah", "Andre", "Olivia", "Noah", "Chloe", "Diego", "Megan", "Samuel",
         "Rachel", "Kevin", "Isabel", "Jordan", "Natalie", "Victor", "Lauren", "Ethan", "Camila", "Ryan"]
LAST = ["Garcia", "Nguyen", "Johnson", "Patel", "Martinez", "Williams", "Brown", "Hernandez", "Lee",
        "Davis", "Lopez", "Wilson", "Anderson", "Thomas", "Moore", "Jackson", "Clark", "Lewis", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green", "Adams", "Baker"]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
          "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
          "#31a354", "#756bb1", "#636363", "#fd8d3c", "#74c476", "#9e9ac8", "#6baed6", "#fdae6b", "#a1d99b"]
# (industry, weight, revenue per employee in dollars, name nouns, opening-hours style)
INDUSTRIES = [
    ("Healthcare", 14, 140_000, ["Medical Group", "Family Clinic", "Dental Care", "Health Partners"], "clinic"),
    ("Manufacturing", 13, 260_000, ["Fabrication", "Manufacturing", "Machine Works", "Industries"], "office"),
    ("Retail", 12, 180_000, ["Market", "Outfitters", "Supply Store", "Mercantile"], "retail"),
    ("Construction", 10, 230_000, ["Builders", "Construction", "Contractors", "Roofing"], "early"),
    ("Hospitality", 9, 90_000, ["Grill", "Hotel", "Kitchen", "Cafe"], "restaurant"),
    ("Automotive", 8, 300_000, ["Auto Center", "Motors", "Collision Repair", "Tire & Service"], "retail"),
    ("Professional Services", 8, 170_000, ["Consulting", "Law Group", "Accounting", "Associates"], "office"),
    ("Agriculture", 7, 210_000, ["Farms", "Feed & Seed", "Ranch Supply", "Growers"], "early"),
    ("Energy", 6, 450_000, ["Energy", "Oilfield Services", "Power", "Pipeline"], "early"),
    ("Education", 5, 95_000, ["Academy", "Learning Center", "Schools", "College"], "office"),
    ("Logistics", 5, 200_000, ["Logistics", "Freight", "Transport", "Distribution"], "early"),
    ("Technology", 3, 320_000, ["Systems", "Technologies", "Software", "Data"], "office"),
]
PLACE_WORDS = ["Lone Star", "Bluebonnet", "Pecan", "Cedar", "Brazos", "Red River", "Gulf Coast", "Hill Country",
               "Prairie", "Mesquite", "Trinity", "Pinewood", "Sunbelt", "Alamo", "Frontier", "Canyon",
               "Live Oak", "Riverbend", "Sabine", "Big Sky", "Magnolia", "Cypress", "Summit", "Heritage",
               "Northstar", "Ironwood", "Silverado", "Westbrook", "Eastfield", "Southgate"]
STREETS = ["Main", "Oak", "Elm", "Commerce", "Industrial", "Market", "Park", "Ranch", "Mill", "Church",
           "Washington", "Lamar", "Travis", "Houston", "Austin", "Bowie", "Crockett", "Fannin", "Lake", "River"]
STREET_KINDS = ["St", "Ave", "Blvd", "Rd", "Dr", "Pkwy", "Ln"]
HOURS = {
    "office": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "clinic": {d: [["08:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "retail": {**{d: [["09:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": [["10:00", "17:00"]]},
    "early": {d: [["07:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "restaurant": {d: [["10:00", "21:00"]] for d in ("tue", "wed", "thu", "fri", "sat", "sun")},
}
FREQUENCY_BY_TIER = {"A": "biweekly", "B": "monthly", "C": "quarterly"}
MINUTES_BY_TIER = {"A": 60, "B": 45, "C": 30}
OUTCOMES = ["Order placed", "Follow-up scheduled", "Demo given", "Quote requested", "Relationship check-in",
            "Issue resolved", "No decision yet", "Met new buyer"]
NOTES = ["Asked about volume pricing.", "Wants a call back next month.", "New purchasing manager started.",
         "Shelf placement improved.", "Competitor visited last week.", "Interested in the service plan.",
         "Reorder expected before quarter end.", ""]
PRODUCTS = ["Core Platform", "Analytics", "Service Plan", "Supplies", "Training"]
# IRS business standard mileage rates (cents per mile x10): 2024 67.0, 2025 70.0, 2026 72.5.
IRS_RATES = [("2024-01-01", "2024-12-31", 670), ("2025-01-01", "2025-12-31", 700), ("2026-01-01", None, 725)]


@dataclass(frozen=True)
class DemoSpec:
    """What demo to make; the same spec always makes the same database."""

    accounts: int = 1500
    reps: int = 8
    seed: int = 7
    region: str = "TX"
    today: date | None = None


class DemoError(Exception):
    pass


def _zip_rows(region: str) -> list[dict]:
    import zipcodes

    rows = [z for z in zipcodes.filter_by(state=region.upper())
            if z.get("zip_code_type") == "STANDARD" and z.get("active") and z.get("lat") and z.get("long")]
    if not rows:
        raise DemoError(f"no ZIP codes known for region {region!r}; use a two-letter US state code such as TX")
    for z in rows:
        z["latf"], z["lonf"] = float(z["lat"]), float(z["long"])
    # A few entries of the ZIP data have no county and sit at 0°, 0° (e.g. 77352): not a place.
    return [z for z in rows if z.get("county") and abs(z["latf"]) > 1 and abs(z["lonf"]) > 1]


def _pick_cities(zips: list[dict], count: int) -> list[tuple[str, float, float, str, str]]:
    """Home bases: the biggest cities (by number of ZIP codes) spread at least ~80 km apart."""
    by_city: dict[str, list[dict]] = defaultdict(list)
    for z in zips:
        by_city[z["city"]].append(z)
    ranked = sorted(by_city.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    chosen: list[tuple[str, float, float, str, str]] = []
    for spacing_km in (80, 50, 30, 15, 0):
        for city, rows in ranked:
            if len(chosen) == count:
                return chosen
            if any(c[0] == city for c in chosen):
                continue
            lat = sum(r["latf"] for r in rows) / len(rows)
            lon = sum(r["lonf"] for r in rows) / len(rows)
            if all(haversine_m(lat, lon, c[1], c[2]) >= spacing_km * 1000 for c in chosen):
                home_zip = min(rows, key=lambda r: (r["latf"] - lat) ** 2 + (r["lonf"] - lon) ** 2)
                chosen.append((city, lat, lon, home_zip["zip_code"], home_zip.get("timezone") or "America/Chicago"))
    if len(chosen) < count:
        raise DemoError(f"the region has only {len(chosen)} cities for {count} reps")
    return chosen


def write_demo(path: Path | str, spec: DemoSpec = DemoSpec(), progress: Progress | None = None) -> Path:
    """Write a new demo database at `path`; refuses to overwrite, and leaves nothing behind on failure."""
    path = Path(path)
    if spec.accounts < 1 or spec.reps < 1:
        raise DemoError("a demo needs at least one account and one rep")
    if spec.reps > len(FIRST) * len(LAST):
        raise DemoError("too many reps")
    if path.exists():
        raise DemoError(f"{path} already exists; FieldAtlas never overwrites a database (choose another path)")
    partial = path.with_name(path.name + ".partial")
    remove_database_files(partial)
    try:
        store = open_database(partial, create=True)
        try:
            _fill(store, spec, progress)
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            store.close()
        os.replace(partial, path)
    finally:
        remove_database_files(partial)
    return path


def _fill(store, spec: DemoSpec, progress: Progress | None) -> None:
    rng = random.Random(spec.seed)
    today = spec.today or date.today()
    total_steps = 6

    def step(n: int, message: str) -> None:
        check_cancelled(progress)
        if progress is not None:
            progress.update(n, total_steps, message)

    step(0, "Reading ZIP codes")
    zips = _zip_rows(spec.region)
    cities = _pick_cities(zips, spec.reps)

    with store.atomic():
        step(1, "Adding reps and territories")
        manager_id = writes.insert(store, "reps", {
            "name": "Dana Whitfield", "email": "dana.whitfield@example.com", "role": "manager",
            "home_city": cities[0][0], "home_state": spec.region.upper(), "home_postal_code": cities[0][3],
            "home_lat": cities[0][1], "home_lon": cities[0][2], "time_zone": cities[0][4], "color": "#444444",
        })
        used_names: set[str] = set()
        rep_rows = []
        for i, (city, lat, lon, home_zip, tz) in enumerate(cities):
            while True:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                if name not in used_names:
                    used_names.add(name)
                    break
            rep_rows.append({
                "name": name, "email": name.lower().replace(" ", ".") + "@example.com", "role": "rep",
                "manager_id": manager_id, "home_city": city, "home_state": spec.region.upper(),
                "home_postal_code": home_zip, "home_lat": round(lat, 5), "home_lon": round(lon, 5),
                "capacity_hours_week": 40.0, "working_weeks": 46, "work_start": "08:00", "work_end": "17:00",
                "time_zone": tz, "color": COLORS[i % len(COLORS)], "active": 1,
            })
        rep_ids = writes.insert_many(store, "reps", rep_rows)

        # Geographic territories: each county goes to the rep whose home is nearest its centre.
        counties: dict[str, list[dict]] = defaultdict(list)
        for z in zips:
            counties[z.get("county") or "Unknown County"].append(z)
        county_rep: dict[str, int] = {}
        for county, rows in counties.items():
            clat = sum(r["latf"] for r in rows) / len(rows)
            clon = sum(r["lonf"] for r in rows) / len(rows)
            county_rep[county] = min(range(len(rep_ids)), key=lambda k: haversine_m(clat, clon, cities[k][1], cities[k][2]))
        region_id = writes.insert(store, "territories", {
            "name": f"{spec.region.upper()} Region", "kind": "geographic", "level": "region",
            "rule": json.dumps({"states": [spec.region.upper()]}), "precedence": 0, "owner_id": manager_id,
            "color": "#444444"})
        terr_rows = []
        for k, (city, *_rest) in enumerate(cities):
            mine = sorted(c for c, r in county_rep.items() if r == k)
            terr_rows.append({
                "name": f"{city} Metro", "kind": "geographic", "level": "territory", "parent_id": region_id,
                "rule": json.dumps({"state": spec.region.upper(), "counties": mine}), "precedence": 10,
                "owner_id": rep_ids[k], "goal_cents": None, "color": COLORS[k % len(COLORS)]})
        terr_ids = writes.insert_many(store, "territories", terr_rows)

        step(2, "Adding accounts")
        weights = []
        for z in zips:
            d = min(haversine_m(z["latf"], z["lonf"], c[1], c[2]) for c in cities) / 1000
            weights.append(math.exp(-d / 60.0) + 0.02)
        cumulative = []
        acc = 0.0
        for w in weights:
            acc += w
            cumulative.append(acc)
        chosen_zips = rng.choices(zips, cum_weights=cumulative, k=spec.accounts)
        industry_cum = []
        total = 0
        for industry in INDUSTRIES:
            total += industry[1]
            industry_cum.append(total)
        hours_json = {style: json.dumps(hours, separators=(",", ":")) for style, hours in HOURS.items()}
        accounts = []
        for n, z in enumerate(chosen_zips):
            industry, _w, per_employee, nouns, hours_style = rng.choices(INDUSTRIES, cum_weights=industry_cum)[0]
            employees = max(1, min(50_000, int(rng.lognormvariate(3.6, 1.2))))
            revenue_dollars = employees * per_employee * rng.lognormvariate(0, 0.35)
            potential_dollars = revenue_dollars * rng.uniform(0.01, 0.05)
            segment = "SMB" if employees < 100 else "Mid-Market" if employees < 1000 else "Enterprise"
            word = rng.choice(PLACE_WORDS) if rng.random() < 0.7 else z["city"]
            name = f"{word} {rng.choice(nouns)}"
            if rng.random() < 0.35:
                name += rng.choice([" LLC", " Inc", " Co", " Group", " & Sons", " of " + z["city"]])
            k = county_rep[z.get("county") or "Unknown County"]
            area = (z.get("area_codes") or ["555"])[0]
            products = rng.sample(PRODUCTS, rng.randint(0, 3))
            accounts.append({
                "external_id": "001" + format(rng.getrandbits(60), "015X"),
                "source": "demo",
                "name": name,
                "street": f"{rng.randint(100, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                "city": z["city"], "state": spec.region.upper(), "postal_code": z["zip_code"], "country": "US",
                "phone": f"({area}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
                "website": None,
                "lat": round(z["latf"] + rng.uniform(-0.008, 0.008), 6),
                "lon": round(z["lonf"] + rng.uniform(-0.008, 0.008), 6),
                "geocode_precision": "zip", "geocoded_at": None,
                "industry": industry, "employees": employees,
                "annual_revenue_cents": int(round(revenue_dollars, -3)) * 100,
                "segment": segment,
                "customer_type": "Prospect" if n % 10 == 0 else "Customer",
                "products": json.dumps(products),
                "channel": rng.choices(["Direct", "Partner", "Distributor"], weights=[6, 2, 2])[0],
                "tier": None, "potential_cents": int(round(potential_dollars, -2)) * 100,
                "visit_frequency": "monthly", "visit_minutes": 45,
                "opening_hours": hours_json[hours_style],
                "allowed_weekdays": None,
                "owner_id": rep_ids[k], "territory_id": terr_ids[k],
                "status": "prospect" if n % 10 == 0 else "active", "locked": 0,
                "last_visit_at": None, "notes": None,
            })
        # Tiers by potential: top 10% A, next 25% B, the rest C.
        order = sorted(range(len(accounts)), key=lambda i: -accounts[i]["potential_cents"])
        for rank, i in enumerate(order):
            tier = "A" if rank < 0.10 * len(order) else "B" if rank < 0.35 * len(order) else "C"
            accounts[i]["tier"] = tier
            accounts[i]["visit_frequency"] = FREQUENCY_BY_TIER[tier]
            accounts[i]["visit_minutes"] = MINUTES_BY_TIER[tier]
        account_ids = []
        for start in range(0, len(accounts), 5000):
            check_cancelled(progress)
            account_ids += writes.insert_many(store, "accounts", accounts[start:start + 5000])
            if progress is not None:
                progress.update(2, total_steps, f"Adding accounts {start + 5000:,}/{len(accounts):,}")
        start_day = today - timedelta(days=91)
        writes.insert_many(store, "assignments", [
            {"account_id": aid, "rep_id": a["owner_id"], "territory_id": a["territory_id"],
             "valid_from": start_day.replace(month=1, day=1).isoformat(), "valid_to": None,
             "reason": "demo territory plan", "scenario_id": None}
            for aid, a in zip(account_ids, accounts)])

        step(3, "Adding three months of visits and trips")
        by_rep: dict[int, list[int]] = defaultdict(list)
        for idx, a in enumerate(accounts):
            if a["status"] == "active":
                by_rep[a["owner_id"]].append(idx)
        visits, trips, last_visit = [], [], {}
        workdays = [start_day + timedelta(days=d) for d in range(91) if (start_day + timedelta(days=d)).weekday() < 5]
        for r, rep_id in enumerate(rep_ids):
            rep = rep_rows[r]
            tz = ZoneInfo(rep["time_zone"])
            pool = by_rep.get(rep_id, [])
            if not pool:
                continue
            weights_by_tier = [{"A": 6, "B": 3, "C": 1}[accounts[i]["tier"]] for i in pool]
            for day in workdays:
                if rng.random() < 0.06:  # a day in the office or off
                    continue
                stops = []
                for i in rng.choices(pool, weights=weights_by_tier, k=rng.randint(4, 7)):
                    if i not in stops:
                        stops.append(i)
                # Visit in a sensible order: nearest next from home.
                ordered, here = [], (rep["home_lat"], rep["home_lon"])
                remaining = list(stops)
                while remaining:
                    nxt = min(remaining, key=lambda i: haversine_m(here[0], here[1], accounts[i]["lat"], accounts[i]["lon"]))
                    remaining.remove(nxt)
                    ordered.append(nxt)
                    here = (accounts[nxt]["lat"], accounts[nxt]["lon"])
                clock = datetime.combine(day, time(8, 30), tz)
                here = (rep["home_lat"], rep["home_lon"])
                metres = 0.0
                for i in ordered:
                    a = accounts[i]
                    leg = road_m(here[0], here[1], a["lat"], a["lon"])
                    metres += leg
                    clock += timedelta(minutes=max(10, leg / 1000 / 60 * 60))
                    clock = clock.replace(minute=(clock.minute // 5) * 5, second=0, microsecond=0)
                    roll = rng.random()
                    status = "done" if roll < 0.9 else "missed" if roll < 0.95 else "cancelled"
                    start_utc = clock.astimezone(timezone.utc)
                    visit = {
                        "account_id": account_ids[i], "rep_id": rep_id, "route_id": None,
                        "planned_start": utc_text(start_utc),
                        "planned_minutes": a["visit_minutes"], "time_zone": rep["time_zone"], "status": status,
                        "check_in_at": None, "check_out_at": None, "outcome": None, "notes": None,
                    }
                    if status == "done":
                        cin = start_utc + timedelta(minutes=rng.randint(-5, 10))
                        cout = cin + timedelta(minutes=a["visit_minutes"] + rng.randint(-10, 15))
                        visit.update(check_in_at=utc_text(cin),
                                     check_out_at=utc_text(cout),
                                     outcome=rng.choice(OUTCOMES), notes=rng.choice(NOTES) or None)
                        last_visit[i] = visit["check_in_at"]
                    visits.append(visit)
                    clock += timedelta(minutes=a["visit_minutes"])
                    here = (a["lat"], a["lon"])
                metres += road_m(here[0], here[1], rep["home_lat"], rep["home_lon"])
                trips.append({
                    "rep_id": rep_id, "day": day.isoformat(),
                    "purpose": "Customer visits: " + ", ".join(accounts[i]["name"] for i in ordered[:3])
                               + (" and more" if len(ordered) > 3 else ""),
                    "start_place": f"Home, {rep['home_city']}", "end_place": f"Home, {rep['home_city']}",
                    "start_odometer": None, "end_odometer": None, "distance_m": int(metres),
                    "route_id": None, "account_id": None, "vehicle": "Personal car", "business": 1,
                    "report_id": None,
                })
        writes.insert_many(store, "visits", visits)
        for i, when in last_visit.items():
            store.conn.execute("UPDATE accounts SET last_visit_at = ? WHERE id = ?", (when, account_ids[i]))
        # last_visit_at is derived from visits already logged above, so it is not logged again.

        step(4, "Adding expenses and reports")
        writes.insert_many(store, "rate_tables", [
            {"kind": "mileage", "effective_from": f, "effective_to": t, "cents_per_mile_x10": c,
             "currency": "USD", "source": "IRS standard mileage rate (business)"} for f, t, c in IRS_RATES])
        expenses = []
        for r, rep_id in enumerate(rep_ids):
            rep = rep_rows[r]
            for day in workdays:
                roll = rng.random()
                if roll < 0.30:
                    expenses.append(("Meals", rng.choice(["Texas Roadhouse", "Local Diner", "Pappasito's",
                                                          "Whataburger", "Cafe Brazos"]),
                                     rng.randint(1800, 9500), "Lunch with customer to discuss reorder",
                                     rng.choice(["Buyer", "Owner", "Purchasing manager", "Plant manager"]),
                                     rep_id, day, rep["home_city"]))
                elif roll < 0.42:
                    expenses.append(("Parking", "City Parking", rng.randint(500, 2500), "Parking at customer site",
                                     None, rep_id, day, rep["home_city"]))
                elif roll < 0.47:
                    expenses.append(("Lodging", rng.choice(["Hampton Inn", "La Quinta", "Courtyard"]),
                                     rng.randint(11000, 18900), "Overnight for two-day customer trip", None,
                                     rep_id, day, rep["home_city"]))
                elif roll < 0.52:
                    expenses.append(("Tolls", "TxTag", rng.randint(150, 1200), "Toll road between visits", None,
                                     rep_id, day, rep["home_city"]))
        months = sorted({d.strftime("%Y-%m") for d in workdays})
        report_ids: dict[tuple[int, str], int] = {}
        current = today.strftime("%Y-%m")
        report_rows = []
        keys = []
        for rep_id in rep_ids:
            for m in months:
                state = "draft" if m == current else ("submitted" if m == max(x for x in months if x != current or len(months) == 1) else "approved")
                report_rows.append({
                    "rep_id": rep_id, "period": m, "title": f"Expenses {m}", "state": state,
                    "submitted_at": None if state == "draft" else f"{m}-28T17:00:00Z",
                    "decided_at": f"{m}-28T18:00:00Z" if state == "approved" else None,
                    "decided_by": manager_id if state == "approved" else None,
                    "decision_note": None, "exported_at": None})
                keys.append((rep_id, m))
        for key, rid in zip(keys, writes.insert_many(store, "expense_reports", report_rows)):
            report_ids[key] = rid
        writes.insert_many(store, "expenses", [
            {"rep_id": rep_id, "day": day.isoformat(), "category": cat, "merchant": merchant,
             "amount_cents": cents, "currency": "USD", "business_purpose": purpose, "attendees": attendees,
             "place": place, "account_id": None, "receipt_id": None,
             "report_id": report_ids.get((rep_id, day.strftime("%Y-%m")))}
            for cat, merchant, cents, purpose, attendees, rep_id, day, place in expenses])
        for t in trips:
            t["report_id"] = report_ids.get((t["rep_id"], t["day"][:7]))
        writes.insert_many(store, "trips", trips)

        step(5, "Adding leads and goals")
        _add_leads_and_deals(store, spec, today, rep_ids, accounts, account_ids, chosen_zips)
        quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        writes.insert_many(store, "goals", [
            {"rep_id": rid, "territory_id": tid, "period": quarter, "metric": "revenue_cents",
             "target": 25_000_000 * (1 + (k % 3))} for k, (rid, tid) in enumerate(zip(rep_ids, terr_ids))])
        step(6, "Done")


# Inbound sources with how often they arrive; Test Drive and Demo request go to the premium queue.
LEAD_SOURCES = [("Web form", 40), ("Trade show", 20), ("Referral", 15), ("Demo request", 15), ("Test Drive", 10)]


def _add_leads_and_deals(store, spec: DemoSpec, today: date, rep_ids: list[int], accounts: list[dict],
                         account_ids: list[int], chosen_zips: list[dict]) -> None:
    """Two lead queues (regular and premium) over every rep, 300 new inbound leads, and a quarter of closed deals."""
    from core.leads.importing import enrich
    from core.leads.matching import AccountIndex
    from core.leads.scoring import load_rules

    rng = random.Random(spec.seed * 1000 + 12)  # its own stream: the rest of the demo stays as it was
    region = spec.region.upper()
    # A few industry specialists, and dynamic books of 120–200 accounts for everyone.
    specialties = ["Healthcare", "Manufacturing", "Retail", None]
    writes.update_known(store, "reps", [
        (rid, store.scalar("SELECT uid FROM reps WHERE id = ?", (rid,)),
         {"skills": json.dumps([specialties[k % 4]] if specialties[k % 4] else []), "book_min": 120, "book_max": 200})
        for k, rid in enumerate(rep_ids)])
    regular = writes.insert(store, "lead_queues", {
        "name": f"Inbound — {region}", "rule": json.dumps({"states": [region]}), "strategy": "round_robin",
        "priority": 0})
    premium = writes.insert(store, "lead_queues", {
        "name": "Premium — Test Drive & Demo request", "rule": json.dumps({"sources": ["Test Drive", "Demo request"]}),
        "strategy": "round_robin", "priority": 10})
    writes.insert_many(store, "queue_members", [
        {"queue_id": q, "rep_id": rid, "weight": 1, "position": k, "active": 1, "daily_cap": cap}
        for q, cap in ((regular, 60), (premium, 15)) for k, rid in enumerate(rep_ids)])
    rules, index = load_rules(store), AccountIndex(store)
    leads = []
    now = datetime.combine(today, time(15, 0), timezone.utc)
    for n in range(300 if spec.accounts >= 300 else max(10, spec.accounts)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if rng.random() < 0.15:  # someone at an existing account writes in
            a = accounts[rng.randrange(len(accounts))]
            company, industry, employees, z_code, city = a["name"], a["industry"], a["employees"], a["postal_code"], a["city"]
        else:
            z = rng.choice(chosen_zips)
            ind = rng.choice(INDUSTRIES)
            company = f"{rng.choice(PLACE_WORDS)} {rng.choice(ind[3])} {rng.choice(['West', 'South', 'North', 'Holdings'])}"
            industry, employees, z_code, city = ind[0], max(1, int(rng.lognormvariate(3.8, 1.3))), z["zip_code"], z["city"]
        domain = "".join(ch for ch in company.lower() if ch.isalnum())[:24] + ".com"
        leads.append(enrich({
            "external_id": f"L-{10000 + n}", "name": f"{first} {last}", "company": company,
            "email": f"{first.lower()}.{last.lower()}@{domain}", "phone": None,
            "city": city, "state": region, "postal_code": z_code, "lat": None, "lon": None,
            "source": rng.choices([s for s, _ in LEAD_SOURCES], weights=[w for _, w in LEAD_SOURCES])[0],
            "industry": industry, "employees": employees, "product": rng.choice(PRODUCTS),
            "received_at": utc_text(now - timedelta(minutes=7 * (300 - n))),
            "status": "new", "queue_id": None, "rep_id": None, "assigned_at": None}, rules, index))
    writes.insert_many(store, "leads", leads)
    # Closed deals this quarter, so goals have results to show against them.
    q_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    days = max(1, (today - q_start).days)
    deals = []
    by_owner: dict[int, list[int]] = defaultdict(list)
    for aid, a in zip(account_ids, accounts):
        by_owner[a["owner_id"]].append(aid)
    for k, rid in enumerate(rep_ids):
        for d in range(rng.randint(6, 14)):
            deals.append({"external_id": f"D-{rid}-{d}", "name": f"Order {rid}-{d}", "account_id": rng.choice(by_owner[rid])
                          if by_owner[rid] else None, "rep_id": rid,
                          "amount_cents": rng.randint(800, 3600) * 1000 * (1 + k % 3), "currency": "USD", "stage": "won",
                          "closed_on": (q_start + timedelta(days=rng.randrange(days))).isoformat(),
                          "new_account": int(rng.random() < 0.2)})
    writes.insert_many(store, "deals", deals)
    writes.insert_many(store, "goals", [
        {"rep_id": rid, "territory_id": None, "period": f"{today.year}-Q{(today.month - 1) // 3 + 1}",
         "metric": "visits", "target": 260} for rid in rep_ids])
