"""Accounts' fit and timing scores, worked out and stored: what books refreshes and segments (min_score) read.

Fit is the lead scoring rules' industry and size points for the account; timing is 10 points per
lead from the account received in the last 30 days, at most 30. Stored with every change logged,
so other laptops get the same scores through sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.changes import Changes
from core.leads.scoring import load_rules
from core.progress import Progress, check_cancelled
from core.storage import writes
from core.storage.database import Store

TIMING_DAYS = 30
TIMING_PER_LEAD = 10
TIMING_MAX = 30


def recent_leads(store: Store, today: date) -> dict[int, int]:
    """Account id -> leads from it received in the TIMING_DAYS before `today`."""
    return {r[0]: r[1] for r in store.conn.execute(
        "SELECT account_id, count(*) FROM leads WHERE deleted_at IS NULL AND account_id IS NOT NULL AND "
        "coalesce(received_at, created_at) >= ? GROUP BY account_id",
        ((today - timedelta(days=TIMING_DAYS)).isoformat(),))}


def timing_points(leads: int) -> int:
    return min(TIMING_MAX, TIMING_PER_LEAD * leads)


@dataclass
class ScoresResult:
    accounts: int = 0       # live accounts scored
    changed: int = 0        # whose stored fit or timing score changed
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        return (f"Scored {self.accounts:,} accounts (fit from the lead scoring rules, timing from leads in the "
                f"last {TIMING_DAYS} days): {self.changed:,} changed.")

    def as_dict(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "changed": self.changed}


def store_scores(store: Store, *, today: date | None = None, progress: Progress | None = None) -> ScoresResult:
    """Work out every live account's fit and timing score and store those that changed, in one transaction."""
    today = today or date.today()
    rules = load_rules(store)
    recent = recent_leads(store, today)
    rows = store.conn.execute("SELECT id, uid, industry, employees, fit_score, timing_score FROM accounts "
                              "WHERE deleted_at IS NULL").fetchall()
    check_cancelled(progress)
    edits = []
    for r in rows:
        fit, timing = rules.fit(r["industry"], r["employees"]), timing_points(recent.get(r["id"], 0))
        if (fit, timing) != (r["fit_score"], r["timing_score"]):
            edits.append((r["id"], r["uid"], fit, timing))
    with store.atomic():
        writes.update_columns(store, "accounts", ("fit_score", "timing_score"), edits)
    changes = Changes.of("accounts", [e[0] for e in edits], "account scores updated") if edits else Changes()
    return ScoresResult(len(rows), len(edits), changes)
