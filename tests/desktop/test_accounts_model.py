"""The accounts table model on its own: lazy rows, sorting, filtering, refresh on change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from core import accounts as svc
from core.accounts import AccountQuery
from core.changes import Changes
from desktop.accounts.model import ACCOUNT_ID_ROLE, CACHE_ROWS, AccountsTableModel


def column(key):
    return [c.key for c in svc.COLUMNS].index(key)


def test_model_passes_qt_consistency_checks(qapp, demo_store):
    model = AccountsTableModel(demo_store)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.sort(column("employees"), Qt.SortOrder.DescendingOrder)
    model.set_query(AccountQuery(tier="A"))


def test_rows_are_fetched_lazily_a_page_at_a_time(qapp, demo_store):
    model = AccountsTableModel(demo_store)
    assert model.rowCount() == 1500
    assert len(model._rows) == 0
    name = model.data(model.index(700, column("name")))
    assert name == svc.get_account(demo_store, model.ids[700])["name"]
    assert 0 < len(model._rows) <= 200
    assert model.data(model.index(700, 0), ACCOUNT_ID_ROLE) == model.ids[700]


def test_cache_stays_bounded_on_big_tables(qapp, tmp_path):
    from core.demo import DemoSpec, write_demo
    from core.storage import open_database

    path = write_demo(tmp_path / "big.sqlite", DemoSpec(accounts=12000, reps=4))
    store = open_database(path)
    model = AccountsTableModel(store)
    for row in range(0, 12000, 97):
        model.data(model.index(row, 0))
    assert len(model._rows) <= CACHE_ROWS
    store.close()


def test_formats_money_counts_and_frequency(qapp, demo_store):
    model = AccountsTableModel(demo_store)
    aid = model.ids[0]
    svc.update_account(demo_store, aid, {"annual_revenue_cents": 123456789, "employees": 1234,
                                         "visit_frequency": "biweekly"})
    model.apply_changes(Changes.of("accounts", [aid]))
    assert model.data(model.index(0, column("annual_revenue_cents"))) == "$1,234,568"
    assert model.data(model.index(0, column("employees"))) == "1,234"
    assert model.data(model.index(0, column("visit_frequency"))) == "every 2 weeks"
    align = model.data(model.index(0, column("employees")), Qt.ItemDataRole.TextAlignmentRole)
    assert align & int(Qt.AlignmentFlag.AlignRight)


def test_sort_and_filter(qapp, demo_store):
    model = AccountsTableModel(demo_store)
    model.sort(column("employees"), Qt.SortOrder.DescendingOrder)
    values = [int(model.data(model.index(r, column("employees"))).replace(",", "")) for r in range(30)]
    assert values == sorted(values, reverse=True)
    model.set_query(AccountQuery(search="Dental"))
    assert 0 < model.rowCount() < 1500
    assert all("Dental" in model.data(model.index(r, column("name"))) for r in range(model.rowCount()))


def test_changes_refresh_only_what_changed_and_deletes_drop_rows(qapp, demo_store, qtbot):
    model = AccountsTableModel(demo_store)
    aid = model.ids[5]
    model.data(model.index(5, 0))
    svc.update_account(demo_store, aid, {"city": "Zapata"})
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.apply_changes(Changes.of("accounts", [aid]))
    assert blocker.args[0].row() == 5
    assert model.data(model.index(5, column("city"))) == "Zapata"
    changes = svc.delete_account(demo_store, aid)
    model.apply_changes(changes)
    assert model.rowCount() == 1499 and aid not in model.ids


def test_data_never_raises(qapp, demo_store, monkeypatch):
    model = AccountsTableModel(demo_store)

    def broken(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(svc, "fetch_rows", broken)
    assert model.data(model.index(3, 0)) is None
