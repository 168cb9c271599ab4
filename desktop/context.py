"""What every view is handed: the open database, settings, the task runner, undo, and the change bus."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core import settings as settings_mod
from core.changes import Changes
from core.settings import Settings
from core.storage.database import Store
from desktop.tasks import TaskRunner


class AppContext(QObject):
    """Shared by the views of one main window; views talk to each other only through its signals."""

    changed = Signal(object)          # Changes, after any write
    select_accounts = Signal(list)    # account ids to select in the Accounts view
    navigate = Signal(str)            # section key to show
    settings_changed = Signal(object)  # Settings
    # Ask the Map to show something: {"account_ids": [...]}, {"territory_id": id},
    # {"scenario_id": id}, {"route_ids": [...]} or {"rep_id": id}; the main window delivers it.
    show_on_map = Signal(dict)
    # Plan visits to these accounts for this rep: (rep_id, [account ids]); delivered to the Plan.
    plan_accounts = Signal(int, list)

    def __init__(self, store: Store, settings: Settings, *, persist_settings: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.persist_settings = persist_settings
        self.tasks = TaskRunner(self)
        self.undo_stack = QUndoStack(self)

    def apply(self, changes: Changes) -> None:
        """Broadcast what a core service changed; each view refreshes only what it shows."""
        if changes:
            self.changed.emit(changes)

    def update_settings(self, **values) -> Settings:
        self.settings = self.settings.with_changes(**values)
        if self.persist_settings:
            settings_mod.save(self.settings)
        self.settings_changed.emit(self.settings)
        return self.settings
