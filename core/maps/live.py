"""What changed between two map payloads, as the patch a live page applies without reloading."""

from __future__ import annotations

from typing import Any

from core.maps.layers import MapOptions, load_map_data
from core.maps.page import payload
from core.progress import Progress, check_cancelled
from core.storage.database import Store

ACCOUNT_COLUMNS = ("id", "lat", "lon", "cat", "name", "tier", "pot", "city")
# Parts the page rebuilds whole when they differ (small next to the accounts).
WHOLE_PARTS = ("title", "states", "categories", "territories", "noTerritory", "reps", "routes", "base")


def current_payload(store: Store, options: MapOptions, progress: Progress | None = None) -> dict[str, Any]:
    """The payload a freshly built page would carry now (read on a worker with its own connection)."""
    data = load_map_data(store, options, progress)
    check_cancelled(progress)
    return payload(data, options)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The patch that turns a page showing `old` into one showing `new`; empty when nothing changed.

    Accounts go by id: `upsert` holds the rows that are new or differ (columns as in the payload),
    `removed` the ids that are gone (deleted, or no longer located). Other parts are sent whole.
    When the categories change, every account's colour index may mean another colour, so the page
    recolours all pins (the rows sent are still only those whose values changed).
    """
    patch: dict[str, Any] = {}
    for key in WHOLE_PARTS:
        if old.get(key) != new.get(key):
            patch[key] = new.get(key)
    a_old, a_new = old["accounts"], new["accounts"]
    before = {row[0]: row for row in zip(*(a_old[c] for c in ACCOUNT_COLUMNS))}
    upsert: dict[str, list] = {c: [] for c in ACCOUNT_COLUMNS}
    seen = set()
    for row in zip(*(a_new[c] for c in ACCOUNT_COLUMNS)):
        seen.add(row[0])
        if before.get(row[0]) != row:
            for c, value in zip(ACCOUNT_COLUMNS, row):
                upsert[c].append(value)
    removed = [i for i in before if i not in seen]
    if upsert["id"] or removed:
        patch["accounts"] = {"upsert": upsert, "removed": removed}
    return patch


def summary(patch: dict[str, Any]) -> str:
    """A short line for logs and benchmarks: what the patch touches."""
    parts = [k for k in WHOLE_PARTS if k in patch]
    if "accounts" in patch:
        a = patch["accounts"]
        parts.append(f"{len(a['upsert']['id'])} accounts changed, {len(a['removed'])} removed")
    return ", ".join(parts) or "nothing"
