"""The Territories view as a user drives it: tree, rule editor preview, balancing to a scenario, applying it."""

import pytest
from PySide6.QtCore import Qt

from core.settings import Settings
from desktop.context import AppContext
from desktop.territories.editor import combo_value, select_value
from desktop.territories.view import TerritoriesView


@pytest.fixture
def view(qtbot, demo_store):
    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    v = TerritoriesView(ctx)
    qtbot.addWidget(v)
    with qtbot.waitSignal(v.balance.scenario_loaded, timeout=30000):
        pass
    qtbot.waitUntil(lambda: v.overview is not None, timeout=30000)
    yield v
    ctx.tasks.wait(60000)


def tree_names(v):
    names = []
    for i in range(v.tree.topLevelItemCount()):
        top = v.tree.topLevelItem(i)
        names.append(top.text(0))
        names += [top.child(k).text(0) for k in range(top.childCount())]
    return names


def test_tree_shows_the_hierarchy_with_figures(view):
    names = tree_names(view)
    assert names[0] == "TX Region"
    top = view.tree.topLevelItem(0)
    assert top.childCount() == 8
    assert all(name.endswith("Metro") for name in names[1:])
    assert int(top.child(0).text(4).replace(",", "")) > 0          # accounts per territory
    assert "orphans" in view.report_label.text()


def test_rule_editor_preview_follows_the_rule(view, qtbot):
    editor = view.editor
    view.new_territory()
    select_value(editor.kind, "industry")
    form = editor.form_by_kind["industry"]
    widget = form.widgets["industries"][1]
    widget.setText("Healthcare")
    widget.textEdited.emit("Healthcare")
    expected = sum(1 for r in view.overview.snapshot.rows.values() if r["industry"] == "Healthcare")
    qtbot.waitUntil(lambda: f"Matches {expected:,} accounts" in editor.preview.text(), timeout=3000)
    widget.setText("Healthcare, Retail")
    widget.textEdited.emit("Healthcare, Retail")
    both = sum(1 for r in view.overview.snapshot.rows.values() if r["industry"] in ("Healthcare", "Retail"))
    qtbot.waitUntil(lambda: f"Matches {both:,} accounts" in editor.preview.text(), timeout=3000)
    editor.rule_text.setPlainText('{"zips": ["12"]}')
    qtbot.waitUntil(lambda: "five digits" in editor.problems.text(), timeout=3000)

    # Saving a good one adds it to the tree.
    editor.rule_text.setPlainText('{"industries": ["Healthcare"]}')
    editor.name.setText("Healthcare specialists")
    editor.precedence.setValue(50)
    editor._save()
    qtbot.waitUntil(lambda: "Healthcare specialists" in tree_names(view), timeout=30000)


def test_a_territory_takes_a_saved_segment_from_the_editor(qtbot, demo_store):
    from core.segments import count, save_segment
    save_segment(demo_store, "Big healthcare", {"industries": ["Healthcare"], "min_employees": 100})
    ctx = AppContext(demo_store, Settings(), persist_settings=False)
    v = TerritoriesView(ctx)
    qtbot.addWidget(v)
    qtbot.waitUntil(lambda: v.overview is not None, timeout=30000)
    v.new_territory()
    select_value(v.editor.kind, "customer_size")
    widget = v.editor.form_by_kind["customer_size"].widgets["in_segments"][1]
    widget.setText("big healthcare")
    widget.textEdited.emit("big healthcare")
    expected = count(demo_store, {"industries": ["Healthcare"], "min_employees": 100})
    qtbot.waitUntil(lambda: f"Matches {expected:,} accounts" in v.editor.preview.text(), timeout=3000)
    v.editor.name.setText("Big healthcare desk")
    v.editor.precedence.setValue(60)
    v.editor._save()
    qtbot.waitUntil(lambda: "Big healthcare desk" in tree_names(v), timeout=30000)
    qtbot.waitUntil(lambda: not v._loading if hasattr(v, "_loading") else True, timeout=30000)
    row = next(t for t in v.overview.territories if t.name == "Big healthcare desk")
    assert row.rule == {"in_segments": ["Big healthcare"]}
    assert v.overview.figures[row.id].accounts == expected
    ctx.tasks.wait(60000)


def heard(ctx):
    calls = []
    ctx.show_on_map.connect(lambda d: calls.append(("map", d)))
    ctx.navigate.connect(lambda key: calls.append(("navigate", key)))
    return calls


def test_show_on_map_asks_the_map(view):
    view.tree.setCurrentItem(view.tree.topLevelItem(0).child(0))
    tid = view.current_id()
    calls = heard(view.ctx)
    view.map_button.click()
    assert calls == [("map", {"territory_id": tid}), ("navigate", "map")]


