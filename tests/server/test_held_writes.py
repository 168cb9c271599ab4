"""A push sends its row writes together at its end: every check inside the same push still sees the
edits before it (a parent's owner, an expense report's state), and unusual numbers come back as sent."""

from __future__ import annotations

import json
import math

from server import auth, merge
from server.storage import ServerStore

from tests.server.conftest import CLOCK_BASE

NODE = "heldnode"
RITA = auth.Principal(901, "rita@example.com", "rep", "repR")
SAM = auth.Principal(902, "sam@example.com", "rep", "repS")
ADMIN = auth.Principal(903, "admin@example.com", "admin", None)


def _op(n: int, table: str, uid: str, values: dict, op: str = "insert") -> dict:
    return {"op_id": f"{NODE}-{n}", "table": table, "row_uid": uid, "op": op, "values": values,
            "hlc": f"{CLOCK_BASE + n:015d}-00000-{NODE}"}


def _pulled(store: ServerStore, who: auth.Principal) -> dict[tuple[str, str], dict]:
    page = merge.pull(store, who, 0, 500)
    return {(o["table"], o["row_uid"]): o["values"] for o in page["objects"]}


def test_a_child_written_after_its_parent_in_one_push_belongs_to_the_parents_owner(database_url):
    store = ServerStore(database_url)
    try:
        results = merge.push(store, RITA, [
            _op(1, "routes", "route1", {"rep_id": "repR", "day": "2026-12-03"}),
            _op(2, "route_stops", "stop1", {"route_id": "route1", "position": 1}),
        ])
        assert [r["status"] for r in results] == ["applied", "applied"]
        with store.transaction(write=False) as tx:
            owner = tx.one("SELECT owner FROM objects WHERE table_name = 'route_stops' AND row_uid = 'stop1'")
        assert owner == {"owner": "repR"}
        assert ("route_stops", "stop1") in _pulled(store, RITA)
        assert ("route_stops", "stop1") not in _pulled(store, SAM)
    finally:
        store.close()


def test_an_expense_added_to_a_report_submitted_earlier_in_the_same_push_is_refused(database_url):
    store = ServerStore(database_url)
    try:
        results = merge.push(store, RITA, [
            _op(1, "expense_reports", "report1", {"rep_id": "repR", "period": "2026-11", "state": "draft"}),
            _op(2, "expense_reports", "report1", {"state": "submitted"}, "update"),
            _op(3, "expenses", "exp1", {"rep_id": "repR", "report_id": "report1", "amount_cents": 1200}),
        ])
        assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
        assert "submitted" in results[2]["reason"]
        seen = _pulled(store, RITA)
        assert seen[("expense_reports", "report1")]["state"] == "submitted"
        assert ("expenses", "exp1") not in seen
    finally:
        store.close()


def test_numbers_json_writes_its_own_way_come_back_as_they_were_sent(database_url):
    """NaN, infinities and integers beyond 64 bits are stored and pulled unchanged (the fast JSON
    encoder would write null for NaN and refuses big integers), each in a row of its own."""
    store = ServerStore(database_url)
    try:
        odd = {"odd": {"name": "Not finite", "score": math.nan, "reach": math.inf, "floor": -math.inf},
               "big": {"name": "Big serial", "serial": 2 ** 70},
               "plain": {"name": "Plain", "ratio": 1e16, "note": "emoji ✓ and \"quotes\"", "empty": None}}
        ops = [_op(n, "accounts", uid, values) for n, (uid, values) in enumerate(odd.items(), 1)]
        ops.append(_op(9, "accounts", "odd", {"phone": "512"}, "update"))
        assert [r["status"] for r in merge.push(store, ADMIN, ops)] == ["applied"] * 4
        pulled = _pulled(store, ADMIN)
        for uid, values in odd.items():
            got = merge.get_object(store, ADMIN, "accounts", uid)["values"]
            assert got == pulled[("accounts", uid)] or uid == "odd"  # NaN != NaN
            if uid == "odd":
                assert math.isnan(got.pop("score")) and got == {"name": "Not finite", "reach": math.inf,
                                                                "floor": -math.inf, "phone": "512"}
            else:
                assert got == values and all(type(got[k]) is type(v) for k, v in values.items())
    finally:
        store.close()


def test_the_push_answer_is_the_same_json_either_encoder_writes():
    from server.jsontext import dumps

    for value in ({"a": [1, 2.5, None, True, "x"]}, {"n": math.nan}, {"big": -(2 ** 80)}, {"s": "\ud800"}, [],
                  {"nested": {"deep": [math.inf, {"x": 1}]}}):
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        assert json.loads(dumps(value)) == json.loads(expected) or dumps(value) == expected
