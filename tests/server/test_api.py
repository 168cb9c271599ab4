"""The HTTP API over a real server: health, login, tokens, bad input, and the roles × endpoints matrix."""

from __future__ import annotations

import httpx
import pytest

from server.storage import ServerStore

from tests.server.conftest import ADMIN, CLOCK_BASE, add_user, admin_token

NODE = "adminnode"


def hlc(n: int, node: str = NODE) -> str:
    return f"{CLOCK_BASE + n:015d}-00000-{node}"


def op(n: int, table: str, uid: str, values: dict, kind: str = "insert") -> dict:
    return {"op_id": f"{NODE}-{n}", "table": table, "row_uid": uid, "op": kind, "values": values, "hlc": hlc(n)}


def client(url: str, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)


def login(url: str, email: str, password: str = "password 123") -> str:
    with client(url) as c:
        answer = c.post("/auth/login", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]


def test_health_and_login(server):
    with client(server) as c:
        assert c.get("/health").json()["status"] == "ok"
        assert c.post("/auth/login", json={"email": ADMIN[0], "password": "wrong one"}).status_code == 401
        assert c.get("/sync/pull").status_code == 401
        token = c.post("/auth/login", json={"email": ADMIN[0].upper(), "password": ADMIN[1]}).json()["token"]
    with client(server, token) as c:
        assert c.get("/me").json() == {"email": ADMIN[0], "role": "admin", "rep_uid": None}


def test_login_is_rate_limited_per_email(server):
    with client(server) as c:
        codes = [c.post("/auth/login", json={"email": ADMIN[0], "password": f"guess {i}"}).status_code
                 for i in range(6)]
        assert codes == [401] * 5 + [429]
        # Even the right password waits out the window: a guesser cannot tell when they hit it.
        right = c.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        assert right.status_code == 429 and "15 minutes" in right.json()["detail"]


def test_tokens_expire_and_can_be_revoked(server, database_url):
    add_user(server, "rita@example.com", "rep", rep_uid="rep1")
    token = login(server, "rita@example.com")
    with client(server, token) as c:
        assert c.get("/me").status_code == 200
    with client(server, admin_token(server)) as c:
        assert c.post("/users/revoke", json={"email": "rita@example.com"}).json()["revoked"] == 1
    with client(server, token) as c:
        answer = c.get("/me")
        assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    fresh = login(server, "rita@example.com")
    store = ServerStore(database_url)
    with store.transaction() as tx:
        tx.execute("UPDATE tokens SET expires_at = 0 WHERE revoked_at IS NULL")
    store.close()
    with client(server, fresh) as c:
        answer = c.get("/me")
        assert answer.status_code == 401 and "expired" in answer.json()["detail"]


BAD_PUSHES = {
    "unknown field": ({"node_id": "n1", "ops": [], "extra": 1}, "extra"),
    "wrong type": ({"node_id": "n1", "ops": "all of them"}, "ops"),
    "bad clock": ({"node_id": "n1", "ops": [{**op(1, "accounts", "u1", {"name": "x"}), "hlc": "yesterday"}]}, "hlc"),
    "bad table": ({"node_id": "n1", "ops": [op(1, "accounts; DROP TABLE users", "u1", {"name": "x"})]}, "table"),
    "nested value": ({"node_id": "n1", "ops": [op(1, "accounts", "u1", {"name": {"a": 1}})]}, "name"),
    "unknown op field": ({"node_id": "n1", "ops": [{**op(1, "accounts", "u1", {"name": "x"}), "owner": "me"}]},
                         "owner"),
}


@pytest.mark.parametrize("case", list(BAD_PUSHES), ids=list(BAD_PUSHES))
def test_bad_input_gets_a_4xx_naming_the_field_and_changes_nothing(server, case):
    body, field = BAD_PUSHES[case]
    with client(server, admin_token(server)) as c:
        answer = c.post("/sync/push", json=body)
        assert answer.status_code == 422, answer.text
        assert field in answer.json()["detail"]
        assert c.get("/sync/pull").json()["objects"] == []


def test_huge_bodies_are_refused(server):
    with client(server, admin_token(server)) as c:
        big = {"node_id": "n1", "ops": [op(1, "accounts", "u1", {"notes": "x" * (5 * 1024 * 1024)})]}
        answer = c.post("/sync/push", json=big)
        assert answer.status_code == 413
        assert c.get("/sync/pull").json()["objects"] == []


# -- roles × endpoints ------------------------------------------------------------------------