def test_balance_makes_a_scenario_and_a_manager_applies_it(view, qtbot):
    panel = view.balance
    panel.seconds.setValue(4)
    panel.tolerance.setValue(3)
    panel.run_balance()
    assert panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.task is None, timeout=60000)
    assert panel.status.text().startswith("Balanced"), panel.status.text()
    qtbot.waitUntil(lambda: panel.scenario_view is not None and panel.moves_model.rowCount() > 0, timeout=30000)
    assert panel.compare_model.rowCount() == 8
    # Both sides are workload (visits + travel); travel is shown beside it, and no "proven bound" on travel.
    headers = [panel.compare_model.headerData(c, Qt.Orientation.Horizontal) for c in range(panel.compare_model.columnCount())]
    assert "Travel h" in headers and "Workload h" in headers
    assert "visit time + travel" in panel.summary.text() and "proven lower bound" in panel.summary.text()
    assert "proven bound" not in panel.summary.text()
    scenario_id = panel.scenario_id
    store = view.ctx.store
    assert store.scalar("SELECT status FROM scenarios WHERE id = ?", (scenario_id,)) == "draft"

    # A rep may look but not apply.
    rep = next(p for p in panel.people if p["role"] == "rep")
    select_value(panel.acting, rep["id"])
    assert not panel.apply_button.isEnabled()
    manager = next(p for p in panel.people if p["role"] == "manager")
    select_value(panel.acting, manager["id"])
    assert combo_value(panel.acting) == manager["id"]
    assert panel.apply_button.isEnabled()

    account_id = panel.moves_model.key(0)
    to_rep = next(m["to_rep_id"] for m in panel.scenario_view.moves if m["account_id"] == account_id)
    with qtbot.waitSignal(view.ctx.changed, timeout=30000):
        panel.apply_clicked(confirm=False)
    assert store.scalar("SELECT owner_id FROM accounts WHERE id = ?", (account_id,)) == to_rep
    assert store.scalar("SELECT status FROM scenarios WHERE id = ?", (scenario_id,)) == "applied"

    calls = heard(view.ctx)
    panel.map_button.click()
    assert calls == [("map", {"scenario_id": scenario_id}), ("navigate", "map")]


def test_hiring_a_rep_offers_their_plan(view, qtbot):
    panel = view.balance
    assert panel.hire("Casey Newhire", "nope", 40) is None
    assert "ZIP" in panel.status.text()
    rep_id = panel.hire("Casey Newhire", "78701", 40)
    assert rep_id is not None
    qtbot.waitUntil(lambda: combo_value(panel.flow) == f"add_rep:{rep_id}", timeout=30000)
    assert "Casey Newhire" in panel.flow.currentText()


def test_overlay_reps_are_saved_as_members(view, qtbot):
    view.tree.setCurrentItem(view.tree.topLevelItem(0).child(0))
    tid = view.current_id()
    first = view.editor.members.item(0)
    rep_id = first.data(0x0100)
    first.setCheckState(first.checkState().Checked)
    view.editor._save()
    rows = view.ctx.store.query("SELECT rep_id, role FROM territory_members WHERE territory_id = ? "
                                "AND deleted_at IS NULL", (tid,))
    assert [(r["rep_id"], r["role"]) for r in rows] == [(rep_id, "overlay")]
    qtbot.waitUntil(lambda: " + " in view.tree.topLevelItem(0).child(0).text(2) or
                    any(" + " in view.tree.topLevelItem(0).child(k).text(2)
                        for k in range(view.tree.topLevelItem(0).childCount())), timeout=30000)


def test_cancel_saves_nothing(view, qtbot):
    panel = view.balance
    before = view.ctx.store.scalar("SELECT count(*) FROM scenarios")
    panel.seconds.setValue(60)
    panel.tolerance.setValue(0.5)
    panel.run_balance()
    qtbot.wait(300)
    panel.cancel()
    qtbot.waitUntil(lambda: panel.task is None, timeout=30000)
    assert "cancelled" in panel.status.text()
    assert view.ctx.store.scalar("SELECT count(*) FROM scenarios") == before
    assert panel.run_button.isEnabled()


def test_also_worked_by_shows_every_name_whole(view, qtbot):
    from desktop.territories.editor import MEMBER_ROWS

    view.resize(1300, 800)
    view.show()
    qtbot.waitExposed(view)
    members = view.editor.members
    assert members.count() == 8
    viewport = members.viewport().rect()

    def whole_or_hidden() -> int:
        shown = 0
        for row in range(members.count()):
            rect = members.visualItemRect(members.item(row))
            if rect.intersects(viewport):
                # A row in view is wholly in view: no name cut at the top or bottom.
                assert viewport.contains(rect), (members.item(row).text(), rect, viewport)
                shown += 1
        return shown

    assert whole_or_hidden() == MEMBER_ROWS
    # The rest scroll into view, again whole.
    members.scrollToItem(members.item(members.count() - 1))
    assert whole_or_hidden() == MEMBER_ROWS
    assert viewport.contains(members.visualItemRect(members.item(members.count() - 1)))
