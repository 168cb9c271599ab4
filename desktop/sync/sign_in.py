"""The Sign in dialog of the Sync section: server, e-mail and password, checked by the server on a worker."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from core.sync import engine
from core.sync.transport import NotLoggedIn, Offline, Refused, SyncError
from desktop.context import AppContext
from desktop.tasks import open_worker_store

EXAMPLE_SERVER = "https://sync.example.com"


def problem_text(exc: BaseException, server: str) -> str:
    """What went wrong with a sign-in, in words a rep can act on."""
    if isinstance(exc, NotLoggedIn):
        return "Wrong e-mail or password."
    if isinstance(exc, Refused) and exc.status == 429:
        return "Too many failed sign-ins for this e-mail. Wait 15 minutes, then try again."
    if isinstance(exc, Offline):
        return f"Cannot reach the server at {server}. Check the address and your network connection."
    if isinstance(exc, Refused):
        return f"The server refused the sign-in: {exc}"
    if isinstance(exc, SyncError):
        return str(exc)
    return f"Sign-in failed: {exc}"


class SignInDialog(QDialog):
    """Asks for the server, e-mail and password and signs in through core.sync.engine.login on a worker.

    The password goes only to the server; the token it answers with is kept in the keyring (or the
    private file where there is none), as `fieldatlas login` does. `signed_in` carries the answer.
    """

    signed_in = Signal(dict)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.busy = False
        self.setWindowTitle("Sign in to the team server")
        st = engine.status(ctx.store)
        self.server_edit = QLineEdit(st.server or "")
        self.server_edit.setObjectName("sign_in_server")
        self.server_edit.setPlaceholderText(EXAMPLE_SERVER)
        self.email_edit = QLineEdit(st.email or "")
        self.email_edit.setObjectName("sign_in_email")
        self.email_edit.setPlaceholderText("you@example.com")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("sign_in_password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("sign_in_message")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(360)

        form = QFormLayout()
        form.addRow("Server:", self.server_edit)
        form.addRow("E-mail:", self.email_edit)
        form.addRow("Password:", self.password_edit)
        intro = QLabel("Sign in with the account your team's admin made for you. The password is checked "
                       "by the server and not kept on this computer.")
        intro.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.sign_in_button = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setObjectName("sign_in_button")
        self.sign_in_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.cancel_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.password_edit if st.email else self.server_edit if not st.server else self.email_edit).setFocus()

    def _say(self, text: str, error: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in (self.server_edit, self.email_edit, self.password_edit, self.sign_in_button):
            widget.setEnabled(not busy)

    def sign_in(self) -> None:
        server = self.server_edit.text().strip()
        email = self.email_edit.text().strip()
        password = self.password_edit.text()
        if not server.startswith(("http://", "https://")):
            self._say(f"Server: give the address your admin sent, starting with https:// (e.g. {EXAMPLE_SERVER}).")
            self.server_edit.setFocus()
            return
        if "@" not in email:
            self._say("E-mail: give the e-mail address you sign in with.")
            self.email_edit.setFocus()
            return
        if not password:
            self._say("Password: type your password.")
            self.password_edit.setFocus()
            return
        self._set_busy(True)
        self._say(f"Signing in to {server}…", error=False)
        path = self.ctx.store.path

        def work(progress) -> dict[str, Any]:
            with open_worker_store(path) as store:  # the worker's own connection; never the GUI's
                return engine.login(store, server, email, password)

        task = self.ctx.tasks.run("Signing in to the team server", work)
        task.on_done(self._done).on_error(lambda exc: self._failed(exc, server))

    def _done(self, answer: dict[str, Any]) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self._say("")
        self.signed_in.emit(answer)
        self.accept()

    def _failed(self, exc: BaseException, server: str) -> None:
        self._set_busy(False)
        self._say(problem_text(exc, server))
        self.password_edit.selectAll()
        self.password_edit.setFocus()
