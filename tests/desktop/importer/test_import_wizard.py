"""The Import wizard, Geocode dialog and Export action driven as a user would, offscreen."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

from core import settings as settings_mod
from desktop.context import AppContext
from desktop.importer.export import export_accounts_dialog
from desktop.importer.geocode import GeocodeDialog
from desktop.importer.wizard import NOT_IMPORTED, ImportWizard

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crm"


@pytest.fixture
def ctx(qtbot, empty_store):
    context = AppContext(empty_store, settings_mod.Settings(), persist_settings=False)
    yield context
    context.tasks.wait(10000)


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "hubspot_companies.csv"
    shutil.copy(FIXTURES / "hubspot_companies.csv", path)
    return path


def open_on(qtbot, ctx, path) -> ImportWizard:
    wizard = ImportWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.load(str(path))
    qtbot.waitUntil(lambda: wizard.file_page.isComplete(), timeout=10000)
    return wizard


def test_wizard_imports_a_hubspot_export_skipping_bad_rows(qtbot, ctx, sample):
    changed = []
    ctx.changed.connect(changed.append)
    wizard = open_on(qtbot, ctx, sample)
    assert "hubspot_companies.csv" in wizard.file_page.status.text()

    wizard.next()
    page = wizard.mapping_page
    assert "HubSpot" in page.detected.text()
    assert page.source_combo.currentData() == "source:hubspot"
    assert page.combos["name"].currentData() == "Company name"
    assert page.isComplete()

    wizard.next()
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.task is None, timeout=20000)
    assert check.result is not None and check.result.rejected == 15
    assert "15 rows have problems" in check.summary.text()
    assert ctx.store.scalar("SELECT count(*) FROM accounts") == 0, "checking writes nothing"
    assert not check.isComplete(), "bad rows must be skipped knowingly"
    first_problem = check.rows.item(0, 1).text()
    assert ("must" in first_problem or "required" in first_problem)
    assert "got" in first_problem or "the cell is empty" in first_problem
    check.skip.setChecked(True)
    assert check.isComplete()

    wizard.next()
    done = wizard.import_page
    qtbot.waitUntil(lambda: done.task is None, timeout=20000)
    assert done.result.inserted == 280 and done.result.rejected == 15
    assert ctx.store.scalar("SELECT count(*) FROM accounts") == 280
    assert Path(done.result.rejects_path).exists()
    assert changed and changed[-1].touched("accounts"), "the Accounts view hears about the import"
    assert "280 new accounts" in done.summary.text()
    assert "Read as CSV, comma-separated, UTF-8" in done.summary.text()
    assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    assert done.geocode.isVisible()
    done.geocode.click()
    from PySide6.QtWidgets import QApplication

    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, GeocodeDialog) and w.isVisible()]
    assert len(dialogs) == 1 and "<b>280</b> accounts have no location" in dialogs[0].intro.text()
    dialogs[0].reject()


def test_wizard_mapping_can_be_edited_and_saved(qtbot, ctx, sample):
    wizard = open_on(qtbot, ctx, sample)
    wizard.next()
    page = wizard.mapping_page
    page.combos["name"].setCurrentIndex(page.combos["name"].findText(NOT_IMPORTED))
    assert not page.isComplete() and "account name" in page.problem.text()
    page.combos["name"].setCurrentIndex(page.combos["name"].findData("Company name"))
    page.combos["phone"].setCurrentIndex(0)
    assert page.isComplete()
    page.save_name.setText("HubSpot weekly")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.check_page.task is None, timeout=20000)
    wizard.check_page.skip.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.import_page.task is None, timeout=20000)
    assert ctx.store.scalar("SELECT count(*) FROM accounts WHERE phone IS NOT NULL") == 0
    saved = ctx.store.scalar("SELECT mapping FROM import_mappings WHERE name = 'HubSpot weekly'")
    assert saved and "phone" not in saved


def test_wizard_shows_why_a_file_cannot_be_imported(qtbot, ctx, tmp_path):
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    wizard = ImportWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.load(str(bad))
    qtbot.waitUntil(lambda: wizard.file_page.loading is None, timeout=10000)
    assert "Cannot import this file" in wizard.file_page.status.text()
    assert "binary" in wizard.file_page.status.text()
    assert not wizard.file_page.isComplete()


def test_cancelling_the_import_writes_nothing(qtbot, ctx, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Account ID", "Account Name", "Billing Zip/Postal Code"])
        for i in range(20000):
            w.writerow([f"001{i:09d}", f"Company {i}", "78701"])
    wizard = open_on(qtbot, ctx, path)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.check_page.task is None, timeout=60000)
    wizard.next()
    page = wizard.import_page
    page.task.cancel()  # as soon as possible: the worker notices at its next progress check
    qtbot.waitUntil(lambda: page.task is None, timeout=60000)
    if page.result is None:
        assert "cancelled" in page.summary.text()
        assert ctx.store.scalar("SELECT count(*) FROM accounts") == 0
    else:  # the import won the race: then it is complete, never partial
        assert ctx.store.scalar("SELECT count(*) FROM accounts") == 20000


def test_geocode_dialog_locates_offline_and_lists_the_rest(qtbot, ctx):
    from core.storage import writes

    writes.insert(ctx.store, "accounts", {"name": "Austin Co", "postal_code": "78701"})
    lost = writes.insert(ctx.store, "accounts", {"name": "Lost Co", "city": "Nowhere", "state": "TX"})
    dialog = GeocodeDialog(ctx)
    qtbot.addWidget(dialog)
    assert "<b>2</b> accounts have no location" in dialog.intro.text()
    selected = []
    ctx.select_accounts.connect(selected.append)
    dialog._start()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=30000)
    assert "Located 1 of 2" in dialog.summary.text()
    assert dialog.unmatched.count() == 1 and "Lost Co" in dialog.unmatched.item(0).text()
    assert "<b>1</b> accounts have no location" in dialog.intro.text()
    dialog.show_button.click()
    assert selected == [[lost]]


def test_export_action_writes_the_file_in_the_background(qtbot, ctx, tmp_path):
    from core.storage import writes

    writes.insert(ctx.store, "accounts", {"name": "=cmd|' /C calc'!A0", "postal_code": "78701"})
    out = tmp_path / "accounts.csv"
    task = export_accounts_dialog(ctx, None, str(out), quiet=True)
    with qtbot.waitSignal(task.ended, timeout=10000):
        pass
    text = out.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text


def test_file_menu_opens_the_wizard_and_the_geocode_dialog(qtbot, ctx):
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    actions = {a.text().replace("&", ""): a for a in window.menuBar().actions()[0].menu().actions()}
    assert actions["Import accounts…"].isEnabled() and actions["Geocode accounts…"].isEnabled()
    actions["Import accounts…"].trigger()
    wizards = [w for w in QApplication.topLevelWidgets() if isinstance(w, ImportWizard) and w.isVisible()]
    assert len(wizards) == 1
    wizards[0].reject()
    actions["Geocode accounts…"].trigger()
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, GeocodeDialog) and w.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()


def test_going_back_during_the_check_and_forward_again_shows_only_the_new_check(qtbot, ctx, sample):
    wizard = open_on(qtbot, ctx, sample)
    wizard.next()
    wizard.next()
    first = wizard.check_page.task
    wizard.back()                  # cancels the running check
    wizard.mapping_page.combos["phone"].setCurrentIndex(0)
    wizard.next()
    second = wizard.check_page.task
    assert second is not None and second is not first
    qtbot.waitUntil(lambda: wizard.check_page.task is None, timeout=20000)
    qtbot.waitUntil(lambda: first.done, timeout=20000)
    assert wizard.check_page.result is not None and wizard.check_page.failed is None
    assert "phone" not in wizard.mapping.columns


def test_wizard_says_which_encoding_it_read_and_where_text_stops_decoding(qtbot, ctx, tmp_path):
    header = "Account Name,Billing City,Billing Zip/Postal Code\r\n"
    spread = tmp_path / "spread.csv"
    text = header + "Café Bleu,Austin,78701\r\n"
    spread.write_bytes(bytes(b for byte in text.encode("utf-8") for b in (byte, 0)))
    wizard = open_on(qtbot, ctx, spread)
    assert "UTF-8 with a zero byte after every byte" in wizard.file_page.status.text()
    assert wizard.preview[0][1][0] == "Café Bleu"

    bad = tmp_path / "bad.csv"  # clean for the first 256 KB the wizard samples, then a byte cp1252 lacks
    bad.write_bytes((header + "Café Bleu,Austin,78701\r\n" * 20_000).encode("cp1252") + b"Caf\x81,Waco,76701\r\n")
    wizard = open_on(qtbot, ctx, bad)
    assert "Windows-1252" in wizard.file_page.status.text()
    wizard.next()
    wizard.next()
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.task is None, timeout=30000)
    assert "Cannot import this file" in check.summary.text()
    assert "line 20,002" in check.summary.text() and "Windows-1252" in check.summary.text()
    assert not check.isComplete()