def _seed_team(url: str) -> None:
    """Manager M with reps R1, R2 on the team; R3 on no team. One account, visit, trip, expense and
    report each for R1 and R3; a territory."""
    ops = [op(1, "reps", "M", {"name": "Mona", "manager_id": None}),
           op(2, "reps", "R1", {"name": "Rita", "manager_id": "M"}),
           op(3, "reps", "R2", {"name": "Raj", "manager_id": "M"}),
           op(4, "reps", "R3", {"name": "Rosa", "manager_id": None}),
           op(5, "territories", "T1", {"name": "Central", "kind": "geographic"})]
    n = 10
    for rep in ("R1", "R3"):
        ops += [op(n, "accounts", f"acct{rep}", {"name": f"Acme {rep}", "owner_id": rep}),
                op(n + 1, "visits", f"visit{rep}", {"account_id": f"acct{rep}", "rep_id": rep}),
                op(n + 2, "trips", f"trip{rep}", {"rep_id": rep, "day": "2026-11-20", "distance_m": 1000}),
                op(n + 3, "expense_reports", f"report{rep}", {"rep_id": rep, "period": "2026-11", "state": "draft"}),
                op(n + 4, "expenses", f"exp{rep}", {"rep_id": rep, "day": "2026-11-20", "category": "meals",
                                                    "amount_cents": 1250, "report_id": f"report{rep}"})]
        n += 10
    with client(url, admin_token(url)) as c:
        results = c.post("/sync/push", json={"node_id": NODE, "ops": ops}).json()["results"]
    assert {r["status"] for r in results} == {"applied"}
    add_user(url, "rita@example.com", "rep", "R1")
    add_user(url, "rosa@example.com", "rep", "R3")
    add_user(url, "mona@example.com", "manager", "M")
    add_user(url, "fred@example.com", "finance")


ROLES = ("rita", "rosa", "mona", "fred", "admin")
# Reading one row by id: 200 or 403, for rita (R1), rosa (R3), mona (manager of R1), fred (finance), admin.
READS = {
    "accounts/acctR1": (200, 403, 200, 403, 200),
    "accounts/acctR3": (403, 200, 403, 403, 200),
    "visits/visitR1": (200, 403, 200, 403, 200),
    "trips/tripR3": (403, 200, 403, 200, 200),
    "expenses/expR1": (200, 403, 200, 200, 200),
    "expenses/expR3": (403, 200, 403, 200, 200),
    "expense_reports/reportR3": (403, 200, 403, 200, 200),
    "territories/T1": (200, 200, 200, 403, 200),
    "reps/R3": (200, 200, 200, 200, 200),
}
# Writing: applied or rejected.
WRITES = {
    ("accounts", "acctR1", "phone"): ("applied", "rejected", "applied", "rejected", "applied"),
    ("accounts", "acctR3", "phone"): ("rejected", "applied", "rejected", "rejected", "applied"),
    ("expenses", "expR3", "merchant"): ("rejected", "applied", "rejected", "rejected", "applied"),
    ("visits", "visitR1", "notes"): ("applied", "rejected", "applied", "rejected", "applied"),
    ("territories", "T1", "color"): ("rejected", "rejected", "applied", "rejected", "applied"),
    ("reps", "R1", "home_city"): ("applied", "rejected", "applied", "rejected", "applied"),
}


def test_roles_by_endpoints_matrix(server):
    _seed_team(server)
    tokens = {name: login(server, f"{name}@example.com") for name in ROLES[:4]}
    tokens["admin"] = admin_token(server)
    wrong = []
    for path, expected in READS.items():
        for name, want in zip(ROLES, expected):
            with client(server, tokens[name]) as c:
                got = c.get(f"/data/{path}").status_code
            if got != want:
                wrong.append(f"GET {path} as {name}: {got}, want {want}")
    n = 100
    for (table, uid, column), expected in WRITES.items():
        for name, want in zip(ROLES, expected):
            n += 1
            body = {"node_id": f"n{name}", "ops": [{"op_id": f"{name}-{n}", "table": table, "row_uid": uid,
                                                    "op": "update", "values": {column: f"by {name}"},
                                                    "hlc": hlc(n, f"n{name}")}]}
            with client(server, tokens[name]) as c:
                got = c.post("/sync/push", json=body).json()["results"][0]["status"]
            if got != want:
                wrong.append(f"write {table}.{column} {uid} as {name}: {got}, want {want}")
    # Pulls are scoped the same way.
    seen = {}
    for name in ROLES:
        with client(server, tokens[name]) as c:
            seen[name] = {(o["table"], o["row_uid"]) for o in c.get("/sync/pull", params={"limit": 2000}).json()["objects"]}
    expectations = {"rita": {("accounts", "acctR1")}, "rosa": {("accounts", "acctR3")},
                    "mona": {("accounts", "acctR1")}, "fred": set(),
                    "admin": {("accounts", "acctR1"), ("accounts", "acctR3")}}
    for name, accounts in expectations.items():
        got = {key for key in seen[name] if key[0] == "accounts"}
        if got != accounts:
            wrong.append(f"pull as {name}: accounts {sorted(got)}, want {sorted(accounts)}")
    if ("expenses", "expR3") not in seen["fred"] or ("expenses", "expR1") in seen["rosa"]:
        wrong.append("pull of expenses is not scoped: finance all, a rep their own")
    # Only admins manage users.
    for name in ROLES[:4]:
        with client(server, tokens[name]) as c:
            got = c.post("/users", json={"email": "x@example.com", "password": "password 123", "role": "admin"})
        if got.status_code != 403:
            wrong.append(f"POST /users as {name}: {got.status_code}, want 403")
    assert not wrong, "\n".join(wrong)


