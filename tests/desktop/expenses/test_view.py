"""The Mileage & Expenses view driven like a user: a week from the plan, a receipt, submit, a manager approves or rejects."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.main_window import MainWindow
from tests.core.expenses.conftest import image_bytes


def _window(qtbot, store):
    window = MainWindow(AppContext(store, settings_mod.Settings(), persist_settings=False))
    qtbot.addWidget(window)
    window.resize(1400, 860)
    window.show()
    window.show_section("expenses")
    return window, window.view("expenses")


def _person(store, name):
    return store.scalar("SELECT id FROM reps WHERE name = ?", (name,))


def _click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_rep_logs_the_week_from_the_plan_attaches_a_receipt_and_submits(qtbot, demo_store, tmp_path):
    from desktop.expenses.dialogs import ExpenseDialog

    window, view = _window(qtbot, demo_store)
    lauren = _person(demo_store, "Lauren Lewis")
    view.set_filters(acting=lauren, rep=lauren, month="2026-11")
    before = view.trip_model.rowCount()
    typed = {d: demo_store.scalar("SELECT id FROM trips WHERE rep_id = ? AND day = ? AND deleted_at IS NULL",
                                  (lauren, f"2026-11-{d}")) for d in (16, 17, 18)}
    assert all(typed.values())   # the demo typed each day's drive as one trip
    asked = []
    # The rep is asked whether the typed trip is the same driving; "replace" swaps it for the legs.
    view.ask_about_typed_trips = lambda conflicts: asked.append(conflicts) or "replace"
    for day in (16, 17, 18):
        view.route_day.setDate(QDate(2026, 11, day))
        assert view.from_route_button.text() == f"Add from the route of Nov {day}"
        _click(qtbot, view.from_route_button)
        qtbot.waitUntil(lambda: view.from_route_button.isEnabled() and "trips from 2026-11-" in view.status.text(),
                        timeout=10000)
    added = view.trip_model.rowCount() - before
    assert added >= 3 * 3 - 3
    assert [c[0][0] for c in asked] == [date(2026, 11, d) for d in (16, 17, 18)]
    assert all(f"trip {typed[d]}" in asked[k][0][1] for k, d in enumerate((16, 17, 18)))
    assert all(demo_store.scalar("SELECT deleted_at FROM trips WHERE id = ?", (t,)) for t in typed.values())
    assert "replacing trip" in view.status.text()
    purposes = [r[4] for r in view.trip_model.rows]
    assert sum(p.startswith("Customer visit: ") for p in purposes) >= 6
    # The purpose stays editable.
    first_new = next(k for k, r in zip(view.trip_model.keys, view.trip_model.rows) if r[4].startswith("Customer visit"))
    assert view.set_trip_purpose(first_new, "Customer visit: reorder of spring stock")
    assert "Customer visit: reorder of spring stock" in [r[4] for r in view.trip_model.rows]

    receipt = tmp_path / "lunch.png"
    receipt.write_bytes(image_bytes("PNG", size=(300, 400)))
    dialog = ExpenseDialog(demo_store, lauren, lauren, date(2026, 11, 18), parent=view)
    dialog.category.setCurrentText("Meals")
    dialog.amount.setText("-3")
    dialog.save()
    assert "negative" in dialog.error.text() and dialog.changes is None
    dialog.amount.setText("48.20")
    dialog.merchant.setText("Salt Lick BBQ")
    dialog.receipt.setText(str(receipt))
    dialog.save()
    assert dialog.changes is not None
    view.ctx.apply(dialog.changes)
    view.tabs.setCurrentIndex(1)
    row = next(i for i, r in enumerate(view.expense_model.rows) if r[3] == "Salt Lick BBQ")
    assert view.expense_model.rows[row][4] == "$48.20"
    view.expense_table.selectRow(row)
    pix = view.preview.pixmap()
    assert pix is not None and not pix.isNull() and pix.height() > 100

    view.tabs.setCurrentIndex(2)
    assert view.report_model.rowCount() == 1 and view.report_model.rows[0][2] == "draft"
    assert not view.approve_button.isEnabled()  # a rep cannot approve
    _click(qtbot, view.submit_button)
    assert view.report_model.rows[0][2] == "submitted"
    assert not view.set_trip_purpose(first_new, "changed after submitting")
    assert "which is submitted: it cannot be changed" in view.status.text()
    assert view.audit.item(view.audit.count() - 1).text().endswith("Lauren Lewis: submitted")

    # The manager approves.
    view.set_filters(acting=_person(demo_store, "Dana Whitfield"))
    view.report_table.selectRow(0)
    _click(qtbot, view.approve_button)
    assert view.report_model.rows[0][2] == "approved" and view.report_model.rows[0][6] == "Dana Whitfield"
    assert "Dana Whitfield: approved" in view.audit.item(view.audit.count() - 1).text()
    assert "total $" in view.totals.text()


def test_a_manager_rejects_with_a_reason_and_the_rep_can_edit_again(qtbot, demo_store):
    window, view = _window(qtbot, demo_store)
    dana, lauren = _person(demo_store, "Dana Whitfield"), _person(demo_store, "Lauren Lewis")
    view.set_filters(acting=dana, rep=lauren, month="2026-10")
    view.tabs.setCurrentIndex(2)
    view.report_table.selectRow(0)
    assert view.report_model.rows[0][2] == "submitted"
    _click(qtbot, view.reject_button)
    assert "say why" in view.status.text() and view.report_model.rows[0][2] == "submitted"
    view.reason.setText("Two lunches on the 14th; keep one")
    _click(qtbot, view.reject_button)
    assert view.report_model.rows[0][2] == "rejected" and view.report_model.rows[0][7] == "Two lunches on the 14th; keep one"
    view.set_filters(acting=lauren)
    trip = view.trip_model.keys[0]
    assert view.set_trip_purpose(trip, "Customer visits, corrected")


def test_export_from_the_view_writes_the_month(qtbot, demo_store, tmp_path):
    import openpyxl

    window, view = _window(qtbot, demo_store)
    view.set_filters(acting=_person(demo_store, "Dana Whitfield"), rep=None, month="2026-10")
    out = tmp_path / "oct.xlsx"
    view.export(str(out), "mileage")
    qtbot.waitUntil(lambda: "Wrote" in view.status.text(), timeout=15000)
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "Date" and rows[-1][0] == "Total"
    assert len(rows) - 2 == view.trip_model.rowCount()


def test_week_so_far_from_the_plan_and_a_pdf_receipt_preview(qtbot, demo_store, tmp_path):
    from desktop.expenses.dialogs import ExpenseDialog
    from tests.core.expenses.conftest import pdf_bytes

    window, view = _window(qtbot, demo_store)
    hannah = _person(demo_store, "Hannah Allen")
    view.set_filters(acting=hannah, rep=hannah, month="2026-11")
    before = view.trip_model.rowCount()
    view.route_day.setDate(QDate(2026, 11, 12))  # a Thursday: Monday to Thursday
    asked = []
    view.ask_about_typed_trips = lambda conflicts: asked.append(conflicts) or "replace"
    _click(qtbot, view.week_button)
    qtbot.waitUntil(lambda: view.week_button.isEnabled() and "days" in view.status.text(), timeout=15000)
    days = {r[0] for r in view.trip_model.rows[before:]} | {r[0] for r in view.trip_model.rows}
    assert "trips from 4 of 4 days" in view.status.text() or "of 4 days" in view.status.text()
    assert {"2026-11-09", "2026-11-12"} <= days
    # Each of those days had its drive typed in the demo: asked once, for all four, then swapped.
    assert len(asked) == 1 and [d.isoformat() for d, _ in asked[0]] == ["2026-11-09", "2026-11-10", "2026-11-11",
                                                                        "2026-11-12"]
    assert view.trip_model.rowCount() > before + 8
    assert view.trip_table.isColumnHidden(1)  # one rep: no Rep column

    folio = tmp_path / "folio.pdf"
    folio.write_bytes(pdf_bytes("Hampton Inn folio"))
    dialog = ExpenseDialog(demo_store, hannah, hannah, date(2026, 11, 10), parent=view)
    dialog.category.setCurrentText("Lodging")
    dialog.amount.setText("139.00")
    dialog.merchant.setText("Hampton Inn Round Rock")
    dialog.receipt.setText(str(folio))
    dialog.save()
    view.ctx.apply(dialog.changes)
    view.tabs.setCurrentIndex(1)
    row = next(i for i, r in enumerate(view.expense_model.rows) if r[3] == "Hampton Inn Round Rock")
    view.expense_table.selectRow(row)
    pix = view.preview.pixmap()
    assert pix is not None and not pix.isNull()  # the PDF's first page, rendered


def test_rates_dialog_sets_a_rate_and_the_reps_scheme(qtbot, demo_store):
    window, view = _window(qtbot, demo_store)
    ryan = _person(demo_store, "Ryan Clark")
    view.set_filters(acting=ryan, rep=ryan, month="2026-11")
    dialog = view.rates_dialog()
    qtbot.addWidget(dialog)
    schemes = {r[0] for r in dialog.model.rows}
    assert schemes == {"IRS", "CRA", "HMRC"}
    dialog.scheme.setCurrentText("IRS")
    dialog.start.setDate(QDate(2026, 7, 1))
    dialog.rate.setText("-1")
    assert not dialog.add_rate() and "not a rate" in dialog.error.text()
    dialog.rate.setText("0.75")
    assert dialog.add_rate()
    assert any(r[1] == "2026-07-01" and r[3].startswith("0.75 USD/mi") for r in dialog.model.rows)
    dialog.rep_scheme.setCurrentText("HMRC")
    assert demo_store.scalar("SELECT mileage_scheme FROM reps WHERE id = ?", (ryan,)) == "HMRC"
    for changes in dialog.changes:
        view.ctx.apply(changes)
    # The July trips now pay 75 cents (trips of a report not yet submitted are recomputed).
    july = [t for t in __import__("core.expenses", fromlist=["list_trips"]).list_trips(
        demo_store, first=date(2026, 11, 1), last=date(2026, 11, 30), rep_id=ryan)]
    assert {t["pay"].rate_text() for t in july if t["report_state"] == "draft"} <= {"0.75"}


def test_a_rep_edits_an_expense_in_the_view_and_a_submitted_one_is_refused(qtbot, demo_store):
    window, view = _window(qtbot, demo_store)
    lauren = _person(demo_store, "Lauren Lewis")
    view.set_filters(acting=lauren, rep=lauren, month="2026-11")
    view.tabs.setCurrentIndex(1)
    assert view.expense_model.rowCount() > 0
    view.expense_table.selectRow(0)
    eid = view.expense_model.keys[0]
    before = demo_store.conn.execute("SELECT * FROM expenses WHERE id = ?", (eid,)).fetchone()
    logged = demo_store.scalar("SELECT count(*) FROM change_log")

    dialog = view.edit_expense_dialog()
    assert dialog.windowTitle() == "Edit expense" and not dialog.form.isRowVisible(dialog.per_diem)
    assert dialog.merchant.text() == (before["merchant"] or "")
    dialog.save()  # nothing changed: nothing written
    assert dialog.changes is None and demo_store.scalar("SELECT count(*) FROM change_log") == logged

    dialog = view.edit_expense_dialog()
    dialog.amount.setText("twelve")
    dialog.save()
    assert dialog.error.text() and dialog.changes is None
    dialog.amount.setText("12.34")
    dialog.merchant.setText("Whataburger #118")
    dialog.save()
    view.ctx.apply(dialog.changes)
    after = demo_store.conn.execute("SELECT * FROM expenses WHERE id = ?", (eid,)).fetchone()
    assert (after["amount_cents"], after["merchant"]) == (1234, "Whataburger #118")
    assert after["category"] == before["category"] and after["day"] == before["day"]
    row = view.expense_model.keys.index(eid)
    assert view.expense_model.rows[row][3] == "Whataburger #118" and view.expense_model.rows[row][4] == "$12.34"

    # October's report is submitted: its expenses are locked, and the form says so in place.
    view.set_filters(month="2026-10")
    view.tabs.setCurrentIndex(1)
    view.expense_table.selectRow(0)
    dialog = view.edit_expense_dialog()
    dialog.merchant.setText("changed after submitting")
    dialog.save()
    assert "submitted" in dialog.error.text() and dialog.changes is None


def test_logging_a_route_beside_a_typed_trip_can_be_cancelled_or_kept(qtbot, demo_store):
    window, view = _window(qtbot, demo_store)
    lauren = _person(demo_store, "Lauren Lewis")
    view.set_filters(acting=lauren, rep=lauren, month="2026-11")
    count = "SELECT count(*) FROM trips WHERE rep_id = ? AND day = '2026-11-19' AND deleted_at IS NULL"
    assert demo_store.scalar(count, (lauren,)) == 1
    view.route_day.setDate(QDate(2026, 11, 19))
    view.ask_about_typed_trips = lambda conflicts: None
    _click(qtbot, view.from_route_button)
    qtbot.waitUntil(lambda: view.from_route_button.isEnabled() and "Not logged" in view.status.text(), timeout=10000)
    assert "already has trip" in view.status.text() and demo_store.scalar(count, (lauren,)) == 1
    view.ask_about_typed_trips = lambda conflicts: "keep"
    _click(qtbot, view.from_route_button)
    qtbot.waitUntil(lambda: view.from_route_button.isEnabled() and "kept as other driving" in view.status.text(),
                    timeout=10000)
    assert demo_store.scalar(count, (lauren,)) > 2
