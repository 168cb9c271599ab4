"""Interrupted syncs: a laptop killed with SIGKILL mid-push or mid-pull resumes without loss or
duplicates; a server restarted in the middle of a push ends as an uninterrupted push does."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.demo import DemoSpec, write_demo
from core.sync import engine
from core.sync.transport import SyncError

from tests.conftest import DEMO_TODAY
from tests.server.conftest import ADMIN, make_laptop, start_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("syncdemo") / "demo.sqlite"
    write_demo(path, DemoSpec(accounts=300, reps=4, today=DEMO_TODAY))
    return path


def server_rows(url: str, node: str | None = None) -> dict:
    """The server's objects; with `node`, that laptop's node id in the clock readings reads as NODE."""
    conn = sqlite3.connect(url[len("sqlite:///"):])
    try:
        return {(t, u): (json.loads(d), json.loads(v if node is None else v.replace(node, "NODE"))) for t, u, d, v in
                conn.execute("SELECT table_name, row_uid, data, versions FROM objects")}
    finally:
        conn.close()


def server_count(url: str, sql: str) -> int:
    conn = sqlite3.connect(url[len("sqlite:///"):], timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def kill_when(proc: subprocess.Popen, ready, timeout: float = 60) -> bool:
    """SIGKILL the process once ready() is true; False when it ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    return False


def sync_process(db: Path, credentials: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FIELDATLAS_CREDENTIALS_FILE": str(credentials)}
    return subprocess.Popen([sys.executable, "-m", "desktop.cli", "sync", "--db", str(db)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def local_rows(store, table: str) -> set:
    return {tuple(r) for r in store.query(f"SELECT uid, name, phone, city, deleted_at FROM {table}")}


def test_a_laptop_killed_mid_push_and_mid_pull_resumes_without_loss_or_duplicates(sqlite_url, credentials_file,
                                                                                  small_demo, tmp_path):
    running = start_server(sqlite_url)
    try:
        a = make_laptop(tmp_path, "a", running.url, *ADMIN, source=small_demo)
        total = a.store.scalar("SELECT count(*) FROM change_log")
        a.store.close()
        proc = sync_process(a.path, credentials_file)
        killed = kill_when(proc, lambda: server_count(sqlite_url, "SELECT count(*) FROM applied_ops") >= 300)
        assert killed, "the push ended before it could be interrupted"
        applied = server_count(sqlite_url, "SELECT count(*) FROM applied_ops")
        assert 0 < applied < total, "killed in the middle"

        from core.storage import open_database

        store = open_database(a.path)
        engine.sync(store)
        assert engine.status(store).pending == 0
        assert server_count(sqlite_url, "SELECT count(*) FROM applied_ops") == total, "each edit applied once"
        assert server_count(sqlite_url, "SELECT count(*) FROM conflicts") == 0, "a resent edit never conflicts"
        distinct = store.scalar("SELECT count(*) FROM (SELECT DISTINCT table_name, row_uid FROM change_log)")
        assert len(server_rows(sqlite_url)) == distinct

        b = make_laptop(tmp_path, "b", running.url, *ADMIN)
        b.store.close()
        proc = sync_process(b.path, credentials_file)

        def pulled_some() -> bool:
            conn = sqlite3.connect(b.path, timeout=30)
            try:
                row = conn.execute("SELECT value FROM sync_state WHERE key = 'pull_cursor'").fetchone()
                return bool(row and int(row[0]) > 0)
            finally:
                conn.close()

        assert kill_when(proc, pulled_some), "the pull ended before it could be interrupted"
        b_store = open_database(b.path)
        assert 0 < b_store.scalar("SELECT count(*) FROM sync_versions") < distinct, "killed in the middle"
        engine.sync(b_store)
        for table in ("accounts", "visits", "expenses", "trips", "reps"):
            assert b_store.scalar(f"SELECT count(*) FROM {table}") == store.scalar(f"SELECT count(*) FROM {table}")
        assert local_rows(b_store, "accounts") == local_rows(store, "accounts")
        assert b_store.scalar("SELECT count(*) FROM change_log") == 0, "pulled rows are not queued as B's edits"
        b_store.close()
        store.close()
    finally:
        running.stop()


def test_a_server_restarted_mid_push_ends_like_an_uninterrupted_push(tmp_path, credentials_file, small_demo):
    from server.app import init_server
    from server.running import Background

    urls = [f"sqlite:///{tmp_path / name}" for name in ("restarted.sqlite", "steady.sqlite")]
    for url in urls:
        init_server(url, *ADMIN)
    first = start_server(urls[0])
    port = first.port
    a = make_laptop(tmp_path, "a", first.url, *ADMIN, source=small_demo)
    total = a.store.scalar("SELECT count(*) FROM change_log")
    outcome: list = []

    def push() -> None:
        try:
            engine.sync(a.store)
            outcome.append("finished")
        except SyncError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=push)
    worker.start()
    deadline = time.monotonic() + 60
    while server_count(urls[0], "SELECT count(*) FROM applied_ops") < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.stop()
    worker.join(timeout=120)
    assert outcome and outcome[0] != "finished", "the push should have been cut off"
    assert 0 < engine.status(a.store).pending < total
    again = Background(urls[0], port=port).start()
    try:
        engine.sync(a.store)
    finally:
        again.stop()
    assert engine.status(a.store).pending == 0

    steady = start_server(urls[1])
    try:
        control = make_laptop(tmp_path, "control", steady.url, *ADMIN, source=small_demo)
        engine.sync(control.store)
        control_node = control.store.node_id
        control.store.close()
    finally:
        steady.stop()
    # Each copy of the demo file is its own device (its own node id), so compare with the ids set aside.
    assert server_rows(urls[0], a.store.node_id) == server_rows(urls[1], control_node)
    assert server_count(urls[0], "SELECT count(*) FROM applied_ops") == total
    a.store.close()
