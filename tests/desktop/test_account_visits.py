"""Visit parameters in the Accounts section: the hours editor per weekday, weekdays, and bulk edit, all undoable."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer

from core import accounts as svc
from core import settings as settings_mod
from core.account_value import read_account
from core.opening_hours import WEEKDAYS
from desktop.accounts.bulk import BulkVisitDialog
from desktop.context import AppContext
from tests.desktop.test_main_window import make_window


def test_hours_editor_per_weekday_saves_and_undoes(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    aid = view.model.ids[0]
    view.select_ids([aid])
    detail = view.detail
    before = read_account(demo_store, aid)
    hours = detail.fields["opening_hours"]
    for i, edit in enumerate(hours.days):
        edit.clear()
        qtbot.keyClicks(edit, "" if i != 5 else "9am-1pm")   # open Saturday mornings only
    qtbot.keyClicks(hours.days[0], "8-12, 13:00-17:00")      # and Monday, split by lunch
    qtbot.mouseClick(detail.fields["allowed_weekdays"].buttons[6], Qt.MouseButton.LeftButton)  # never Sunday
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    after = read_account(demo_store, aid)
    assert after.hours.days[0] == ((480, 720), (780, 1020)) and after.hours.days[5] == ((540, 780),)
    assert after.hours.open_weekdays() == ("mon", "sat")
    assert after.allowed_weekdays == WEEKDAYS[:6]
    assert "Mon 08:00–12:00, 13:00–17:00, Sat 09:00–13:00" in detail.hours.text()
    assert hours.days[1].text() == "" and hours.days[1].placeholderText() == "closed"

    window.undo_action.trigger()
    undone = read_account(demo_store, aid)
    assert (undone.hours, undone.allowed_weekdays) == (before.hours, before.allowed_weekdays)
    window.redo_action.trigger()
    assert read_account(demo_store, aid).hours == after.hours


def test_unreadable_hours_are_refused_with_the_day_and_reason(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    aid = view.model.ids[0]
    view.select_ids([aid])
    detail = view.detail
    stored = svc.get_account(demo_store, aid)["opening_hours"]
    edit = detail.fields["opening_hours"].days[2]
    edit.clear()
    qtbot.keyClicks(edit, "17:00-08:00")
    assert detail.save() is False
    assert "Opening hours: Wed: 17:00-08:00: closes before it opens" in detail.problems.text()
    assert svc.get_account(demo_store, aid)["opening_hours"] == stored


def test_showing_an_account_is_not_an_edit(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    view.select_ids([view.model.ids[3]])
    changed, problems = view.detail.changed_values()
    assert changed == {} and problems == []


def test_bulk_edit_sets_tier_a_weekly_45_minutes_in_one_undo_step(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    territory = demo_store.scalar("SELECT territory_id FROM accounts WHERE tier = 'A' AND territory_id IS NOT NULL "
                                  "AND deleted_at IS NULL LIMIT 1")
    view.tier_filter.setCurrentIndex(view.tier_filter.findData("A"))
    view.territory_filter.setCurrentIndex(view.territory_filter.findData(territory))
    ids = list(view.model.ids)
    assert ids == [r[0] for r in demo_store.conn.execute(
        "SELECT id FROM accounts WHERE tier = 'A' AND territory_id = ? AND deleted_at IS NULL ORDER BY name COLLATE "
        "NOCASE, id", (territory,))]
    untouched = demo_store.scalar("SELECT id FROM accounts WHERE tier = 'A' AND territory_id != ? LIMIT 1", (territory,))
    untouched_before = svc.get_account(demo_store, untouched)
    view.table.selectAll()
    assert view.visits_button.isEnabled() and len(view.selected_ids()) == len(ids)
    before = {i: (a.visit_frequency, a.visit_minutes) for i in ids if (a := read_account(demo_store, i))}

    def fill_and_apply():
        dialog = view.findChild(BulkVisitDialog)
        dialog.frequency.choose("weekly")
        dialog.set_minutes.setChecked(True)
        dialog.minutes.setValue(45)
        dialog.hours.setText("M-F 8am-5pm")
        dialog.apply()

    QTimer.singleShot(0, fill_and_apply)
    view.set_visits()
    for i in ids:
        a = read_account(demo_store, i)
        assert (a.visit_frequency, a.visit_minutes, a.hours.open_weekdays()) == ("weekly", 45, WEEKDAYS[:5])
    assert svc.get_account(demo_store, untouched) == untouched_before   # outside the selection
    assert view.ctx.undo_stack.undoText() == f"Set visits on {len(ids):,} accounts"
    window.undo_action.trigger()
    assert {i: (a.visit_frequency, a.visit_minutes) for i in ids if (a := read_account(demo_store, i))} == before


def test_bulk_dialog_refuses_bad_hours_and_writes_nothing(qtbot, demo_store):
    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    dialog = BulkVisitDialog(ctx, [1, 2])
    qtbot.addWidget(dialog)
    dialog.hours.setText("9-5")
    dialog.apply()
    assert dialog.problem.isVisibleTo(dialog) and "name the days" in dialog.problem.text()
    assert ctx.undo_stack.count() == 0


def _pick(qtbot, editor, text):
    """Choose an entry of the Visits box by its label, as a user would."""
    editor.box.setCurrentIndex(editor.box.findText(text))
    editor.box.activated.emit(editor.box.currentIndex())


def test_panel_sets_n_per_cycle_and_undoes(qtbot, demo_store):
    window = make_window(qtbot, demo_store)
    view = window.view("accounts")
    aid = view.model.ids[1]
    view.select_ids([aid])
    detail = view.detail
    before = read_account(demo_store, aid).visit_frequency
    editor = detail.fields["visit_frequency"]
    assert not editor.count.isVisibleTo(editor)
    _pick(qtbot, editor, "N per cycle")
    assert editor.count.isVisibleTo(editor)
    editor.count.clear()
    qtbot.keyClicks(editor.count, "3")
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert read_account(demo_store, aid).visit_frequency == "3/cycle"
    # Shown again after the save: the box and the count say 3 per cycle; the table says it in words.
    assert editor.box.currentText() == "N per cycle" and editor.count.value() == 3
    column = [c.key for c in svc.COLUMNS].index("visit_frequency")
    assert view.model.data(view.model.index(view.model.row_of(aid), column)) == "3 per cycle"
    window.undo_action.trigger()
    assert read_account(demo_store, aid).visit_frequency == before
    assert not editor.count.isVisibleTo(editor) or before.endswith("/cycle")


def test_bulk_dialog_sets_n_per_cycle_on_the_selection(qtbot, demo_store):
    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    ids = [r[0] for r in demo_store.conn.execute("SELECT id FROM accounts WHERE deleted_at IS NULL LIMIT 3")]
    dialog = BulkVisitDialog(ctx, ids)
    qtbot.addWidget(dialog)
    assert dialog.values() == {}   # "Leave as it is" writes nothing
    _pick(qtbot, dialog.frequency, "N per cycle")
    dialog.frequency.count.setValue(6)
    dialog.apply()
    assert {read_account(demo_store, i).visit_frequency for i in ids} == {"6/cycle"}
    assert ctx.undo_stack.count() == 1
