"""Receipt files travel with sync: uploaded by hash (checked, once, size-limited), downloaded by the
laptops that may see the expense, refused to the others."""

from __future__ import annotations

import hashlib
import os

from core.expenses import items
from core.storage import writes
from core.storage.receipt_files import receipt_path

from tests.server.conftest import ADMIN, admin_token, make_laptop
from tests.server.test_api import _seed_team, client, login, op

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(4000)
SHA = hashlib.sha256(PNG).hexdigest()


def test_files_are_checked_stored_once_and_readable_as_their_expense(server):
    _seed_team(server)  # rita (R1) and rosa (R3) are reps, mona manages R1, fred is finance
    with client(server, admin_token(server)) as c:
        results = c.post("/sync/push", json={"node_id": "adminnode", "ops": [
            op(200, "attachments", "attR1", {"sha256": SHA, "mime": "image/png", "size": len(PNG)}),
            op(201, "expenses", "expR1", {"receipt_id": "attR1"}, "update")]}).json()["results"]
        assert {r["status"] for r in results} == {"applied"}
    tokens = {name: login(server, f"{name}@example.com") for name in ("rita", "rosa", "mona", "fred")}
    tokens["admin"] = admin_token(server)

    with client(server, tokens["rita"]) as c:
        assert c.get(f"/files/{SHA}").status_code == 404, "not uploaded yet"
        wrong = c.put(f"/files/{'0' * 64}", content=PNG)
        assert wrong.status_code == 422 and f"hash to {SHA}" in wrong.json()["detail"]
        text = b"not a receipt"
        kind = c.put(f"/files/{hashlib.sha256(text).hexdigest()}", content=text)
        assert kind.status_code == 415 and "JPEG, PNG or PDF" in kind.json()["detail"]
        big = b"%PDF-" + b"x" * (25 * 1024 * 1024)
        too_big = c.put(f"/files/{hashlib.sha256(big).hexdigest()}", content=big)
        assert too_big.status_code == 413 and "25 MB" in too_big.json()["detail"]
        assert c.put("/files/NOT-A-HASH", content=PNG).status_code == 422
        first = c.put(f"/files/{SHA}", content=PNG, headers={"Content-Type": "image/png"})
        assert first.status_code == 200 and first.json()["status"] == "stored"
        assert c.put(f"/files/{SHA}", content=PNG).json()["status"] == "duplicate"
    with client(server) as c:
        assert c.put(f"/files/{SHA}", content=PNG).status_code == 401
        assert c.get(f"/files/{SHA}").status_code == 401
    with client(server, tokens["fred"]) as c:
        assert c.put(f"/files/{SHA}", content=PNG).status_code == 403, "finance reads, does not upload"

    # Read as the expense it belongs to: R1's own rep, R1's manager, finance, admin; not rosa (R3).
    for name, want in {"rita": 200, "rosa": 403, "mona": 200, "fred": 200, "admin": 200}.items():
        with client(server, tokens[name]) as c:
            answer = c.get(f"/files/{SHA}")
        assert answer.status_code == want, f"GET file as {name}: {answer.status_code}, want {want}"
        if want == 200:
            assert answer.content == PNG and answer.headers["content-type"] == "image/png"

    # Whoever uploaded a file may read it back before any expense points at it; nobody else.
    own = b"\xff\xd8\xff" + os.urandom(100)
    own_sha = hashlib.sha256(own).hexdigest()
    with client(server, tokens["rosa"]) as c:
        assert c.put(f"/files/{own_sha}", content=own).status_code == 200
        assert c.get(f"/files/{own_sha}").content == own
    with client(server, tokens["rita"]) as c:
        assert c.get(f"/files/{own_sha}").status_code == 403


def test_a_receipt_travels_from_one_laptop_to_another_once(sqlite_server, tmp_path):
    a = make_laptop(tmp_path, "a", sqlite_server, *ADMIN)
    rep = writes.insert(a.store, "reps", {"name": "Ann Rep", "email": "ann@example.com"})
    receipt = tmp_path / "lunch.png"
    receipt.write_bytes(PNG)
    items.add_expense(a.store, rep, "2026-11-20", category="meals", amount="12.50", merchant="Cafe", receipt=receipt)
    report = a.sync()
    assert report.files_sent == 1 and not report.files_refused
    assert a.sync().files_sent == 0, "a file the server confirmed is not sent again"

    b = make_laptop(tmp_path, "b", sqlite_server, *ADMIN)
    report = b.sync()
    assert report.files_received == 1
    assert "receipt files: 0 sent, 1 received" in report.summary()
    target = receipt_path(b.store, SHA, "image/png")
    assert target.read_bytes() == PNG
    assert b.store.scalar("SELECT e.merchant FROM expenses e JOIN attachments f ON f.id = e.receipt_id "
                          "WHERE f.sha256 = ?", (SHA,)) == "Cafe"
    assert b.sync().files_received == 0
    target.unlink()  # a laptop that lost the file gets it back at the next sync
    assert b.sync().files_received == 1 and target.read_bytes() == PNG
    assert b.sync().files_sent == 0, "a downloaded file is known to be on the server"
