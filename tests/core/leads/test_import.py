"""Lead import: good rows scored and matched, bad rows rejected with row, field, value and reason."""

from __future__ import annotations

import csv

from core.leads.importing import import_leads
from core.leads.scoring import parse_rule, save_rules
from core.storage import writes


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


HEADER = ["Company", "Contact", "Email", "Phone", "Postal Code", "Industry", "Employees", "Source"]


def test_import_keeps_good_rows_and_rejects_bad_ones_with_reasons(empty_store, tmp_path):
    with empty_store.atomic():
        rep = writes.insert(empty_store, "reps", {"name": "Ann"})
        acc = writes.insert(empty_store, "accounts", {"name": "Lone Star Medical Group", "owner_id": rep})
    path = write_csv(tmp_path / "leads.csv", [
        HEADER,
        ["Lone Star Medical Group Inc", "Pat Lee", "pat@lsmg.com", "", "78701", "Healthcare", "250", "Test Drive"],
        ["Pecan Farms", "Sam Roe", "sam@pecan", "", "78701", "Agriculture", "20", "Web form"],
        ["Cedar Builders", "Jo Kim", "jo@cedar.com", "", "7870", "Construction", "1,200", "Referral"],
        ["Brazos Grill", "Al Fox", "al@brazos.com", "", "ABCDE", "", "", ""],
        ["Mesa Tools", "Bo Ray", "bo@mesa.com", "", "", "", "many", ""],
        ["", "", "", "555-1234", "", "", "", ""],
        ["Dup Co", "Dee", "JO@cedar.com", "", "", "", "", ""],
    ])
    result = import_leads(empty_store, path)
    assert result.rows_read == 7 and result.imported == 2 and result.matched == 1
    reasons = {(r.row, r.field): r.reason for r in result.rejects}
    assert reasons == {(3, "email"): "not an email address",
                       (5, "postal code"): "not a US ZIP code (12345 or 12345-6789)",
                       (6, "employees"): "must be a whole number of employees",
                       (7, "company"): "a lead needs a company, a contact or an email",
                       (8, "email"): "appears twice in this file"}
    leads = {r["company"]: dict(r) for r in empty_store.conn.execute("SELECT * FROM leads")}
    med = leads["Lone Star Medical Group Inc"]
    # Default rules: Healthcare 20 + 200+ employees 20 + Test Drive 40 = 80, grade A.
    assert (med["score"], med["grade"], med["account_id"]) == (80, "A", acc)
    assert leads["Cedar Builders"]["postal_code"] == "07870" and leads["Cedar Builders"]["employees"] == 1200
    rejects = list(csv.reader(open(result.rejects_path, encoding="utf-8")))
    assert rejects[0][:4] == ["row", "field", "value", "reason"] and rejects[1][:2] == ["3", "email"]
    # Importing the same file again: the emails are already leads.
    again = import_leads(empty_store, path)
    assert again.imported == 0 and "already a lead" in again.rejects[0].reason


def test_editing_rules_rescores_new_leads(empty_store, tmp_path):
    path = write_csv(tmp_path / "l.csv", [HEADER, ["A Co", "A", "a@aco.com", "", "", "Retail", "10", "Web form"]])
    import_leads(empty_store, path)
    assert empty_store.scalar("SELECT score FROM leads") == 5 + 0 + 10
    save_rules(empty_store, [parse_rule("industry:Retail=30"), parse_rule("grade:C=40")])
    assert empty_store.scalar("SELECT score FROM leads") == 40
    assert empty_store.scalar("SELECT grade FROM leads") == "C"
    # The other default rules were kept when the first edit saved them.
    assert empty_store.scalar("SELECT count(*) FROM lead_rules WHERE kind = 'source'") == 6
