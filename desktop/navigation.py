"""The sections of the main window and where each one's view lives."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Callable

from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    module: str        # a module with create_view(ctx) -> QWidget
    issue: int | None  # the issue that brought (or brings) it
    summary: str


PLANNED_SECTIONS: tuple[Section, ...] = (
    Section("accounts", "Accounts", "desktop.accounts.view", None, "Your accounts, searchable and editable."),
    Section("territories", "Territories", "desktop.territories.view", 5,
            "Design territories, rules of engagement, and balance workload across reps."),
    Section("map", "Map", "desktop.map.view", 4, "Offline maps of accounts, territories and routes."),
    Section("plan", "Plan", "desktop.plan.view", 6, "Visit routes for the week and call rotations."),
    Section("expenses", "Mileage & Expenses", "desktop.expenses.view", None,
            "Trips, expenses and reports for approval."),
    Section("leads", "Leads", "desktop.leads.view", None, "Round-robin lead queues."),
    Section("reports", "Reports", "desktop.reports.view", None, "Coverage, goals and activity."),
    Section("sync", "Sync", "desktop.sync.view", None, "Sync with the team server."),
)


def module_exists(name: str) -> bool:
    """Whether a feature module has landed in this build (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def is_built(section: Section) -> bool:
    return module_exists(section.module)


# A sidebar entry for a view that has not landed would be a promise, not a feature: the window
# lists the sections whose view exists, in the planned order (menu actions follow the same rule).
SECTIONS: tuple[Section, ...] = tuple(s for s in PLANNED_SECTIONS if is_built(s))
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


def view_factory(section: Section) -> Callable[..., QWidget]:
    """The section's create_view; import errors in a built view surface rather than hide it."""
    return importlib.import_module(section.module).create_view
