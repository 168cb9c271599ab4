"""Lead-to-account matching: the email's company domain first, then a fuzzy company name (rapidfuzz), nearer ZIPs winning ties."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from core.importing.values import normalise_name, zip5
from core.storage.database import Store

# Mail from these domains says nothing about the company.
FREEMAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com",
    "icloud.com", "me.com", "msn.com", "proton.me", "protonmail.com", "gmx.com", "mail.com", "comcast.net",
    "att.net", "sbcglobal.net", "verizon.net", "example.net", "example.com", "yandex.com", "zoho.com",
})
# Legal forms and filler words: "Lone Star Medical Group LLC" and "Lone Star Medical" are one company.
_FILLER = frozenset({"llc", "inc", "co", "corp", "corporation", "company", "ltd", "the", "group", "and", "of", "sons"})
NAME_CUTOFF = 90  # token_sort_ratio; 90 keeps "Cedar Builders" apart from "Cedar Building Supply"


def company_key(name: str | None) -> str:
    words = [w for w in normalise_name(name or "").split() if w not in _FILLER]
    return " ".join(words)


def domain_of(text: str | None) -> str:
    """'maria@Mail.LoneStar.com' or 'https://www.lonestar.com/x' -> 'lonestar.com' ('' when none)."""
    if not text:
        return ""
    text = text.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0].split(":", 1)[0]
    parts = [p for p in text.split(".") if p]
    if parts and parts[0] == "www":
        parts = parts[1:]
    # The registrable part is enough here: mail.lonestar.com and lonestar.com are one company.
    return ".".join(parts[-2:]) if len(parts) >= 2 else ""


@dataclass(frozen=True)
class Match:
    account_id: int
    account_name: str
    owner_id: int | None
    how: str  # "email domain" | "company name"

    def reason(self) -> str:
        return f"matched to {self.account_name} by {self.how}"


class AccountIndex:
    """Live accounts by website domain and by company key, built once per import or routing run."""

    def __init__(self, store: Store) -> None:
        self.by_domain: dict[str, list[dict[str, Any]]] = {}
        self.keys: list[str] = []
        self.rows: list[dict[str, Any]] = []
        for r in store.conn.execute("SELECT id, name, website, postal_code, owner_id FROM accounts "
                                    "WHERE deleted_at IS NULL ORDER BY id"):
            row = dict(r)
            row["zip"] = zip5(row["postal_code"])
            domain = domain_of(row["website"])
            if domain:
                self.by_domain.setdefault(domain, []).append(row)
            key = company_key(row["name"])
            if key:
                self.keys.append(key)
                self.rows.append(row)

    def match(self, company: str | None, email: str | None, postal_code: str | None = None) -> Match | None:
        lead_zip = zip5(postal_code)
        domain = domain_of(email)
        if domain and domain not in FREEMAIL and domain in self.by_domain:
            row = self._nearest(self.by_domain[domain], lead_zip)
            return Match(row["id"], row["name"], row["owner_id"], "email domain")
        key = company_key(company)
        if not key or not self.keys:
            return None
        found = process.extract(key, self.keys, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF, limit=20)
        if not found:
            return None
        best = max(score for _, score, _ in found)
        candidates = [self.rows[i] for _, score, i in found if score == best]
        row = self._nearest(candidates, lead_zip)
        return Match(row["id"], row["name"], row["owner_id"], "company name")

    @staticmethod
    def _nearest(rows: list[dict[str, Any]], lead_zip: str) -> dict[str, Any]:
        # Same ZIP first, then the same three-digit area, then the oldest account: one answer every time.
        return min(rows, key=lambda r: (r["zip"] != lead_zip, r["zip"][:3] != lead_zip[:3], r["id"]))
