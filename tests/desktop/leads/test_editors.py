"""The Leads section's editors driven as a manager would: a segment with its live count, the scoring rules, a queue's settings, removing a rep."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.leads.queues import queue_overview
from core.leads.scoring import rule_rows
from core.segments import count, list_segments

from .test_leads_view import make_view


def tick(widget, text):
    item = next(widget.item(i) for i in range(widget.count()) if widget.item(i).text() == text)
    item.setCheckState(Qt.CheckState.Checked)


def test_a_new_segment_counts_live_on_a_worker_then_saves_and_lists(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    view.tabs.setCurrentIndex(2)
    qtbot.mouseClick(view.new_segment_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    qtbot.waitUntil(lambda: not dialog.counting(), timeout=10000)
    assert dialog.counted == count(demo_store, {}), "no conditions: every account"
    tick(dialog.industries, "Healthcare")
    dialog.min_employees.setValue(100)
    assert dialog.counting(), "a change asks for a new count"
    qtbot.waitUntil(lambda: not dialog.counting(), timeout=10000)
    wanted = {"industries": ["Healthcare"], "min_employees": 100}
    assert dialog.rule() == wanted and dialog.counted == count(demo_store, wanted) > 0
    assert f"{dialog.counted:,} accounts" in dialog.count_label.text()
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert "name" in dialog.said.text() and dialog.isVisible(), "refused without a name"
    dialog.name.setText("Big healthcare")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert not dialog.isVisible()
    assert [(s["name"], s["rule"]) for s in list_segments(demo_store)] == [("Big healthcare", wanted)]
    qtbot.waitUntil(lambda: view.segments_table.rowCount() == 1 and not view._loading, timeout=10000)
    assert view.segments_table.item(0, 0).text() == "Big healthcare"
    # Editing it: the form comes back filled, and a change saves under the same name.
    view.edit_segment(0)
    again = view.dialog
    assert again.rule() == wanted and again.name.isReadOnly()
    again.deal.setCurrentIndex(again.deal.findData("won"))
    qtbot.waitUntil(lambda: not again.counting(), timeout=10000)
    again.buttons.button(again.buttons.StandardButton.Save).click()
    assert list_segments(demo_store)[0]["rule"] == {**wanted, "deal_stage": "won"}


def test_scoring_rules_are_edited_in_the_leads_view_and_rescore_on_a_worker(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    web_before = demo_store.scalar("SELECT score FROM leads WHERE source = 'Web form' AND status = 'new' ORDER BY id")
    qtbot.mouseClick(view.rules_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    rows = [(dialog.table.cellWidget(r, 0).currentData(), dialog.table.item(r, 1).text()) for r in range(dialog.table.rowCount())]
    assert rows == [(k, m) for k, m, _p in rule_rows(demo_store)]
    web = rows.index(("source", "Web form"))
    dialog.table.cellWidget(web, 2).setValue(30)
    dialog.table.setCurrentCell(rows.index(("source", "Trade show")), 1)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    dialog.add_row("industry", "", 5)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.said.text().count(f"row {dialog.table.rowCount()}") == 1, "the empty value is named by its row"
    dialog.table.item(dialog.table.rowCount() - 1, 1).setText("Retail")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=15000)
    saved = {(k, m): p for k, m, p in rule_rows(demo_store)}
    assert saved[("source", "Web form")] == 30 and saved[("industry", "Retail")] == 5
    assert ("source", "Trade show") not in saved
    web_after = demo_store.scalar("SELECT score FROM leads WHERE source = 'Web form' AND status = 'new' ORDER BY id")
    assert web_after == web_before + 20, "new leads were rescored"


def test_queue_settings_and_removing_a_rep_from_the_queues_tab(qtbot, demo_store):
    from core.segments import save_segment
    save_segment(demo_store, "Healthcare", {"industries": ["Healthcare"]})
    view = make_view(qtbot, demo_store)
    view.tabs.setCurrentIndex(1)
    inbound = next(i for i in range(view.queue_tree.topLevelItemCount())
                   if view.queue_tree.topLevelItem(i).text(0) == "Inbound — TX")
    top = view.queue_tree.topLevelItem(inbound)
    view.queue_tree.setCurrentItem(top)
    assert not view.remove_member_button.isEnabled(), "a queue row is not a rep"
    qtbot.mouseClick(view.edit_queue_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog.name.text() == "Inbound — TX" and dialog.states.text() == "TX"
    dialog.mode.setCurrentIndex(dialog.mode.findData("best_available"))
    dialog.sources.setText("Web form, Referral")
    tick(dialog.segments, "Healthcare")
    dialog.min_score.setValue(20)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert not dialog.isVisible()
    q = next(q for q in queue_overview(demo_store) if q["name"] == "Inbound — TX")
    assert (q["mode"], q["sources"], q["segments"], q["min_score"], q["states"]) == (
        "best_available", ["Web form", "Referral"], ["Healthcare"], 20, ["TX"])
    qtbot.waitUntil(lambda: not view._loading, timeout=10000)
    # Clearing: no segment ticked, score back to any.
    view.queue_tree.setCurrentItem(view.queue_tree.topLevelItem(inbound))
    view.edit_queue()
    dialog = view.dialog
    dialog.segments.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.min_score.setValue(dialog.min_score.minimum())
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    q = next(q for q in queue_overview(demo_store) if q["name"] == "Inbound — TX")
    assert q["segments"] == [] and q["min_score"] is None
    qtbot.waitUntil(lambda: not view._loading, timeout=10000)
    top = view.queue_tree.topLevelItem(inbound)
    member = top.child(0)
    rep = member.text(0)
    view.queue_tree.setCurrentItem(member)
    assert view.remove_member_button.isEnabled()
    qtbot.mouseClick(view.remove_member_button, Qt.MouseButton.LeftButton)
    q = next(q for q in queue_overview(demo_store) if q["name"] == "Inbound — TX")
    assert rep not in [m["rep"] for m in q["members"]] and len(q["members"]) == 7
    assert rep in view.message.text()


def test_update_scores_stores_every_accounts_scores_on_a_worker(qtbot, demo_store):
    view = make_view(qtbot, demo_store)
    view.tabs.setCurrentIndex(2)
    assert demo_store.scalar("SELECT count(*) FROM accounts WHERE fit_score IS NULL") > 0
    qtbot.mouseClick(view.scores_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Scored "), timeout=20000)
    assert view.scores_button.isEnabled()
    assert demo_store.scalar("SELECT count(*) FROM accounts WHERE fit_score IS NULL OR timing_score IS NULL") == 0


def test_remove_segment_from_the_books_tab_refuses_one_a_queue_uses(qtbot, demo_store):
    from core.leads.queues import save_queue
    from core.segments import save_segment
    save_segment(demo_store, "Unused", {"industries": ["Retail"]})
    save_segment(demo_store, "Used", {"industries": ["Healthcare"]})
    save_queue(demo_store, "Health desk", segments=["Used"])
    view = make_view(qtbot, demo_store)
    view.tabs.setCurrentIndex(2)
    names = [view.segments_table.item(r, 0).text() for r in range(view.segments_table.rowCount())]
    view.segments_table.setCurrentCell(names.index("Used"), 0)
    qtbot.mouseClick(view.remove_segment_button, Qt.MouseButton.LeftButton)
    assert "used by queue Health desk" in view.message.text()
    view.segments_table.setCurrentCell(names.index("Unused"), 0)
    qtbot.mouseClick(view.remove_segment_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.segments_table.rowCount() == 1 and not view._loading, timeout=10000)
    assert [s["name"] for s in list_segments(demo_store)] == ["Used"]
