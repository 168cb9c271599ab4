"""Hypothesis stateful test: laptops edit offline at random, sync in random orders through random
partitions and lost answers; afterwards every replica and the server hold the same rows, and each
field holds the latest edit anyone made to it (no acknowledged write lost)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from core import accounts
from core.storage import open_database, writes
from core.sync import engine
from core.sync.transport import Server, SyncError

from tests.server.conftest import ADMIN

CLIENTS = 3
FIELDS = ("name", "phone", "city", "notes")
VALUES = st.sampled_from(["Acme", "Bolt", "Cog", "Dyn", "512-1", "512-2", "Austin", "Waco", "", "ok"])


class Lossy(httpx.BaseTransport):
    """A real HTTP transport that can lose the next answers after the server acted on the request."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.drop = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.drop > 0:
            self.drop -= 1
            response.read()
            response.close()
            raise httpx.ReadError("answer lost on the way back", request=request)
        return response


class Convergence(RuleBasedStateMachine):
    url: str = ""
    token: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="fa-converge-"))
        self.stores = []
        self.transports = []
        self.online = [True] * CLIENTS
        for i in range(CLIENTS):
            store = open_database(self.folder / f"laptop{i}.sqlite", create=True)
            engine.remember_login(store, self.url, ADMIN[0], "admin", None)
            self.stores.append(store)
            self.transports.append(Lossy())
        self.uids: list[str] = []

    def _server(self, i: int) -> Server:
        url = self.url if self.online[i] else "http://127.0.0.1:9"
        return Server(url, self.token, timeout=10, transport=self.transports[i] if self.online[i] else None)

    def _sync(self, i: int) -> bool:
        with self._server(i) as server:
            try:
                engine.sync(self.stores[i], server)
                return True
            except SyncError:
                return False

    @initialize()
    def seed(self) -> None:
        store = self.stores[0]
        rep = writes.insert(store, "reps", {"name": "Rep"})
        for n in range(3):
            account_id, _ = accounts.create_account(store, {"name": f"Account {n}", "owner_id": rep})
            self.uids.append(store.scalar("SELECT uid FROM accounts WHERE id = ?", (account_id,)))
        assert self._sync(0)
        for i in range(1, CLIENTS):
            assert self._sync(i)

    def _local_id(self, i: int, uid: str) -> int | None:
        return self.stores[i].scalar("SELECT id FROM accounts WHERE uid = ?", (uid,))

    @rule(i=st.integers(0, CLIENTS - 1), a=st.integers(0, 20), column=st.sampled_from(FIELDS), value=VALUES)
    def edit(self, i, a, column, value):
        uid = self.uids[a % len(self.uids)]
        row_id = self._local_id(i, uid)
        if row_id is None:
            return  # not pulled here yet
        if column == "name" and not value:
            value = "Unnamed"
        accounts.update_account(self.stores[i], row_id, {column: value})

    @rule(i=st.integers(0, CLIENTS - 1), a=st.integers(0, 20), delete=st.booleans())
    def delete_or_restore(self, i, a, delete):
        row_id = self._local_id(i, self.uids[a % len(self.uids)])
        if row_id is not None:
            (accounts.delete_account if delete else accounts.restore_account)(self.stores[i], row_id)

    @rule(i=st.integers(0, CLIENTS - 1), name=VALUES)
    def create(self, i, name):
        account_id, _ = accounts.create_account(self.stores[i], {"name": name or "New"})
        self.uids.append(self.stores[i].scalar("SELECT uid FROM accounts WHERE id = ?", (account_id,)))

    @rule(i=st.integers(0, CLIENTS - 1))
    def partition(self, i):
        self.online[i] = not self.online[i]

    @rule(i=st.integers(0, CLIENTS - 1), lost=st.integers(0, 4))
    def sync(self, i, lost):
        pending_before = engine.status(self.stores[i]).pending
        self.transports[i].drop = lost if self.online[i] else 0
        ok = self._sync(i)
        self.transports[i].drop = 0
        if not self.online[i]:
            assert not ok and engine.status(self.stores[i]).pending == pending_before, "offline changes nothing"

    def _state(self, i: int) -> dict:
        rows = self.stores[i].query("SELECT uid, name, phone, city, notes, deleted_at IS NOT NULL AS gone "
                                    "FROM accounts WHERE uid IN (%s)" % ",".join("?" * len(self.uids)), self.uids)
        return {r["uid"]: tuple(r)[1:] for r in rows}

    def teardown(self) -> None:
        try:
            if not self.stores:
                return
            self.online = [True] * CLIENTS
            for _ in range(2):
                for i in range(CLIENTS):
                    assert self._sync(i)
            states = [self._state(i) for i in range(CLIENTS)]
            assert all(s == states[0] for s in states), "replicas differ"
            assert set(states[0]) == set(self.uids)
            for store in self.stores:
                assert engine.status(store).pending == 0
            # Every field holds the latest edit made anywhere (by hybrid clock): none was lost.
            latest: dict[tuple[str, str], tuple[str, object]] = {}
            for store in self.stores:
                for row in store.query("SELECT row_uid, value, hlc FROM change_log WHERE table_name = 'accounts'"):
                    for column, value in json.loads(row["value"]).items():
                        key = (row["row_uid"], column)
                        if key not in latest or row["hlc"] > latest[key][0]:
                            latest[key] = (row["hlc"], value)
            for (uid, column), (_, value) in latest.items():
                if column in FIELDS:
                    assert states[0][uid][FIELDS.index(column) ] == value, (uid, column)
                elif column == "deleted_at":
                    assert bool(states[0][uid][4]) == (value is not None), (uid, "deleted")
            with Server(self.url, self.token) as server:
                on_server = {o["row_uid"]: o["values"] for o in server.request("GET", "/data/accounts",
                                                                                params={"limit": 10000})}
            for uid, state in states[0].items():
                values = on_server[uid]
                assert tuple(values.get(c) for c in FIELDS) == state[:4]
            seen = [set(r[0] for r in s.query("SELECT server_id FROM conflicts WHERE server_id IS NOT NULL"))
                    for s in self.stores]
            assert all(s == seen[0] for s in seen), "every laptop shows the same conflicts"
        finally:
            for store in self.stores:
                store.close()
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.slow
def test_replicas_converge_and_no_acknowledged_write_is_lost(sqlite_server):
    Convergence.url = sqlite_server
    with Server(sqlite_server) as s:
        Convergence.token = s.login(*ADMIN)["token"]
    run_state_machine_as_test(Convergence, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
