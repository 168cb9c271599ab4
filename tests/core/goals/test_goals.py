"""Goals and results: deals import with rejects, results from deals and done visits, the report and its exports."""

from __future__ import annotations

import csv

import pytest

from core.goals.deals import DealImportProblem, import_deals
from core.goals.periods import PeriodProblem, period_range
from core.goals.report import build_report, export_report
from core.goals.results import goal_results, set_goal
from core.storage import writes


@pytest.fixture
def shop(empty_store):
    store = empty_store
    with store.atomic():
        ann, bob = writes.insert_many(store, "reps", [{"name": "Ann Lee", "email": "ann@x.com"}, {"name": "Bob Roe", "email": None}])
        terr = writes.insert(store, "territories", {"name": "North", "kind": "geographic", "owner_id": bob})
        acc = writes.insert(store, "accounts", {"name": "Cedar Clinic", "owner_id": bob, "external_id": "001A"})
        writes.insert_many(store, "visits", [
            {"account_id": acc, "rep_id": ann, "planned_start": f"2026-10-{d:02d}T15:00:00Z", "status": s,
             "check_in_at": f"2026-10-{d:02d}T15:05:00Z" if s == "done" else None}
            for d, s in ((5, "done"), (6, "done"), (7, "missed"), (12, "done"), (20, "cancelled"))])
        writes.insert(store, "trips", {"rep_id": bob, "day": "2026-10-05", "distance_m": 160934})
    return store, ann, bob, terr


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_periods():
    assert [d.isoformat() for d in period_range("2026-Q4")] == ["2026-10-01", "2027-01-01"]
    assert [d.isoformat() for d in period_range("2026-02")] == ["2026-02-01", "2026-03-01"]
    with pytest.raises(PeriodProblem, match="2026-Q5"):
        period_range("2026-Q5")


def test_deals_import_rejects_bad_rows_and_results_follow(shop, tmp_path):
    store, ann, bob, terr = shop
    path = write(tmp_path / "deals.csv", [
        ["Deal ID", "Deal Name", "Account", "Owner", "Amount", "Close Date", "Stage", "New Account"],
        ["D1", "Big order", "Cedar Clinic", "", "$12,500.00", "2026-10-03", "Closed Won", "yes"],
        ["D2", "Ann's", "", "ann@x.com", "4000", "10/15/2026", "won", ""],
        ["D3", "Lost one", "001A", "", "9000", "2026-10-20", "Closed Lost", ""],
        ["D4", "Bad money", "", "Ann Lee", "lots", "2026-10-03", "won", ""],
        ["D5", "Bad date", "", "Ann Lee", "100", "someday", "won", ""],
        ["D6", "Open", "", "Ann Lee", "100", "2026-10-03", "Negotiation", ""],
        ["D7", "Who", "Nobody Inc", "", "100", "2026-10-03", "won", ""],
        ["D1", "Again", "Cedar Clinic", "", "1", "2026-10-03", "won", ""],
        ["D8", "Old", "", "Ann Lee", "7000", "2026-09-30", "won", ""],
    ])
    result = import_deals(store, path)
    assert (result.imported, len(result.rejects)) == (4, 5)
    assert [(r.row, r.field) for r in result.rejects] == [(5, "amount"), (6, "close date"), (7, "stage"),
                                                          (8, "account"), (9, "deal id")]
    assert result.rejects_path.exists()
    set_goal(store, period="2026-Q4", metric="revenue", target=2_000_000, rep_id=bob)
    set_goal(store, period="2026-Q4", metric="revenue", target=1_000_000, rep_id=ann)
    set_goal(store, period="2026-Q4", metric="visits", target=4, rep_id=ann)
    set_goal(store, period="2026-Q4", metric="new_accounts", target=2, territory_id=terr)
    got = {(g.who, g.metric): (g.result, round(g.attainment, 3)) for g in goal_results(store, "2026-Q4")}
    # Bob: D1 won (the account's owner); D3 lost does not count; D8 is in Q3.
    assert got[("Bob Roe", "revenue_cents")] == (1_250_000, 0.625)
    assert got[("Ann Lee", "revenue_cents")] == (400_000, 0.4)
    assert got[("Ann Lee", "visits")] == (3, 0.75)
    assert got[("North (territory)", "new_accounts")] == (1, 0.5)
    # Setting the same goal again changes it instead of adding a second one.
    set_goal(store, period="2026-q4", metric="visits", target=3, rep_id=ann)
    assert store.scalar("SELECT count(*) FROM goals WHERE metric = 'visits'") == 1


def test_a_file_without_amounts_is_refused(shop, tmp_path):
    store = shop[0]
    with pytest.raises(DealImportProblem, match="amount"):
        import_deals(store, write(tmp_path / "x.csv", [["Deal", "Owner", "Close Date"], ["a", "Ann Lee", "2026-10-01"]]))
    assert store.scalar("SELECT count(*) FROM deals") == 0


def test_report_figures_and_exports(shop, tmp_path):
    from datetime import date

    from openpyxl import load_workbook

    store, ann, bob, terr = shop
    set_goal(store, period="2026-Q4", metric="visits", target=4, rep_id=ann)
    report = build_report(store, "2026-Q4", today=date(2026, 10, 31))
    assert report.coverage == [{"rep": "Ann Lee", "done": 3, "due": 4, "pct": 75.0}]  # cancelled is not due
    assert report.coverage_basis == "planned visits"
    weeks = {w["week"]: w["visits"] for w in report.weeks}
    assert weeks["2026-10-05"] == 2 and weeks["2026-10-12"] == 1 and weeks["2026-09-28"] == 0
    assert report.mileage == [{"territory": "North", "miles": 100.0}]
    xlsx = export_report(report, tmp_path / "r.xlsx")
    wb = load_workbook(xlsx)
    assert wb["Goals"]["A3"].value == "Ann Lee" and wb["Goals"]["D3"].value == 3
    pdf = export_report(report, tmp_path / "r.pdf")
    from pypdf import PdfReader

    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "Goals and activity, 2026-Q4" in text and "Ann Lee" in text and "North" in text
    # The attainment axis is labelled to 100 % even though the one bar stops at 75 %.
    axis = text.split("Attainment (% of target)", 1)[1].split("Goals against results", 1)[0]
    assert axis.split()[-6:] == ["0", "20", "40", "60", "80", "100"], axis


def test_the_attainment_axis_covers_every_bar():
    from core.goals.report import attainment_axis

    assert attainment_axis([99, 80]) == (100, 20)     # a 99 % bar ends before the last label, not past it
    assert attainment_axis([40]) == (100, 20)
    assert attainment_axis([130]) == (140, 20)
    assert attainment_axis([260]) == (300, 50)
    assert attainment_axis([1234]) == (1400, 200)
    for bars in ([99], [201], [5000]):
        top, step = attainment_axis(bars)
        assert top >= max(bars) and top % step == 0
