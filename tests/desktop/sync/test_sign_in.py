"""Signing in and out from the Sync section, against a real server: the dialog, its messages, the token."""

from __future__ import annotations

import json
import threading

import httpx
from PySide6.QtCore import Qt

from core.settings import Settings
from core.sync import engine

from tests.server.conftest import ADMIN, make_laptop
from tests.server.test_two_laptops import seed


def _view(qtbot, store):
    from desktop.context import AppContext
    from desktop.sync.view import SyncView

    ctx = AppContext(store, Settings(), persist_settings=False)
    view = SyncView(ctx)
    qtbot.addWidget(view)
    return ctx, view


def qtbot_click(button):
    from PySide6.QtTest import QTest

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _fill(dialog, server, email, password):
    dialog.server_edit.setText(server)
    dialog.email_edit.setText(email)
    dialog.password_edit.setText(password)
    qtbot_click(dialog.sign_in_button)


def test_sign_in_keeps_the_token_and_brings_the_teams_rows(qtbot, sqlite_server, credentials_file, tmp_path,
                                                          empty_store, monkeypatch):
    other = make_laptop(tmp_path, "other", sqlite_server, *ADMIN)
    seed(other)
    other.sync()
    # The sign-in must run on a worker, never on the GUI thread.
    threads = []
    real_login = engine.login

    def recording_login(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_login(*args, **kwargs)

    monkeypatch.setattr(engine, "login", recording_login)

    ctx, view = _view(qtbot, empty_store)
    assert view.sign_in_button.isVisibleTo(view) and not view.sign_out_button.isVisibleTo(view)
    assert not view.sync_button.isEnabled()
    qtbot_click(view.sign_in_button)
    dialog = view.sign_in_dialog
    assert dialog.isVisible()
    _fill(dialog, sqlite_server, ADMIN[0].upper(), ADMIN[1])
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
    assert threads == [False]

    st = engine.status(empty_store)
    assert (st.server, st.email, st.role) == (sqlite_server, ADMIN[0], "admin")
    token = json.loads(credentials_file.read_text())[f"{sqlite_server} {ADMIN[0]}"]
    with httpx.Client(base_url=sqlite_server, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/me").json()["email"] == ADMIN[0], "the kept token is the server's"
    assert dialog.password_edit.text() == "", "the password is not kept in the dialog"
    assert ADMIN[1] not in credentials_file.read_text()
    # Signing in syncs at once: the other laptop's rows arrive.
    qtbot.waitUntil(lambda: not view.running and engine.status(empty_store).last_sync_at is not None, timeout=30000)
    assert empty_store.scalar("SELECT count(*) FROM accounts WHERE name = 'Acme Tools'") == 1
    assert view.server_label.text() == f"{sqlite_server} as {ADMIN[0]} (admin)"
    assert view.sign_out_button.isVisibleTo(view) and not view.sign_in_button.isVisibleTo(view)

    # Sign out: the server ends that token, this computer forgets it, edits not sent stay queued.
    from core import accounts

    account = empty_store.scalar("SELECT id FROM accounts WHERE name = 'Acme Tools'")
    accounts.update_account(empty_store, account, {"phone": "555-0100"})
    qtbot_click(view.sign_out_button)
    qtbot.waitUntil(lambda: not view.signing_out, timeout=20000)
    assert not engine.status(empty_store).configured
    assert engine.status(empty_store).pending == 1
    assert f"{sqlite_server} {ADMIN[0]}" not in json.loads(credentials_file.read_text())
    with httpx.Client(base_url=sqlite_server, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.get("/me")
        assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    assert "Signed out" in view.error_label.text() and "1 changes wait" in view.error_label.text()
    assert view.sign_in_button.isVisibleTo(view) and not view.sync_button.isEnabled()
    assert not view.sync_timer.isActive()
    # Signing in again offers the same server and e-mail.
    qtbot_click(view.sign_in_button)
    assert view.sign_in_dialog.server_edit.text() == sqlite_server
    ctx.tasks.wait(5000)


def test_wrong_password_then_rate_limit_say_so_and_keep_nothing(qtbot, sqlite_server, credentials_file, empty_store):
    ctx, view = _view(qtbot, empty_store)
    view.open_sign_in()
    dialog = view.sign_in_dialog
    for attempt in range(5):
        _fill(dialog, sqlite_server, ADMIN[0], f"wrong {attempt}")
        qtbot.waitUntil(lambda: not dialog.busy, timeout=20000)
        assert dialog.message.text() == "Wrong e-mail or password."
        assert dialog.isVisible()
    _fill(dialog, sqlite_server, ADMIN[0], ADMIN[1])
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20000)
    assert "Too many failed sign-ins" in dialog.message.text() and "15 minutes" in dialog.message.text()
    assert dialog.isVisible()
    assert not engine.status(empty_store).configured
    assert not credentials_file.exists() or ADMIN[0] not in credentials_file.read_text()
    ctx.tasks.wait(5000)


def test_unreachable_server_and_bad_input_are_named(qtbot, credentials_file, empty_store):
    ctx, view = _view(qtbot, empty_store)
    view.open_sign_in()
    dialog = view.sign_in_dialog
    _fill(dialog, "sync.example.com", ADMIN[0], "x")
    assert dialog.message.text().startswith("Server:") and not dialog.busy
    _fill(dialog, "http://127.0.0.1:9", "not an email", "x")
    assert dialog.message.text().startswith("E-mail:")
    _fill(dialog, "http://127.0.0.1:9", ADMIN[0], "")
    assert dialog.message.text().startswith("Password:")
    _fill(dialog, "http://127.0.0.1:9", ADMIN[0], "some password")
    assert dialog.busy and not dialog.sign_in_button.isEnabled(), "the window stays live while it tries"
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    assert dialog.message.text() == ("Cannot reach the server at http://127.0.0.1:9. Check the address and your "
                                     "network connection.")
    assert dialog.sign_in_button.isEnabled() and not engine.status(empty_store).configured
    ctx.tasks.wait(5000)
