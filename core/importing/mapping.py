"""Which file column feeds which account field: the big CRMs' export headers, detection, and saved mappings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping as TMapping

from core.changes import Changes
from core.storage import writes
from core.storage.database import Store


@dataclass(frozen=True)
class Field:
    """An account field an import can fill, as users name it."""

    key: str
    title: str
    kind: str = "text"   # text | int | money | float | owner | hours | frequency | weekdays


FIELDS: tuple[Field, ...] = (
    Field("external_id", "CRM record id"),
    Field("name", "Account name"),
    Field("street", "Street"),
    Field("city", "City"),
    Field("state", "State"),
    Field("postal_code", "ZIP / postal code"),
    Field("country", "Country"),
    Field("phone", "Phone"),
    Field("website", "Website"),
    Field("industry", "Industry"),
    Field("employees", "Employees", "int"),
    Field("annual_revenue_cents", "Annual revenue", "money"),
    Field("owner", "Owner (rep name or email)", "owner"),
    Field("lat", "Latitude", "float"),
    Field("lon", "Longitude", "float"),
    Field("customer_type", "Customer type"),
    Field("segment", "Segment"),
    Field("tier", "Tier (A/B/C)"),
    Field("status", "Status"),
    Field("opening_hours", "Opening hours", "hours"),
    Field("visit_frequency", "Visit frequency", "frequency"),
    Field("visit_minutes", "Visit minutes", "int"),
    Field("allowed_weekdays", "Visit weekdays", "weekdays"),
    Field("notes", "Notes"),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}

# Export headers as each CRM writes them (UI exports and API/report names). Matching ignores case,
# spaces and punctuation, so "Billing Zip/Postal Code" and "billing_zip_postal_code" are one header.
SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "salesforce": {
        "external_id": ("Account ID", "Account ID (18)", "Id", "Account Id 18"),
        "name": ("Account Name", "Name"),
        "street": ("Billing Street", "BillingStreet", "Billing Address Line 1"),
        "city": ("Billing City", "BillingCity"),
        "state": ("Billing State/Province", "BillingState", "Billing State/Province (text only)",
                  "Billing State"),
        "postal_code": ("Billing Zip/Postal Code", "BillingPostalCode", "Billing Zip"),
        "country": ("Billing Country", "BillingCountry", "Billing Country (text only)"),
        "phone": ("Phone",),
        "website": ("Website",),
        "industry": ("Industry",),
        "employees": ("Employees", "NumberOfEmployees"),
        "annual_revenue_cents": ("Annual Revenue", "AnnualRevenue"),
        "owner": ("Account Owner", "Account Owner Name", "Owner Name"),
        "lat": ("Billing Latitude", "BillingLatitude"),
        "lon": ("Billing Longitude", "BillingLongitude"),
        "customer_type": ("Type", "Account Type"),
        "segment": ("Account Segment",),
        "tier": ("Account Tier", "Tier__c", "Account_Tier__c"),
        # Visit parameters are custom fields in Salesforce: the label in UI exports, the API name in Data Loader.
        "opening_hours": ("Opening Hours", "Opening_Hours__c", "Business Hours", "Business_Hours__c"),
        "visit_frequency": ("Visit Frequency", "Visit_Frequency__c", "Call Frequency", "Call_Frequency__c"),
        "visit_minutes": ("Visit Duration (min)", "Visit_Duration__c", "Visit Minutes", "Visit_Minutes__c"),
        "allowed_weekdays": ("Visit Days", "Visit_Days__c", "Preferred Visit Days", "Preferred_Visit_Days__c"),
        "notes": ("Description",),
    },
    "hubspot": {
        "external_id": ("Record ID", "Company ID", "hs_object_id"),
        "name": ("Company name", "Name"),
        "street": ("Street Address", "Address"),
        "city": ("City",),
        "state": ("State/Region", "State"),
        "postal_code": ("Postal Code", "Zip"),
        "country": ("Country/Region", "Country"),
        "phone": ("Phone Number",),
        "website": ("Website URL", "Company Domain Name"),
        "industry": ("Industry",),
        "employees": ("Number of Employees",),
        "annual_revenue_cents": ("Annual Revenue",),
        "owner": ("Company owner", "HubSpot Owner"),
        "customer_type": ("Type", "Lifecycle Stage"),
        # HubSpot custom properties: the label in exports, the internal name in API pulls.
        "opening_hours": ("Opening hours", "opening_hours", "Business hours", "business_hours"),
        "visit_frequency": ("Visit frequency", "visit_frequency"),
        "visit_minutes": ("Visit length (minutes)", "visit_minutes", "Visit duration"),
        "allowed_weekdays": ("Visit days", "visit_days"),
        "tier": ("Tier", "Account tier", "account_tier"),
        "notes": ("Description", "About Us"),
    },
    "pipedrive": {
        "external_id": ("Organization - ID", "ID"),
        "name": ("Organization - Name", "Name"),
        "street": ("Organization - Address - Street/road name", "Organization - Address"),
        "city": ("Organization - Address - City/town/village/locality",),
        "state": ("Organization - Address - State/county",),
        "postal_code": ("Organization - Address - ZIP/Postal code",),
        "country": ("Organization - Address - Country",),
        "industry": ("Organization - Industry",),
        "employees": ("Organization - Number of employees",),
        "annual_revenue_cents": ("Organization - Annual revenue",),
        "owner": ("Organization - Owner", "Owner"),
        "website": ("Organization - Website",),
        "phone": ("Organization - Phone",),
        "notes": ("Organization - Notes",),
    },
    "dynamics": {
        "external_id": ("(Do Not Modify) Account", "Account Number", "accountid"),
        "name": ("Account Name", "name"),
        "street": ("Address 1: Street 1", "address1_line1"),
        "city": ("Address 1: City", "address1_city"),
        "state": ("Address 1: State/Province", "address1_stateorprovince"),
        "postal_code": ("Address 1: ZIP/Postal Code", "address1_postalcode"),
        "country": ("Address 1: Country/Region", "Address 1: Country", "address1_country"),
        "phone": ("Main Phone", "telephone1"),
        "website": ("Website", "websiteurl"),
        "industry": ("Industry", "industrycode"),
        "employees": ("Number of Employees", "numberofemployees"),
        "annual_revenue_cents": ("Annual Revenue", "revenue"),
        "owner": ("Owner", "ownerid"),
        "lat": ("Address 1: Latitude", "address1_latitude"),
        "lon": ("Address 1: Longitude", "address1_longitude"),
        "customer_type": ("Relationship Type", "customertypecode"),
        "notes": ("Description",),
    },
    # FieldAtlas's own export, so an exported file imports back without help.
    "fieldatlas": {
        "external_id": ("CRM id",),
        "name": ("Name",),
        "street": ("Street",),
        "city": ("City",),
        "state": ("State",),
        "postal_code": ("ZIP",),
        "country": ("Country",),
        "phone": ("Phone",),
        "website": ("Website",),
        "industry": ("Industry",),
        "employees": ("Employees",),
        "annual_revenue_cents": ("Revenue",),
        "owner": ("Owner",),
        "lat": ("Latitude",),
        "lon": ("Longitude",),
        "customer_type": ("Customer type",),
        "segment": ("Segment",),
        "tier": ("Tier",),
        "status": ("Status",),
        "opening_hours": ("Opening hours",),
        "visit_frequency": ("Visit frequency",),
        "visit_minutes": ("Visit minutes",),
        "allowed_weekdays": ("Visit weekdays",),
        "notes": ("Notes",),
    },
}

# Headers that give a source away without feeding a field.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "fieldatlas": ("Located by",),
    "salesforce": ("Account Owner Alias", "Parent Account", "Billing Address"),
    "hubspot": ("Lifecycle Stage", "Last Activity Date", "Associated Contact"),
    "dynamics": ("(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On"),
}

# Plain names anyone might use in a hand-made spreadsheet.
GENERIC: dict[str, tuple[str, ...]] = {
    "external_id": ("External ID", "CRM ID", "Record ID", "Account ID", "ID"),
    "name": ("Name", "Account", "Account Name", "Company", "Company Name", "Organization", "Customer",
             "Business Name"),
    "street": ("Street", "Address", "Street Address", "Address 1", "Address Line 1"),
    "city": ("City", "Town"),
    "state": ("State", "State/Province", "Province", "Region"),
    "postal_code": ("ZIP", "Zip Code", "Postal Code", "Postcode", "ZIP/Postal Code"),
    "country": ("Country",),
    "phone": ("Phone", "Telephone", "Phone Number"),
    "website": ("Website", "Web", "URL", "Domain"),
    "industry": ("Industry", "Vertical"),
    "employees": ("Employees", "Number of Employees", "Headcount", "Employee Count"),
    "annual_revenue_cents": ("Revenue", "Annual Revenue"),
    "owner": ("Owner", "Account Owner", "Rep", "Sales Rep"),
    "lat": ("Latitude", "Lat"),
    "lon": ("Longitude", "Lon", "Lng", "Long"),
    "customer_type": ("Type", "Customer Type"),
    "segment": ("Segment",),
    "tier": ("Tier", "Account Tier", "Priority Tier"),
    "status": ("Status",),
    "opening_hours": ("Opening Hours", "Hours", "Business Hours", "Open Hours", "Store Hours", "Hours of Operation"),
    "visit_frequency": ("Visit Frequency", "Call Frequency", "Frequency", "Call Cycle"),
    "visit_minutes": ("Visit Minutes", "Visit Length", "Visit Duration", "Call Duration", "Visit Length (min)"),
    "allowed_weekdays": ("Visit Days", "Allowed Weekdays", "Visit Weekdays", "Preferred Days", "Call Days"),
    "notes": ("Notes", "Description", "Comments"),
}

SOURCE_TITLES = {"salesforce": "Salesforce", "hubspot": "HubSpot", "pipedrive": "Pipedrive",
                 "dynamics": "Microsoft Dynamics 365", "fieldatlas": "FieldAtlas export", "generic": "Spreadsheet"}


def header_key(header: str) -> str:
    """How headers are compared: case, spaces and punctuation do not matter."""
    return re.sub(r"[^0-9a-z]+", "", header.casefold())


def find_columns(headers: list[str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Field -> index of the first column whose header_key is one of the field's synonyms.

    For files with a fixed set of fields (leads, deals); a column serves one field only, the first
    that claims it in `synonyms`' order.
    """
    keys = [header_key(h or "") for h in headers]
    found: dict[str, int] = {}
    for fld, names in synonyms.items():
        for i, k in enumerate(keys):
            if k in names and i not in found.values():
                found[fld] = i
                break
    return found


