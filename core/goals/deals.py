"""`import deals`: closed deals from a CRM export (CSV/XLSX), the revenue and new-account results goals are measured on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.changes import Changes
from core.importing.mapping import find_columns
from core.importing.reading import Table, open_table
from core.money import parse_cents
from core.leads.rejects import Reject, default_rejects_path, write_rejects
from core.storage import writes
from core.storage.database import Store

HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("dealid", "opportunityid", "id", "externalid", "recordid"),
    "name": ("deal", "dealname", "opportunity", "opportunityname", "name"),
    "account": ("account", "accountname", "company", "customer"),
    "rep": ("owner", "dealowner", "opportunityowner", "rep", "salesrep", "owneremail"),
    "amount": ("amount", "value", "dealvalue", "revenue", "total"),
    "closed_on": ("closedate", "closed", "closedon", "closeddate", "date"),
    "stage": ("stage", "dealstage", "status"),
    "new_account": ("newaccount", "newlogo", "newcustomer", "new"),
}
WON = {"won", "closed won", "closedwon", "closed-won", "win"}
LOST = {"lost", "closed lost", "closedlost", "closed-lost"}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y")


class DealImportProblem(ValueError):
    pass


@dataclass
class DealImportResult:
    rows_read: int = 0
    imported: int = 0
    won_cents: int = 0
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: Path | None = None
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        text = (f"Read {self.rows_read:,} rows: imported {self.imported:,} deals "
                f"(${self.won_cents / 100:,.0f} won), rejected {len(self.rejects):,}.")
        if self.rejects_path:
            text += f"\nRejected rows with their reasons: {self.rejects_path}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"rows_read": self.rows_read, "imported": self.imported, "won_cents": self.won_cents,
                "rejected": len(self.rejects), "rejects": [r.as_dict() for r in self.rejects],
                "rejects_file": str(self.rejects_path) if self.rejects_path else None}


def _date(text: str) -> date:
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def import_deals(store: Store, source: Path | str | Table, *, rejects_path: Path | str | None = None) -> DealImportResult:
    """Import closed deals (good rows in one transaction; bad ones to a rejects CSV with the reason)."""
    table = source if isinstance(source, Table) else open_table(source)
    cols = find_columns(table.headers, HEADERS)
    missing = [f for f in ("amount", "closed_on") if f not in cols]
    if missing:
        raise DealImportProblem(f"no column for {' or '.join(m.replace('closed_on', 'close date') for m in missing)} "
                                f"(headers: {', '.join(table.headers)})")
    if "rep" not in cols and "account" not in cols:
        raise DealImportProblem("no column for the deal's owner or account, so results cannot be credited to anyone")
    reps: dict[str, int] = {}
    for r in store.conn.execute("SELECT id, name, email FROM reps WHERE deleted_at IS NULL"):
        reps[r["name"].casefold()] = r["id"]
        if r["email"]:
            reps[r["email"].casefold()] = r["id"]
    accounts: dict[str, tuple[int, int | None]] = {}
    for r in store.conn.execute("SELECT id, name, external_id, owner_id FROM accounts WHERE deleted_at IS NULL ORDER BY id DESC"):
        accounts[r["name"].casefold()] = (r["id"], r["owner_id"])
        if r["external_id"]:
            accounts[r["external_id"].casefold()] = (r["id"], r["owner_id"])
    known = {r[0] for r in store.conn.execute("SELECT external_id FROM deals WHERE external_id IS NOT NULL AND deleted_at IS NULL")}
    result = DealImportResult()
    rows: list[dict[str, Any]] = []
    bad: dict[int, list] = {}
    for row_number, cells in table.rows():
        result.rows_read += 1

        def cell(fld: str) -> str:
            i = cols.get(fld)
            return (cells[i] or "").strip() if i is not None and i < len(cells) else ""

        def reject(fld: str, value: str, reason: str) -> None:
            result.rejects.append(Reject(row_number, fld, value, reason))
            bad[row_number] = cells

        ext = cell("external_id") or None
        if ext and ext in known:
            reject("deal id", ext, "already imported")
            continue
        try:
            amount = parse_cents(cell("amount"))
        except ValueError:
            reject("amount", cell("amount"), "not an amount of money")
            continue
        if amount is None or amount < 0:
            reject("amount", cell("amount"), "a deal needs an amount of zero or more")
            continue
        try:
            closed = _date(cell("closed_on"))
        except ValueError:
            reject("close date", cell("closed_on"), "not a date (2026-11-20 or 11/20/2026)")
            continue
        stage_text = cell("stage").lower() or "won"
        stage = "won" if stage_text in WON else "lost" if stage_text in LOST else None
        if stage is None:
            reject("stage", cell("stage"), "only closed deals are imported: won or lost")
            continue
        account = accounts.get(cell("account").casefold()) if cell("account") else None
        if cell("account") and account is None:
            reject("account", cell("account"), "no account with this name or CRM id")
            continue
        rep_id = reps.get(cell("rep").casefold()) if cell("rep") else (account[1] if account else None)
        if cell("rep") and rep_id is None:
            reject("owner", cell("rep"), "no rep with this name or email")
            continue
        if rep_id is None:
            reject("owner", "", "the account has no owner and the row names none")
            continue
        new = cell("new_account").lower() in ("yes", "y", "true", "1", "x")
        if ext:
            known.add(ext)
        rows.append({"external_id": ext, "name": cell("name") or None, "account_id": account[0] if account else None,
                     "rep_id": rep_id, "amount_cents": amount, "currency": "USD", "stage": stage,
                     "closed_on": closed.isoformat(), "new_account": int(new)})
        if stage == "won":
            result.won_cents += amount
    with store.atomic():
        ids = writes.insert_many(store, "deals", rows)
    result.imported = len(rows)
    if result.rejects:
        out = Path(rejects_path) if rejects_path else default_rejects_path(table.path)
        result.rejects_path = write_rejects(out, table.headers, result.rejects, bad)
    result.changes = Changes.of("deals", ids, f"{len(ids)} deals imported")
    return result
