"""Starting the desktop: a display check, the database to open (last, demo or a new one), and error dialogs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core import settings as settings_mod
from core.demo import DemoSpec, write_demo
from core.storage.database import DatabaseError, open_database

NO_DISPLAY = ("fieldatlas: no display found. Set QT_QPA_PLATFORM=offscreen to render without a screen, "
              "or use the command line (fieldatlas --help).")


def has_display() -> bool:
    """False on a Linux box with no X11/Wayland and no explicit Qt platform, where Qt would abort."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def prepare_environment() -> None:
    """QtWebEngine's sandbox cannot run as root; it must be told before Qt starts."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--disable-background-networking" not in flags:
        # Maps must never reach for the network on their own (offline first, no surprises).
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --disable-background-networking").strip()


def application():
    """The QApplication, made once."""
    prepare_environment()
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("FieldAtlas")
        app.setOrganizationName("FieldAtlas")
        app.setDesktopFileName("fieldatlas")  # matches installers/linux/fieldatlas.desktop
        from importlib.resources import files

        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(files("resources") / "icons" / "fieldatlas.png")))
    return app


def ensure_demo(settings: settings_mod.Settings) -> Path:
    """The demo database in the data folder, written the first time only."""
    path = settings_mod.demo_database_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_demo(path, DemoSpec())
    return path


def run_desktop(db: str | None = None, demo: bool = False) -> int:
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    app = application()
    from PySide6.QtWidgets import QMessageBox

    from desktop.context import AppContext
    from desktop.main_window import MainWindow

    settings = settings_mod.load()
    create = False  # only a database the user just asked to create may be made here
    if demo:
        try:
            path = ensure_demo(settings)
        except Exception as exc:  # shown to the user; the app cannot go on without a database
            QMessageBox.critical(None, "FieldAtlas", f"Could not create the demo database:\n{exc}")
            return 1
    elif db:
        path = Path(db)
    elif settings.last_database and Path(settings.last_database).exists():
        path = Path(settings.last_database)
    else:
        path, create = _ask_for_database(settings)
        if path is None:
            return 0
    while True:
        try:
            store = open_database(path, create=create)
            break
        except DatabaseError as exc:
            path, create = _database_problem(exc, settings), False
            if path is None:
                return 1
    settings = settings.with_changes(last_database=str(path.resolve()))
    settings_mod.save(settings)
    ctx = AppContext(store, settings)
    window = MainWindow(ctx)
    window.show()
    window.prepare_in_background(("map",))   # QtWebEngine and the map page, before anyone asks
    _schedule_daily_backup(ctx)
    code = app.exec()
    dispose(window)
    store.close()
    return code


def dispose(window) -> None:
    """Delete a window and its web pages while the QApplication lives (QtWebEngine crashes otherwise)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def _schedule_daily_backup(ctx) -> None:
    """After start-up, off the GUI thread: verify a big file's pages, then make the daily backup."""
    from core.storage.backup import backup_if_due
    from core.storage.database import QUICK_CHECK_MAX_BYTES, check_integrity

    path = ctx.store.path

    def work(progress):
        if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
            check_integrity(path)  # a damaged file must not be copied over good backups
        return backup_if_due(path)

    ctx.tasks.run("Checking and backing up the database", work)


def _ask_for_database(settings: settings_mod.Settings) -> tuple[Path | None, bool]:
    """The welcome choice: (path, whether to create it)."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "Welcome to FieldAtlas",
                      "No database is open yet. Start with the demo data, create a new database, "
                      "or open an existing one.")
    demo = box.addButton("Open the demo", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton("Create new…", QMessageBox.ButtonRole.ActionRole)
    existing = box.addButton("Open existing…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is demo:
        return ensure_demo(settings), False
    if clicked is new:
        name, _ = QFileDialog.getSaveFileName(None, "New FieldAtlas database",
                                              str(settings.data_dir() / "fieldatlas.sqlite"),
                                              "FieldAtlas database (*.sqlite)")
        return (Path(name), True) if name else (None, False)
    if clicked is existing:
        name, _ = QFileDialog.getOpenFileName(None, "Open FieldAtlas database", str(settings.data_dir()),
                                              "FieldAtlas database (*.sqlite *.db);;All files (*)")
        return (Path(name), False) if name else (None, False)
    return None, False


def _database_problem(exc: DatabaseError, settings: settings_mod.Settings) -> Path | None:
    """The recovery dialog: says what is wrong, lists backups, and lets the user open another file."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from core.storage.backup import list_backups

    box = QMessageBox(QMessageBox.Icon.Critical, "FieldAtlas cannot open this database",
                      f"{exc.path}\n\n{exc.reason[0].upper()}{exc.reason[1:]}.")
    backups = list_backups(exc.path) if exc.path.exists() else []
    if backups:
        box.setInformativeText("Backups of it are kept in:\n" + str(backups[0].parent)
                               + "\n\nThe file itself was not changed.")
    other = box.addButton("Open another…", QMessageBox.ButtonRole.AcceptRole)
    restore = box.addButton("Open newest backup", QMessageBox.ButtonRole.ActionRole) if backups else None
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is other:
        name, _ = QFileDialog.getOpenFileName(None, "Open FieldAtlas database", str(settings.data_dir()),
                                              "FieldAtlas database (*.sqlite *.db);;All files (*)")
        return Path(name) if name else None
    if restore is not None and box.clickedButton() is restore:
        return backups[0]
    return None
