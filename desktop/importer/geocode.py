"""File → Geocode accounts: choose offline or online, run in the background, list the accounts not found."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget,
)

from core.geocoding import GeocodeResult, GeocoderProblem, OnlineGeocoder, PROVIDERS, geocode_accounts
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.tasks import open_worker_store


class GeocodeDialog(QDialog):
    """Offline (instant, ZIP/city centres) or online (street addresses, about one per second)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: GeocodeResult | None = None
        self.setWindowTitle("Geocode accounts")
        intro = self.intro = QLabel()
        intro.setWordWrap(True)
        self._count()
        self.offline = QRadioButton("Offline — ZIP code and city centres shipped with FieldAtlas (instant, US only)")
        self.online = QRadioButton("Online — street addresses, about one per second; every answer is kept")
        self.offline.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.offline)
        group.addButton(self.online)
        self.provider = QComboBox()
        self.provider.addItems(sorted(PROVIDERS))
        self.provider.setCurrentText("nominatim")
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("only for providers that need a key")
        self.limit = QSpinBox()
        self.limit.setRange(1, 100_000)
        self.limit.setValue(500)
        self.limit.setSuffix(" lookups at most")
        self.online_form = QWidget()
        form = QFormLayout(self.online_form)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Service:", self.provider)
        form.addRow("API key:", self.api_key)
        form.addRow("This run:", self.limit)
        self.online.toggled.connect(self.online_form.setEnabled)
        self.online_form.setEnabled(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # The Close button is the Stop button while it runs (see reject).
        self.geocoding = BackgroundWork(self, ctx.tasks, "Geocoding accounts", progress=True, status=self.summary)
        self.geocoding.ended.connect(self._end)
        self.progress = self.geocoding.progress
        self.unmatched = QListWidget()
        self.unmatched.hide()
        self.show_button = QPushButton("Show these in Accounts")
        self.show_button.hide()
        self.show_button.clicked.connect(self._show_unmatched)
        self.buttons = QDialogButtonBox()
        self.start = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.start.clicked.connect(self._start)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.offline)
        layout.addWidget(self.online)
        layout.addWidget(self.online_form)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.unmatched, 1)
        row = QHBoxLayout()
        row.addWidget(self.show_button)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout.addLayout(row)
        self.resize(640, 420)

    def _count(self) -> None:
        counts = self.ctx.store.query(
            "SELECT count(*) FILTER (WHERE lat IS NULL), count(*) FILTER (WHERE geocode_precision IN ('zip','city')),"
            " count(*) FILTER (WHERE geocode_precision = 'manual') FROM accounts WHERE deleted_at IS NULL")[0]
        self.intro.setText(f"<b>{counts[0]:,}</b> accounts have no location yet; {counts[1]:,} are placed at a ZIP "
                           f"or city centre. {counts[2]:,} pins placed by hand are never moved.")

    def _start(self) -> None:
        online = self.online.isChecked()
        geocoder = None
        if online:
            try:
                geocoder = OnlineGeocoder(self.provider.currentText(), api_key=self.api_key.text().strip() or None)
            except GeocoderProblem as exc:
                self.summary.setText(f"<span style='color:#b00020'>{exc}</span>")
                return
        limit = self.limit.value() if online else None
        path = self.ctx.store.path

        def work(progress):
            store = open_worker_store(path)
            try:
                return geocode_accounts(store, online=online, geocoder=geocoder, limit=limit, progress=progress)
            finally:
                store.close()

        self.start.setEnabled(False)
        self.close_button.setText("Stop")
        self.geocoding.start(work, self._done, message="Locating accounts…", progress=self._on_progress,
                             error="<span style='color:#b00020'>Geocoding failed: {error}</span>",
                             cancelled=lambda: self.summary.setText(
                                 "Stopped. Online answers found so far were kept; offline work was not saved."))

    @property
    def task(self):
        """The geocoding going on, None when idle."""
        return self.geocoding.task

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setFormat(f"{done:,} of {total:,} — {message}" if message else "%p%")

    def _end(self) -> None:
        self.start.setEnabled(True)
        self.close_button.setText("Close")

    def _done(self, result: GeocodeResult) -> None:
        self.result = result
        self.ctx.apply(result.changes)
        self._count()
        self.summary.setText(result.summary())
        self.unmatched.clear()
        for u in result.unmatched:
            item = QListWidgetItem(f"{u['name']} — {u['address'] or 'no address'}: {u['reason']}")
            item.setData(Qt.ItemDataRole.UserRole, u["id"])
            self.unmatched.addItem(item)
        self.unmatched.setVisible(bool(result.unmatched))
        self.show_button.setVisible(bool(result.unmatched))

    def _show_unmatched(self) -> None:
        if self.result is None:
            return
        ids = [u["id"] for u in self.result.unmatched]
        self.ctx.navigate.emit("accounts")
        self.ctx.select_accounts.emit(ids)

    def reject(self) -> None:
        if self.geocoding.running:
            self.geocoding.cancel()
            return
        super().reject()


def start_geocode(ctx: AppContext, parent: QWidget | None = None) -> GeocodeDialog:
    """File → Geocode accounts…: show the dialog (non-modal)."""
    dialog = GeocodeDialog(ctx, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:
        # Nothing else holds a parentless dialog: without this Python would delete it at once.
        _open.add(dialog)
        dialog.finished.connect(lambda _=0: _open.discard(dialog))
    dialog.show()
    return dialog


_open: set[GeocodeDialog] = set()
