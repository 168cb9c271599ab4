"""The shared shape of the app's small forms: fields, a message line that says why a save was refused, Save/Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLayout, QVBoxLayout, QWidget

REFUSED_STYLE = "color: #b00020"


class FormDialog(QDialog):
    """Fields in `self.form` (or anything added with `add_above_message`), then the message line, then the buttons.

    Save runs `save()`; a subclass saves through a core service and either accepts (keeping the
    service's Changes in `self.changes`) or calls `refuse(reason)`, which leaves the dialog open with
    the reason shown in place, so nothing the user typed is lost.
    """

    def __init__(self, title: str, parent: QWidget | None = None, *, save_text: str | None = None,
                 message_name: str = "form-message") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.changes = None
        self.form = QFormLayout()
        self.message = QLabel("")
        self.message.setObjectName(message_name)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        if save_text:
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(save_text)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.form)
        self.body.addWidget(self.message)
        self.body.addWidget(self.buttons)

    def add_above_message(self, item: QWidget | QLayout, stretch: int = 0) -> None:
        """Put a widget or layout after the fields and before the message line."""
        at = self.body.indexOf(self.message)
        if isinstance(item, QLayout):
            self.body.insertLayout(at, item, stretch)
        else:
            self.body.insertWidget(at, item, stretch)

    def say(self, text: str) -> None:
        """A plain note in the message line (what the form will do, progress)."""
        self.message.setStyleSheet("")
        self.message.setText(text)

    def refuse(self, reason: str) -> None:
        """Why the save was refused, in red; the dialog stays open."""
        self.message.setStyleSheet(REFUSED_STYLE)
        self.message.setText(reason)
        self.message.show()

    def save(self) -> None:
        self.accept()
