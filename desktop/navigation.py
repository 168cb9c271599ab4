"""The sections of the main window and where each one's view lives."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    module: str        # a module with create_view(ctx) -> QWidget
    issue: int | None  # the issue that brings it, for the not-yet-built notice
    summary: str


SECTIONS: tuple[Section, ...] = (
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
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


def is_built(section: Section) -> bool:
    try:
        return importlib.util.find_spec(section.module) is not None
    except ModuleNotFoundError:
        return False


def view_factory(section: Section) -> Callable[..., QWidget]:
    """The section's create_view, or a plain notice when that part of FieldAtlas is not built yet."""
    if is_built(section):
        # Import errors in a built view must surface, not turn into a silent placeholder.
        return importlib.import_module(section.module).create_view
    return lambda ctx: NotBuiltView(section)


class NotBuiltView(QWidget):
    """Says plainly that a section has not landed yet."""

    def __init__(self, section: Section) -> None:
        super().__init__()
        self.setObjectName(f"{section.key}-not-built")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(f"<h2>{section.title}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        where = (f"This part of FieldAtlas is not built yet; it arrives with issue #{section.issue}."
                 if section.issue else "This part of FieldAtlas is not built yet.")
        text = QLabel(f"{section.summary}<br><br>{where}")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        text.setStyleSheet("color: #555; font-size: 14px;")
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addStretch(2)