@dataclass
class ColumnMapping:
    """Account field -> file header, plus where the mapping came from."""

    columns: dict[str, str] = field(default_factory=dict)
    source: str = "generic"
    name: str = ""

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "columns": self.columns}, indent=2, ensure_ascii=False)

    def unmapped_headers(self, headers: list[str]) -> list[str]:
        used = set(self.columns.values())
        return [h for h in headers if h and h not in used]


class MappingProblem(ValueError):
    """A mapping that cannot be used with this file; the message says which column or field."""


def detect_source(headers: list[str]) -> str:
    """The CRM whose export headers best match these (or 'generic')."""
    keys = {header_key(h) for h in headers if h}
    best, best_score = "generic", 0
    generic = {header_key(n) for names in GENERIC.values() for n in names}
    for source, table in SOURCES.items():
        names = {header_key(n) for names in table.values() for n in names}
        # Headers only this CRM writes ("Billing City", "State/Region") decide; "City" proves nothing.
        distinctive = (names - generic) | {header_key(n) for n in SIGNATURES.get(source, ())}
        score = len(keys & distinctive) * 2 + len(keys & names)
        if score > best_score and keys & distinctive:
            best, best_score = source, score
    return best


def auto_mapping(headers: list[str], source: str | None = None) -> ColumnMapping:
    """Map headers to fields using the given (or detected) CRM's names, then the generic names."""
    source = source or detect_source(headers)
    if source not in SOURCES and source != "generic":
        raise MappingProblem(f"unknown source {source!r}; use one of auto, {', '.join(SOURCES)}")
    by_key = {}
    for h in headers:
        if h:
            by_key.setdefault(header_key(h), h)
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for table in (SOURCES.get(source, {}), GENERIC):
        for fld in FIELDS:
            if fld.key in columns:
                continue
            for candidate in table.get(fld.key, ()):
                header = by_key.get(header_key(candidate))
                if header and header not in taken:
                    columns[fld.key] = header
                    taken.add(header)
                    break
    return ColumnMapping(columns, source)


