"""The Settings dialog: units, currency, data folder and online services, over the one typed Settings object."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QVBoxLayout, QWidget,
)

from core import settings as settings_mod
from desktop.context import AppContext


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        s = ctx.settings

        self.units = QComboBox()
        self.units.addItem("Miles", "mi")
        self.units.addItem("Kilometres", "km")
        self.units.setCurrentIndex(max(0, self.units.findData(s.units)))
        self.currency = QComboBox()
        for code in settings_mod.CURRENCIES:
            self.currency.addItem(code, code)
        self.currency.setCurrentIndex(max(0, self.currency.findData(s.currency)))
        self.data_folder = QLineEdit(s.data_folder)
        self.data_folder.setPlaceholderText(str(settings_mod.default_data_dir()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(browse)
        self.tile_url = QLineEdit(s.tile_url)
        self.tile_url.setPlaceholderText("https://tile.openstreetmap.org/{z}/{x}/{y}.png (optional)")
        self.routing_url = QLineEdit(s.routing_url)
        self.routing_url.setPlaceholderText("OSRM server, e.g. https://osrm.example.com (optional)")

        form = QFormLayout()
        form.addRow("Distances in", self.units)
        form.addRow("Currency", self.currency)
        form.addRow("Data folder", folder_row)
        form.addRow("Map tiles URL", self.tile_url)
        form.addRow("Routing server", self.routing_url)

        self.problems = QLabel()
        self.problems.setStyleSheet("color: #c62828;")
        self.problems.setWordWrap(True)
        self.problems.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        hint = QLabel("<small>The data folder holds the demo database and backups. "
                      "Online services are used only when reachable; everything works offline.</small>")
        hint.setWordWrap(True)  # one line was wider than the dialog: "everything works offline" was cut off
        layout.addWidget(hint)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_folder.text()
                                                  or str(settings_mod.default_data_dir()))
        if folder:
            self.data_folder.setText(folder)

    def chosen(self) -> settings_mod.Settings:
        return self.ctx.settings.with_changes(
            units=self.units.currentData(), currency=self.currency.currentData(),
            data_folder=self.data_folder.text().strip(), tile_url=self.tile_url.text().strip(),
            routing_url=self.routing_url.text().strip())

    def accept(self) -> None:
        chosen = self.chosen()
        problems = settings_mod.validate(chosen)
        if problems:
            self.problems.setText("\n".join(f"• {p[0].upper()}{p[1:]}" for p in problems))
            self.problems.show()
            return
        self.ctx.update_settings(units=chosen.units, currency=chosen.currency, data_folder=chosen.data_folder,
                                 tile_url=chosen.tile_url, routing_url=chosen.routing_url)
        super().accept()
