"""The main window driven like a user would: navigation, editing with undo, validation, layout memory."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core import accounts as svc
from core import settings as settings_mod
from desktop.context import AppContext
from desktop.main_window import MainWindow
from desktop.navigation import PLANNED_SECTIONS, SECTIONS, is_built


def make_window(qtbot, store, settings=None, persist=False):
    ctx = AppContext(store, settings or settings_mod.Settings(), persist_settings=persist)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_navigation_lists_only_built_sections(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    titles = [window.nav.item(row).text() for row in range(window.nav.count())]
    assert titles == [s.title for s in PLANNED_SECTIONS if is_built(s)]
    assert "Accounts" in titles and "Map" in titles
    for section in SECTIONS:
        window.show_section(section.key)
        assert window.stack.currentWidget() is window.view(section.key)
    assert "1,500 accounts" in window.counts_label.text()


def test_status_bar_counts_read_in_the_singular_for_one(qtbot, tmp_path):
    from core.storage.database import open_database
    from core.storage import writes
    store = open_database(tmp_path / "one.sqlite", create=True)
    with store.atomic():
        writes.insert(store, "accounts", {"name": "Only Account", "status": "active"})
    window = make_window(qtbot, store)
    window.refresh_counts()
    assert window.counts_label.text().startswith("1 account · 0 people · 0 territories")


def test_edit_save_undo_redo(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    aid = view.model.ids[0]
    view.select_ids([aid])
    detail = view.detail
    assert detail.account_id == aid
    employees = detail.fields["employees"]
    employees.clear()
    qtbot.keyClicks(employees, "4321")
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert svc.get_account(demo_store, aid)["employees"] == 4321
    assert view.model.data(view.model.index(0, [c.key for c in svc.COLUMNS].index("employees"))) == "4,321"
    window.undo_action.trigger()
    original = svc.get_account(demo_store, aid)["employees"]
    assert original != 4321
    assert detail.fields["employees"].text() == str(original)
    window.redo_action.trigger()
    assert svc.get_account(demo_store, aid)["employees"] == 4321


def test_invalid_edit_is_refused_with_the_reason(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    aid = view.model.ids[0]
    before = svc.get_account(demo_store, aid)
    view.select_ids([aid])
    detail = view.detail
    detail.fields["name"].clear()
    detail.fields["employees"].setText("-5")
    detail._mark_dirty()
    assert detail.save() is False
    assert "Name: a name is required" in detail.problems.text()
    assert "Employees: must not be negative" in detail.problems.text()
    assert svc.get_account(demo_store, aid)["name"] == before["name"]
    assert window.ctx.undo_stack.count() == 0


def test_search_filters_and_map_selection_reaches_the_table(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    qtbot.keyClicks(view.search, "Amarillo")
    qtbot.waitUntil(lambda: 0 < view.model.rowCount() < 1500, timeout=3000)
    target = svc.account_ids(demo_store, svc.AccountQuery(search="El Paso"))[0]
    window.ctx.select_accounts.emit([target])  # e.g. a marker clicked on the map
    assert view.selected_ids() == [target]
    assert view.detail.account_id == target


def test_new_and_delete_with_undo(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    view.new_account()
    new_id = view.detail.account_id
    assert svc.get_account(demo_store, new_id)["name"] == "New account"
    assert view.model.rowCount() == 1501
    view.select_ids([new_id])
    view.delete_selected()
    assert view.model.rowCount() == 1500
    window.undo_action.trigger()
    assert view.model.rowCount() == 1501


def test_layout_and_section_are_remembered(qtbot, demo_store, tmp_path):
    window = make_window(qtbot, demo_store, persist=True)
    window.resize(1000, 700)
    window.show_section("plan")
    view = window.view("accounts")
    view.table.setColumnWidth(0, 333)
    window.close()
    saved = settings_mod.load()
    assert saved.extra.get("section") == "plan" and saved.window_geometry and saved.accounts_header
    again = make_window(qtbot, demo_store, settings=saved)
    assert again.current_section() == "plan"
    assert again.view("accounts").table.columnWidth(0) == 333


def test_settings_dialog_validates_and_saves(qtbot, demo_store):
    from desktop.settings_dialog import SettingsDialog

    window = make_window(qtbot, demo_store)
    dialog = SettingsDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    dialog.tile_url.setText("ftp://nope")
    dialog.accept()
    assert not dialog.problems.isHidden()
    assert "Tile url must start with http" in dialog.problems.text()
    assert window.ctx.settings.tile_url == ""
    dialog.tile_url.setText("")
    dialog.units.setCurrentIndex(dialog.units.findData("km"))
    dialog.currency.setCurrentIndex(dialog.currency.findData("EUR"))
    dialog.accept()
    assert window.ctx.settings.units == "km" and window.ctx.settings.currency == "EUR"
    view = window.view("accounts")
    col = [c.key for c in svc.COLUMNS].index("potential_cents")
    assert view.model.data(view.model.index(0, col)).startswith("€")


def test_task_errors_reach_one_place(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    errors = []
    window.ctx.tasks.error.connect(lambda title, exc: errors.append((title, str(exc))))

    def fail(progress):
        raise ValueError("row 7: bad ZIP")

    window.ctx.tasks.run("Import", fail)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == [("Import", "row 7: bad ZIP")]


def test_tasks_report_progress_and_cancel(qtbot, demo_store):
    import time

    from core.progress import check_cancelled

    window = make_window(qtbot, demo_store)
    seen, outcome = [], []

    def slow(progress):
        for i in range(200):
            progress.update(i, 200, f"step {i}")
            check_cancelled(progress)
            time.sleep(0.01)
        return "finished"

    task = window.ctx.tasks.run("Slow", slow).with_progress(lambda d, t, m: seen.append(d))
    task.on_done(outcome.append).on_cancel(lambda: outcome.append("cancelled"))
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=5000)
    task.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert outcome == ["cancelled"]


def test_map_request_before_the_map_was_opened_reaches_it(qtbot, demo_store, monkeypatch):
    window = make_window(qtbot, demo_store)
    assert "map" not in window.views
    received = []
    from desktop.map import view as map_view

    monkeypatch.setattr(map_view.MapView, "show_on_map", lambda self, request: received.append(request))
    window.ctx.show_on_map.emit({"territory_id": 3})
    assert window.current_section() == "map"
    assert received == [{"territory_id": 3}]


def test_background_preparation_is_dropped_when_the_window_goes_first(qtbot, demo_store):
    from PySide6.QtCore import QCoreApplication, QEvent

    from desktop.main_window import MainWindow as Window

    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    window = Window(ctx)
    window.prepare_in_background(("map",), delay_ms=50)
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Before the fix the timer still fired and raised "Internal C++ object already deleted" in the
    # event loop, failing whichever test ran next; pytest-qt reports such exceptions here.
    qtbot.wait(200)


def test_every_section_title_fits_in_the_sidebar_of_a_narrow_window(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    window.resize(1000, 700)
    qtbot.wait(50)
    metrics = window.nav.fontMetrics()
    for row in range(window.nav.count()):
        item = window.nav.item(row)
        text_width = metrics.horizontalAdvance(item.text())
        assert window.nav.visualItemRect(item).width() >= text_width + 16, item.text()


def test_the_account_panel_shows_its_fields_whole_at_the_default_size(qtbot, demo_store):
    """The panel scrolls only vertically, so a panel squeezed narrower than its fields cut the Sunday toggle off."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QToolButton

    window = make_window(qtbot, demo_store)
    window.resize(1400, 860)
    view = window.view("accounts")
    view.splitter.setSizes([5000, 1])  # the user drags the panel as narrow as it goes
    view.select_ids([view.model.ids[0]])
    qtbot.wait(50)
    panel = view.detail
    sunday = panel.findChild(QToolButton, "weekday-sun")
    right = sunday.mapTo(panel, QPoint(sunday.width(), 0)).x()
    assert sunday.isVisible() and right <= panel.width() - 10, (right, panel.width())
