"""A real sync server on 127.0.0.1 (a random port, uvicorn on a thread) over SQLite and, when one is
reachable, PostgreSQL; plus laptops (client databases) logged in to it."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ADMIN = ("admin@example.com", "admin password")
# Clock readings (ms) for hand-made ops: an hour ago, so they are real past times (the server refuses
# readings more than a day ahead of its own clock).
CLOCK_BASE = int(time.time() * 1000) - 3_600_000
PG_ENV = "FIELDATLAS_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str | None:
    return os.environ.get(PG_ENV)


def _fresh_postgres_database(admin_url: str) -> tuple[str, callable]:
    import psycopg

    name = f"fa_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, initialised server database of each kind."""
    from server.app import init_server

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.sqlite'}"
        drop = None
    else:
        admin_url = _postgres_admin_url()
        if not admin_url:
            pytest.skip(f"no PostgreSQL for the tests: set {PG_ENV} (.ci/run starts one and sets it)")
        try:
            url, drop = _fresh_postgres_database(admin_url)
        except Exception as exc:  # psycopg.OperationalError and friends
            pytest.skip(f"PostgreSQL at {PG_ENV} not reachable: {exc}")
    init_server(url, *ADMIN)
    yield url
    if drop:
        drop()


@pytest.fixture
def sqlite_url(tmp_path):
    from server.app import init_server

    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    init_server(url, *ADMIN)
    return url


@pytest.fixture
def credentials_file(tmp_path, monkeypatch):
    path = tmp_path / "credentials.json"
    monkeypatch.setenv("FIELDATLAS_CREDENTIALS_FILE", str(path))
    return path


def start_server(url: str):
    from server.running import Background

    return Background(url).start()


@pytest.fixture
def server(database_url, credentials_file):
    """A running server on each database kind; yields its http URL."""
    running = start_server(database_url)
    yield running.url
    running.stop()


@pytest.fixture
def sqlite_server(sqlite_url, credentials_file):
    running = start_server(sqlite_url)
    yield running.url
    running.stop()


@dataclass
class Laptop:
    """One client database logged in to the server as one user."""

    path: Path
    store: object
    email: str

    def sync(self):
        from core.sync import engine

        return engine.sync(self.store)


def make_laptop(tmp_path: Path, name: str, server_url: str, email: str, password: str, source: Path | None = None):
    import shutil

    from core.storage import open_database
    from core.sync import credentials, engine
    from core.sync.transport import Server

    path = tmp_path / f"{name}.sqlite"
    if source is not None:
        shutil.copy(source, path)
    store = open_database(path, create=True)
    with Server(server_url) as s:
        answer = s.login(email, password)
    credentials.save_token(server_url, answer["email"], answer["token"])
    engine.remember_login(store, server_url, answer["email"], answer["role"], answer["rep_uid"])
    return Laptop(path, store, answer["email"])


def admin_token(server_url: str) -> str:
    from core.sync.transport import Server

    with Server(server_url) as s:
        return s.login(*ADMIN)["token"]


def add_user(server_url: str, email: str, role: str, rep_uid: str | None = None, password: str = "password 123"):
    from core.sync.transport import Server

    with Server(server_url, admin_token(server_url)) as s:
        return s.request("POST", "/users", json={"email": email, "password": password, "role": role,
                                                 "rep_uid": rep_uid})
