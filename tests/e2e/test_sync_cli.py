"""The README's server instructions, as a new user would follow them: `fieldatlas serve` in its own
process, two laptops (demo database and an empty one) logging in, editing one account offline and
syncing in turn with `fieldatlas sync`; both end identical with the lost value in Conflicts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.storage import open_database
from desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ["--email", "admin@example.com", "--password", "a long admin password"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(capsys, *argv) -> object:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def account(path: Path, uid: str) -> tuple:
    store = open_database(path)
    try:
        row = store.conn.execute("SELECT name, phone, city, notes FROM accounts WHERE uid = ?", (uid,)).fetchone()
        return tuple(row)
    finally:
        store.close()


def test_two_laptops_from_the_readme_instructions(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FIELDATLAS_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    assert main(["server", "init", "--database-url", url, "--admin-email", "admin@example.com",
                 "--admin-password", "a long admin password"]) == 0
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "serve", "--database-url", url, "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
            time.sleep(0.2)

        a, b = tmp_path / "laptop-a.sqlite", tmp_path / "laptop-b.sqlite"
        assert main(["demo", "--db", str(a), "--accounts", "60", "--reps", "3"]) == 0
        assert run_json(capsys, "login", "--db", str(a), "--server", server, *ADMIN)["role"] == "admin"
        first = run_json(capsys, "sync", "--db", str(a))
        assert first["pushed"] > 60 and first["rejected"] == 0, run_json(capsys, "sync", "--db", str(a), "--conflicts")[:3]
        run_json(capsys, "login", "--db", str(b), "--server", server, *ADMIN)
        assert run_json(capsys, "sync", "--db", str(b))["pulled"] > 60

        store = open_database(a)
        uid = store.scalar("SELECT uid FROM accounts WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
        store.close()

        def account_id(path: Path) -> str:
            store = open_database(path)
            try:
                return str(store.scalar("SELECT id FROM accounts WHERE uid = ?", (uid,)))
            finally:
                store.close()

        # Offline on both laptops: the same field (phone) and one other field each.
        for laptop, field, value in ((a, "phone", "512-555-0101"), (a, "city", "Round Rock"),
                                     (b, "phone", "512-555-0202"), (b, "notes", "Ask for the buyer")):
            run_json(capsys, "account", "set", "--db", str(laptop), "--id", account_id(laptop), "--field", field,
                     "--value", value)
        assert run_json(capsys, "sync", "--db", str(a), "--status")["pending"] == 2

        for laptop in (b, a, b):
            run_json(capsys, "sync", "--db", str(laptop))
        assert account(a, uid) == account(b, uid)
        assert account(a, uid)[1:] == ("512-555-0202", "Round Rock", "Ask for the buyer")
        for laptop in (a, b):
            found = run_json(capsys, "sync", "--db", str(laptop), "--conflicts")
            assert [(c["column"], c["kept_value"], c["lost_value"]) for c in found] == \
                [("phone", "512-555-0202", "512-555-0101")]

        # An admin adds a rep user for one of the demo reps, and can end their logins.
        added = run_json(capsys, "users", "add", "--server", server, "--email", "rep1@example.com", "--role", "rep",
                         "--rep-id", "2", "--db", str(a), "--password", "rep password 1")
        assert added["role"] == "rep" and added["rep_uid"]
        rep_db = tmp_path / "rep.sqlite"
        run_json(capsys, "login", "--db", str(rep_db), "--server", server, "--email", "rep1@example.com",
                 "--password", "rep password 1")
        run_json(capsys, "sync", "--db", str(rep_db))
        rep_store = open_database(rep_db)
        owners = {r[0] for r in rep_store.query("SELECT DISTINCT r.uid FROM accounts a JOIN reps r ON r.id = a.owner_id")}
        parked = rep_store.scalar("SELECT count(*) FROM sync_parked")
        rep_store.close()
        assert owners == {added["rep_uid"]}, "a rep pulls only their own accounts"
        assert parked == 0
        assert run_json(capsys, "users", "revoke", "--server", server, "--email", "rep1@example.com",
                        "--as", "admin@example.com")["revoked"] == 1
        capsys.readouterr()
        assert main(["sync", "--db", str(rep_db)]) == 1
        assert "revoked" in capsys.readouterr().err
    finally:
        proc.terminate()
        proc.wait(timeout=10)