def test_a_submitted_report_cannot_be_changed_by_a_sync(server):
    _seed_team(server)
    rita, mona, fred = (login(server, f"{n}@example.com") for n in ("rita", "mona", "fred"))

    def push(token, n, table, uid, values, node):
        body = {"node_id": node, "ops": [{"op_id": f"{node}-{n}", "table": table, "row_uid": uid, "op": "update",
                                          "values": values, "hlc": hlc(n, node)}]}
        with client(server, token) as c:
            return c.post("/sync/push", json=body).json()["results"][0]

    assert push(rita, 200, "expense_reports", "reportR1", {"state": "submitted"}, "rita")["status"] == "applied"
    refused = push(rita, 201, "expenses", "expR1", {"amount_cents": 99999}, "rita")
    assert refused["status"] == "rejected" and "submitted" in refused["reason"]
    assert refused["current"]["amount_cents"][0] == 1250, "the client is told the kept value"
    assert push(rita, 202, "expense_reports", "reportR1", {"title": "changed"}, "rita")["status"] == "rejected"
    assert push(rita, 203, "expense_reports", "reportR1", {"state": "approved"}, "rita")["status"] == "rejected"
    assert push(fred, 204, "expense_reports", "reportR1", {"state": "exported"}, "fred")["status"] == "rejected"
    assert push(mona, 205, "expense_reports", "reportR1", {"state": "approved"}, "mona")["status"] == "applied"
    assert push(fred, 206, "expense_reports", "reportR1", {"state": "exported"}, "fred")["status"] == "applied"
    with client(server, admin_token(server)) as c:
        assert c.get("/data/expenses/expR1").json()["values"]["amount_cents"] == 1250
        assert c.get("/data/expense_reports/reportR1").json()["values"]["state"] == "exported"


def test_only_who_can_see_a_conflict_marks_it_restored(server):
    _seed_team(server)
    with client(server, admin_token(server)) as c:  # an older phone edit of R3's account loses: a conflict
        c.post("/sync/push", json={"node_id": NODE, "ops": [op(300, "accounts", "acctR3", {"phone": "new"}, "update")]})
        late = {**op(299, "accounts", "acctR3", {"phone": "old"}, "update"), "op_id": "other-299",
                "hlc": hlc(299, "other")}
        c.post("/sync/push", json={"node_id": "other", "ops": [late]})
        found = [x for x in c.get("/sync/pull", params={"limit": 2000}).json()["conflicts"] if x["row_uid"] == "acctR3"]
    assert len(found) == 1 and found[0]["restored_at"] is None
    conflict_id = found[0]["id"]
    with client(server, login(server, "rita@example.com")) as c:
        assert c.post("/sync/conflicts/restored", json={"ids": [conflict_id]}).json() == {"restored": 0}
        assert c.post("/sync/conflicts/restored", json={"ids": ["x"]}).status_code == 422
    with client(server, login(server, "rosa@example.com")) as c:
        cursor = c.get("/sync/pull", params={"limit": 2000}).json()["next_cursor"]
        assert c.post("/sync/conflicts/restored", json={"ids": [conflict_id]}).json() == {"restored": 1}
        assert c.post("/sync/conflicts/restored", json={"ids": [conflict_id]}).json() == {"restored": 0}
        again = c.get("/sync/pull", params={"since": cursor}).json()["conflicts"]
    assert [(x["id"], x["restored_at"] is not None) for x in again] == [(conflict_id, True)]


def test_an_edit_stamped_days_ahead_is_refused_and_drift_is_not(server):
    import time

    def stamped(n: int, seconds_ahead: float) -> dict:
        return {**op(n, "accounts", f"clock{n}", {"name": f"Acme {n}"}),
                "hlc": f"{int((time.time() + seconds_ahead) * 1000):015d}-00000-{NODE}"}

    with client(server, admin_token(server)) as c:
        results = c.post("/sync/push", json={"node_id": NODE, "ops": [stamped(400, 2 * 86400), stamped(401, 3600)]})
        far, drift = results.json()["results"]
        assert far["status"] == "rejected" and "2.0 days ahead" in far["reason"] and "set the date" in far["reason"]
        assert drift["status"] == "applied", "an hour of drift (a wrong time zone) is let through"
        assert c.get("/data/accounts/clock400").status_code == 404, "nothing of the refused edit was kept"
