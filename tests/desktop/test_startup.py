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
