"""`leads import`: read a CSV/XLSX of inbound leads, score and match each, keep the good rows and reject the rest with reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.changes import Changes
from core.clock import utc_text
from core.importing.mapping import find_columns
from core.importing.reading import FileProblem, Table, open_table
from core.importing.values import zip5
from core.leads.matching import AccountIndex
from core.leads.scoring import Rules, load_rules
from core.progress import Progress, check_cancelled
from core.leads.rejects import Reject, default_rejects_path, write_rejects
from core.storage import writes
from core.storage.database import Store

# Lead field -> headers that mean it (compared lower-case, spaces/underscores/dashes removed).
HEADERS: dict[str, tuple[str, ...]] = {
    "company": ("company", "companyname", "account", "accountname", "organization", "organisation", "business"),
    "name": ("contact", "contactname", "name", "fullname", "person", "leadname"),
    "email": ("email", "emailaddress", "mail", "workemail"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile"),
    "postal_code": ("postalcode", "postcode", "zip", "zipcode", "zippostalcode"),
    "industry": ("industry", "vertical", "sector"),
    "employees": ("employees", "numberofemployees", "employeecount", "companysize", "size", "headcount"),
    "source": ("source", "leadsource", "channel", "origin"),
    "product": ("product", "productinterest", "interest", "interestedin"),
    "city": ("city", "town"),
    "state": ("state", "stateprovince", "region"),
    "external_id": ("leadid", "id", "externalid", "recordid"),
    "received_at": ("received", "receivedat", "createdat", "created", "date"),
}
REQUIRED_ONE_OF = ("company", "name", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")


class LeadImportProblem(ValueError):
    """The file as a whole cannot be imported as leads."""


@dataclass
class LeadImportResult:
    rows_read: int = 0
    imported: int = 0
    matched: int = 0
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: Path | None = None
    lead_ids: list[int] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        text = (f"Read {self.rows_read:,} rows: imported {self.imported:,} leads "
                f"({self.matched:,} matched to an existing account), rejected {len(self.rejects):,}.")
        if self.rejects_path:
            text += f"\nRejected rows with their reasons: {self.rejects_path}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"rows_read": self.rows_read, "imported": self.imported, "matched": self.matched,
                "rejected": len(self.rejects), "rejects": [r.as_dict() for r in self.rejects],
                "rejects_file": str(self.rejects_path) if self.rejects_path else None, "lead_ids": self.lead_ids}


def map_headers(headers: list[str]) -> dict[str, int]:
    """Lead field -> column index; raises when no column names a company, contact or email."""
    found = find_columns(headers, HEADERS)
    if not any(f in found for f in REQUIRED_ONE_OF):
        raise LeadImportProblem("no column for company, contact or email (headers: " + ", ".join(headers) + ")")
    return found


def _row_values(row_number: int, cells: list[str | None], columns: dict[str, int],
                seen_emails: dict[str, int]) -> tuple[dict[str, Any] | None, Reject | None]:
    def cell(fld: str) -> str:
        i = columns.get(fld)
        return (cells[i] or "").strip() if i is not None and i < len(cells) else ""

    values: dict[str, Any] = {f: (cell(f) or None) for f in columns}
    if not any(values.get(f) for f in REQUIRED_ONE_OF):
        return None, Reject(row_number, "company", "", "a lead needs a company, a contact or an email")
    email = values.get("email")
    if email:
        if not _EMAIL.match(email):
            return None, Reject(row_number, "email", email, "not an email address")
        values["email"] = email.lower()
        if values["email"] in seen_emails:
            return None, Reject(row_number, "email", email, f"already a lead (lead {seen_emails[values['email']]})"
                                if seen_emails[values["email"]] > 0 else "appears twice in this file")
    employees = values.get("employees")
    if employees:
        text = employees.replace(",", "")
        if not text.isdigit():
            return None, Reject(row_number, "employees", employees, "must be a whole number of employees")
        values["employees"] = int(text)
    postal = values.get("postal_code")
    if postal:
        if len(postal) == 4 and postal.isdigit():
            postal = "0" + postal  # the leading zero a spreadsheet dropped
        if not _ZIP.match(postal):
            return None, Reject(row_number, "postal code", values["postal_code"], "not a US ZIP code (12345 or 12345-6789)")
        values["postal_code"] = zip5(postal)
    received = values.get("received_at")
    if received:
        try:
            when = datetime.fromisoformat(received.replace("Z", "+00:00"))
        except ValueError:
            return None, Reject(row_number, "received", received, "not a date and time (ISO, e.g. 2026-11-20T15:00Z)")
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)  # a bare time is taken as UTC, as CRMs export it
        values["received_at"] = utc_text(when)
    if values.get("state"):
        values["state"] = values["state"].upper()
    if not values.get("name"):
        values["name"] = values.get("email") or values.get("company")
    return values, None


def enrich(lead: dict[str, Any], rules: Rules, accounts: AccountIndex) -> dict[str, Any]:
    """Set a new lead's score, grade and matched account (with how it matched)."""
    lead["score"], lead["grade"] = rules.score(lead)
    match = accounts.match(lead.get("company"), lead.get("email"), lead.get("postal_code"))
    lead["account_id"] = match.account_id if match else None
    lead["match_reason"] = match.reason() if match else None
    return lead


def import_leads(store: Store, source: Path | str | Table, *, rejects_path: Path | str | None = None,
                 progress: Progress | None = None) -> LeadImportResult:
    """Import the good rows in one transaction; bad rows go to a rejects CSV (row, field, value, reason)."""
    table = source if isinstance(source, Table) else open_table(source)
    columns = map_headers(table.headers)
    rules = load_rules(store)
    accounts = AccountIndex(store)
    seen = {r[0]: r[1] for r in store.conn.execute(
        "SELECT lower(email), id FROM leads WHERE email IS NOT NULL AND deleted_at IS NULL")}
    result = LeadImportResult()
    now = writes.utc_now()
    rows: list[dict[str, Any]] = []
    bad_cells: dict[int, list[str | None]] = {}
    for row_number, cells in table.rows():
        result.rows_read += 1
        if result.rows_read % 1000 == 0:
            check_cancelled(progress)
            if progress is not None:
                progress.update(*table.progress(row_number), "Reading leads")
        values, reject = _row_values(row_number, cells, columns, seen)
        if reject is not None:
            result.rejects.append(reject)
            bad_cells[row_number] = cells
            continue
        assert values is not None
        if values.get("email"):
            seen[values["email"]] = 0
        lead = {f: values.get(f) for f in ("external_id", "name", "company", "email", "phone", "city", "state",
                                             "postal_code", "source", "industry", "employees", "product")}
        lead.update(received_at=values.get("received_at") or now, status="new")
        enrich(lead, rules, accounts)
        result.matched += lead["account_id"] is not None
        rows.append(lead)
    with store.atomic():
        result.lead_ids = writes.insert_many(store, "leads", rows)
    result.imported = len(rows)
    if result.rejects:
        out = Path(rejects_path) if rejects_path else default_rejects_path(table.path)
        result.rejects_path = write_rejects(out, table.headers, result.rejects, bad_cells)
    result.changes = Changes.of("leads", result.lead_ids, f"{len(rows)} leads imported")
    return result


__all__ = ["FileProblem", "LeadImportProblem", "LeadImportResult", "import_leads", "map_headers"]
