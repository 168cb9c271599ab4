"""Shared fixtures: a demo database made once per run, fresh copies per test, offscreen Qt."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

# Before any Qt import: offscreen rendering, and QtWebEngine without its sandbox when run as root.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

DEMO_TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's settings or data folder."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("FIELDATLAS_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("FIELDATLAS_CONFIG_DIR", str(base / "config"))


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory) -> Path:
    """A default demo (1,500 accounts, 8 reps, TX) written once; copy it, never write to it."""
    from core.demo import DemoSpec, write_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    write_demo(path, DemoSpec(today=DEMO_TODAY))
    return path


@pytest.fixture
def demo_db(demo_db_template, tmp_path) -> Path:
    """A fresh copy of the demo database for one test."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_db_template, path)
    return path


@pytest.fixture
def demo_store(demo_db):
    from core.storage import open_database

    store = open_database(demo_db)
    yield store
    store.close()


@pytest.fixture
def empty_store(tmp_path):
    from core.storage import open_database

    store = open_database(tmp_path / "empty.sqlite", create=True)
    yield store
    store.close()


def pytest_sessionfinish(session, exitstatus):
    """Delete every widget (web views and their pages first) while the QApplication still lives.

    Left to the interpreter's shutdown, QtWebEngine pages can outlive their profile and the
    process segfaults after the tests have passed, which would fail the run.
    """
    import gc
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    gc.collect()