def check_mapping(mapping: ColumnMapping, headers: list[str]) -> None:
    """Raise MappingProblem when the mapping names unknown fields or columns the file lacks, or has no name."""
    present = set(headers)
    for key, header in mapping.columns.items():
        if key not in FIELD_BY_KEY:
            raise MappingProblem(f"the mapping names an unknown account field {key!r} "
                                 f"(known: {', '.join(FIELD_BY_KEY)})")
        if header not in present:
            raise MappingProblem(f"the mapping uses the column {header!r} for {FIELD_BY_KEY[key].title}, "
                                 "but the file has no such column")
    used = list(mapping.columns.values())
    for header in used:
        if used.count(header) > 1:
            fields = [FIELD_BY_KEY[k].title for k, h in mapping.columns.items() if h == header]
            raise MappingProblem(f"the column {header!r} is mapped to more than one field ({', '.join(fields)})")
    if "name" not in mapping.columns:
        raise MappingProblem("no column is mapped to the account name; choose the column that holds it")
    if ("lat" in mapping.columns) != ("lon" in mapping.columns):
        raise MappingProblem("latitude and longitude must both be mapped, or neither")


def mapping_from_json(data: TMapping) -> ColumnMapping:
    """Accept {"source": ..., "columns": {field: header}} or a plain {field: header} object."""
    if not isinstance(data, dict):
        raise MappingProblem("a mapping must be a JSON object of field: column header")
    if "columns" in data:
        columns = data["columns"]
    else:
        columns = {k: v for k, v in data.items() if k != "source"}
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise MappingProblem("a mapping's columns must be an object of field name: column header (both text)")
    return ColumnMapping(dict(columns), str(data.get("source") or "generic") if "columns" in data else "generic")


