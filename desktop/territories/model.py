"""What the Territories view loads on a worker: territories, figures, the rules report and the account snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.balancing.scenarios import compare_scenario, list_scenarios, scenario_moves
from core.progress import Progress
from core.territories.engagement import (
    AccountSnapshot, EngagementReport, Territory, engagement_report, list_territories, load_accounts, load_members,
)
from core.territories.service import TerritoryFigures, territory_figures
from desktop.tasks import open_worker_store


@dataclass(frozen=True)
class Overview:
    """One consistent read of everything the territories tab shows."""

    territories: list[Territory]
    figures: dict[int, TerritoryFigures]
    report: EngagementReport
    snapshot: AccountSnapshot
    people: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]
    members: dict[int, list[tuple[int, str]]]


def load_overview(path: Path, progress: Progress | None = None) -> Overview:
    """Read on a worker thread with its own connection."""
    store = open_worker_store(path)
    try:
        if progress is not None:
            progress.update(0, 3, "Reading accounts")
        snapshot = load_accounts(store)
        if progress is not None:
            progress.update(1, 3, "Applying the rules")
        figures = territory_figures(store, snapshot)
        report = engagement_report(store, snapshot)
        people = [dict(r) for r in store.conn.execute(
            "SELECT id, name, role, home_lat, home_lon FROM reps WHERE deleted_at IS NULL AND active = 1 "
            "ORDER BY role != 'manager', name")]
        return Overview(list_territories(store), figures, report, snapshot, people, list_scenarios(store),
                        load_members(store))
    finally:
        store.close()


@dataclass(frozen=True)
class ScenarioView:
    comparison: Any
    moves: list[dict[str, Any]]


def load_scenario(path: Path, scenario_id: int, progress: Progress | None = None) -> ScenarioView:
    """A scenario beside today, and its moves (worker thread)."""
    store = open_worker_store(path)
    try:
        return ScenarioView(compare_scenario(store, scenario_id), scenario_moves(store, scenario_id))
    finally:
        store.close()
