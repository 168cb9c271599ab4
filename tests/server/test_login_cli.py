"""`fieldatlas login` and `fieldatlas logout` against a real server: the token is kept, then ended."""

from __future__ import annotations

import json

import httpx

from core.storage import open_database
from core.sync import engine
from desktop.cli import main

from tests.server.conftest import ADMIN


def test_login_then_logout_ends_the_token_on_the_server(sqlite_server, credentials_file, tmp_path, capsys):
    db = tmp_path / "laptop.sqlite"
    assert main(["login", "--db", str(db), "--server", sqlite_server + "/", "--email", ADMIN[0],
                 "--password", ADMIN[1]]) == 0
    key = f"{sqlite_server} {ADMIN[0]}"
    token = json.loads(credentials_file.read_text())[key]
    with httpx.Client(base_url=sqlite_server, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/me").status_code == 200
    capsys.readouterr()

    assert main(["logout", "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ended_on_server"] is True and out["email"] == ADMIN[0]
    assert key not in json.loads(credentials_file.read_text())
    with httpx.Client(base_url=sqlite_server, headers={"Authorization": f"Bearer {token}"}) as c:
        answer = c.get("/me")
        assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    store = open_database(db)
    try:
        assert not engine.status(store).configured
        assert engine.status(store).server == sqlite_server
    finally:
        store.close()
    # Signed out already: a second logout says so and fails.
    assert main(["logout", "--db", str(db)]) != 0
    assert "not signed in" in capsys.readouterr().err