def load_mapping_file(path: Path | str) -> ColumnMapping:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingProblem(f"cannot read the mapping file {path} ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise MappingProblem(f"the mapping file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return mapping_from_json(data)


def saved_mappings(store: Store) -> dict[str, ColumnMapping]:
    """Mappings saved in this database, by name."""
    out = {}
    for row in store.query("SELECT name, source, mapping FROM import_mappings WHERE deleted_at IS NULL ORDER BY name"):
        try:
            m = mapping_from_json(json.loads(row["mapping"]))
        except (MappingProblem, json.JSONDecodeError):
            continue
        m.name = row["name"]
        m.source = row["source"] or m.source
        out[row["name"]] = m
    return out


def save_mapping(store: Store, name: str, mapping: ColumnMapping) -> Changes:
    """Save (or replace) a named mapping for the next import of the same kind of file."""
    name = name.strip()
    if not name:
        raise MappingProblem("a saved mapping needs a name")
    payload = json.dumps({"source": mapping.source, "columns": mapping.columns}, ensure_ascii=False)
    with store.atomic():
        row = store.conn.execute("SELECT id FROM import_mappings WHERE name = ? AND deleted_at IS NULL",
                                 (name,)).fetchone()
        if row:
            writes.update(store, "import_mappings", row["id"], {"source": mapping.source, "mapping": payload})
            row_id = row["id"]
        else:
            row_id = writes.insert(store, "import_mappings", {"name": name, "source": mapping.source,
                                                              "mapping": payload})
    return Changes.of("import_mappings", [row_id], f"mapping {name!r} saved")


def resolve_mapping(store: Store | None, headers: list[str], spec: str | ColumnMapping | None) -> ColumnMapping:
    """Turn what the user chose (auto, a CRM name, a saved mapping's name, a JSON file) into a checked mapping."""
    if isinstance(spec, ColumnMapping):
        mapping = spec
    elif spec in (None, "", "auto"):
        mapping = auto_mapping(headers)
    elif spec in SOURCES or spec == "generic":
        mapping = auto_mapping(headers, spec)
    elif spec.lower().endswith(".json") or Path(spec).is_file():
        mapping = load_mapping_file(spec)
    else:
        saved = saved_mappings(store) if store is not None else {}
        if spec not in saved:
            choices = ["auto", *SOURCES, *saved]
            raise MappingProblem(f"no mapping called {spec!r}; use one of {', '.join(choices)} or a .json file")
        mapping = saved[spec]
    check_mapping(mapping, headers)
    return mapping
