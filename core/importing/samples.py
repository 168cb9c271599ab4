"""Realistic sample CRM exports (Salesforce, HubSpot) at real US ZIP codes, for trying imports, tests and benchmarks."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = {
    "salesforce": ["Account ID", "Account Name", "Type", "Billing Street", "Billing City", "Billing State/Province",
                   "Billing Zip/Postal Code", "Billing Country", "Phone", "Website", "Industry", "Annual Revenue",
                   "Employees", "Account Owner", "Created Date"],
    "hubspot": ["Record ID", "Company name", "Company owner", "Create Date", "Phone Number", "Street Address",
                "City", "State/Region", "Postal Code", "Country/Region", "Industry", "Number of Employees",
                "Annual Revenue", "Website URL", "Lifecycle Stage"],
}
_FIRST = ["Lone Star", "Bluebonnet", "Summit", "Pioneer", "Red River", "Cedar", "Granite", "Harbor", "Prairie",
          "Magnolia", "Alamo", "Northstar", "Silver Creek", "Copperline", "Oak Hollow", "Brazos", "Pecos",
          "Frontier", "Keystone", "Liberty", "Riverside", "Heritage", "Sunbelt", "Coastal", "Ironwood"]
_SECOND = ["Medical", "Dental", "Veterinary", "Logistics", "Supply", "Manufacturing", "Builders", "Foods",
           "Hardware", "Pharmacy", "Auto Parts", "Equipment", "Clinic", "Labs", "Distribution", "Electric"]
_SUFFIX = ["Inc.", "LLC", "Co.", "Group", "Partners", "Corp.", "", "Holdings"]
_STREETS = ["Main St", "Oak Ave", "Elm St", "Commerce Dr", "Industrial Blvd", "Market St", "Park Ave",
            "Broadway", "Maple Rd", "Highway 6", "University Dr", "Lakeview Dr", "Airport Rd", "Center St"]
_INDUSTRIES = ["Healthcare", "Manufacturing", "Retail", "Construction", "Transportation", "Agriculture",
               "Technology", "Hospitality", "Energy", "Education"]
_OWNERS = ["Maria Garcia", "James Smith", "Linda Nguyen", "Robert Johnson", "Patricia Brown", "David Lee"]
_STATE_NAMES = {"TX": "Texas", "CA": "California", "NY": "New York", "FL": "Florida", "IL": "Illinois",
                "OK": "Oklahoma", "LA": "Louisiana", "NM": "New Mexico", "AR": "Arkansas", "CO": "Colorado"}
_BAD = [("name", "", "a name is required"), ("employees", "about 50", "must be a whole number"),
        ("employees", "-12", "must not be negative"), ("revenue", "lots", "must be an amount of money"),
        ("revenue", "-$5,000", "must not be negative"), ("state", "Texass", "use the two-letter state code")]


@dataclass
class SampleFile:
    """What a generated file holds, so tests and benchmarks can check an import exactly."""

    path: Path
    rows: int = 0
    good_ids: set[str] = field(default_factory=set)
    bad_rows: dict[int, str] = field(default_factory=dict)   # row number -> expected reason
    duplicate_rows: int = 0
    zips: dict[str, str] = field(default_factory=dict)        # record id -> 5-digit ZIP


def _zip_pool(states: tuple[str, ...]):
    import zipcodes

    pool = []
    for state in states:
        pool += [z for z in zipcodes.filter_by(state=state)
                 if z.get("zip_code_type") == "STANDARD" and z.get("active") and z.get("lat")]
    return pool


def write_sample(path: Path | str, kind: str = "salesforce", rows: int = 1000, *, bad_fraction: float = 0.0,
                 duplicate_fraction: float = 0.0, seed: int = 11, states: tuple[str, ...] = ("TX",),
                 owners: list[str] | None = None) -> SampleFile:
    """Write a CRM-style export with `rows` data rows, some bad and some repeated, and describe it."""
    rng = random.Random(seed)
    path = Path(path)
    pool = _zip_pool(states)
    owners = owners or _OWNERS
    headers = HEADERS[kind]
    info = SampleFile(path)
    written: list[list[str]] = []
    ids: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for i in range(rows):
            row_number = i + 2
            if written and rng.random() < duplicate_fraction:
                # Exported twice (a CRM report joined to contacts does this): same id, same values.
                copy_from = rng.randrange(len(written))
                writer.writerow(written[copy_from])
                info.duplicate_rows += 1
                info.rows += 1
                continue
            z = rng.choice(pool)
            name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}".strip()
            if i % 997 == 5:
                name = "=" + name  # a real company name that starts like a formula must survive as typed
            record_id = (f"001{i:012d}AAA" if kind == "salesforce" else str(5_000_000_000 + i))
            state = z["state"]
            state_text = _STATE_NAMES.get(state, state) if (kind == "hubspot" or i % 5 == 0) else state
            postal = z["zip_code"] + (f"-{rng.randrange(10000):04d}" if i % 7 == 0 else "")
            employees = str(rng.choice([3, 8, 15, 40, 120, 450, 1200, 5000]))
            revenue_dollars = rng.choice([150_000, 900_000, 2_500_000, 12_000_000, 85_000_000])
            revenue = f"${revenue_dollars:,}" if kind == "salesforce" else str(revenue_dollars)
            values = {"name": name, "employees": employees, "revenue": revenue, "state": state_text}
            bad_reason = None
            if rng.random() < bad_fraction:
                what, value, bad_reason = rng.choice(_BAD)
                values[what] = value
            street = f"{rng.randrange(100, 9999)} {rng.choice(_STREETS)}"
            phone = f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
            site = "www." + "".join(c for c in name.lower() if c.isalnum())[:18] + ".com"
            owner = rng.choice(owners)
            if kind == "salesforce":
                row = [record_id, values["name"], rng.choice(["Customer", "Prospect"]), street, z["city"],
                       values["state"], postal, rng.choice(["United States", "USA", "US"]), phone, site,
                       rng.choice(_INDUSTRIES), values["revenue"], values["employees"], owner, "2024-03-01"]
            else:
                row = [record_id, values["name"], owner, "2024-03-01 10:00", phone, street, z["city"],
                       values["state"], postal, "United States", rng.choice(_INDUSTRIES), values["employees"],
                       values["revenue"], site, rng.choice(["customer", "lead", "opportunity"])]
            writer.writerow(row)
            written.append(row)
            if len(written) > 5000:
                del written[:1000]  # repeats come from recent rows; keeps a 100 MB sample cheap to write
            info.rows += 1
            if bad_reason:
                info.bad_rows[row_number] = bad_reason
            else:
                info.good_ids.add(record_id)
                info.zips[record_id] = z["zip_code"]
            ids.append(record_id)
    # Duplicates copy earlier rows, bad ones included; a copy of a bad row is bad too.
    if info.duplicate_rows:
        bad_ids = set(ids) - info.good_ids
        with open(path, newline="", encoding="utf-8") as fh:
            for number, row in enumerate(csv.reader(fh), start=1):
                if number > 1 and row[0] in bad_ids and number not in info.bad_rows:
                    info.bad_rows[number] = "copy of a bad row"
    return info
