"""Dialogs opened at their own size show every label whole: no sentence cut off at the right edge."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QStyle, QStyleOptionFrame

from core import settings as settings_mod
from desktop.context import AppContext


def _clipped_labels(dialog) -> list[str]:
    """Visible labels whose text needs more room than they were given."""
    clipped = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            if label.height() < label.heightForWidth(label.width()):
                clipped.append(label.text())
        elif label.width() < label.sizeHint().width():
            clipped.append(label.text())
    return clipped


def _clipped_placeholders(dialog) -> list[str]:
    """Visible empty fields whose grey hint is wider than the room for text inside the field."""
    clipped = []
    for edit in dialog.findChildren(QLineEdit):
        hint = edit.placeholderText()
        if not edit.isVisible() or edit.text() or not hint:
            continue
        option = QStyleOptionFrame()
        edit.initStyleOption(option)
        room = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, edit)
        margins = edit.textMargins()
        # QLineEdit keeps a 2 px horizontal margin on each side of its text.
        width = room.width() - margins.left() - margins.right() - 4
        if edit.fontMetrics().horizontalAdvance(hint) > width:
            clipped.append(hint)
    return clipped


def _settings(ctx):
    from desktop.settings_dialog import SettingsDialog
    return SettingsDialog(ctx)


def _sign_in(ctx):
    from desktop.sync.sign_in import SignInDialog
    return SignInDialog(ctx)


def _set_visits(ctx):
    from desktop.accounts.bulk import BulkVisitDialog
    return BulkVisitDialog(ctx, [1, 2, 3])


def _trip(ctx):
    from desktop.expenses.dialogs import TripDialog
    return TripDialog(ctx.store, 5, 5, date(2026, 12, 2))


def _expense(ctx):
    from desktop.expenses.dialogs import ExpenseDialog
    return ExpenseDialog(ctx.store, 5, 5, date(2026, 12, 2))


@pytest.mark.parametrize("make", [_settings, _sign_in, _set_visits, _trip, _expense, lambda ctx: _hire(ctx),
                                  lambda ctx: _queue(ctx)],
                         ids=["settings", "sign-in", "set-visits", "trip", "expense", "hire", "queue"])
def test_dialog_labels_are_not_cut_off(qtbot, demo_store, make):
    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    dialog = make(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert _clipped_labels(dialog) == []
    assert _clipped_placeholders(dialog) == []


def _hire(ctx):
    from desktop.territories.balance import HireDialog
    return HireDialog(ctx.store)


def _queue(ctx):
    from desktop.leads.editors import QueueDialog
    return QueueDialog(ctx, [])


@pytest.mark.parametrize("make", [_set_visits, _trip, _hire, _queue], ids=["set-visits", "trip", "hire", "queue"])
def test_a_refused_save_says_why_in_place_and_keeps_the_form_open(qtbot, demo_store, make):
    """Every form built on desktop.forms.FormDialog: Save with bad input leaves it open with the reason in red."""
    from desktop.forms import REFUSED_STYLE, FormDialog

    ctx = AppContext(demo_store, settings_mod.Settings(), persist_settings=False)
    dialog = make(ctx)
    qtbot.addWidget(dialog)
    assert isinstance(dialog, FormDialog)
    if hasattr(dialog, "hours") and hasattr(dialog, "ids"):
        dialog.hours.setText("Mon 25:00-26:00")
    elif hasattr(dialog, "home_zip"):
        dialog.home_zip.setText("nope")
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.message.isVisible() and dialog.message.text()
    assert dialog.message.styleSheet() == REFUSED_STYLE
    assert dialog.changes is None
    assert _clipped_labels(dialog) == []
