"""Starting the desktop on a bad database shows the recovery dialog, never a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from desktop import app as app_module


def test_corrupt_database_opens_the_recovery_dialog(qapp, tmp_path, monkeypatch):
    bad = tmp_path / "broken.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    before = bad.read_bytes()
    shown = []

    def fake_exec(box):
        shown.append((box.windowTitle(), box.text()))
        quit_button = [b for b in box.buttons() if b.text() == "Quit"][0]
        quit_button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    assert app_module.run_desktop(db=str(bad)) == 1
    assert shown and shown[0][0] == "FieldAtlas cannot open this database"
    assert str(bad) in shown[0][1]
    assert bad.read_bytes() == before


def test_newer_database_message_says_to_update(qapp, demo_db, monkeypatch):
    import sqlite3

    conn = sqlite3.connect(demo_db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('fieldatlas', 'm9999_future', 'x')")
    conn.commit()
    conn.close()
    texts = []

    def fake_exec(box):
        texts.append(box.text())
        [b for b in box.buttons() if b.text() == "Quit"][0].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    assert app_module.run_desktop(db=str(demo_db)) == 1
    assert "update FieldAtlas" in texts[0]


def test_welcome_creates_only_a_database_the_user_asked_for(qapp, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    new = tmp_path / "new.sqlite"
    monkeypatch.setattr(app_module, "_ask_for_database", lambda settings: (new, True))
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    assert app_module.run_desktop() == 0
    assert new.exists()

    missing = tmp_path / "typo.sqlite"
    problems = []
    monkeypatch.setattr(app_module, "_database_problem", lambda exc, settings: problems.append(exc) or None)
    assert app_module.run_desktop(db=str(missing)) == 1
    assert not missing.exists() and "no database at this path" in str(problems[0])
