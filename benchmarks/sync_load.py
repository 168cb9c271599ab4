"""Sync server under load: 20 laptops with 500 changes each sync at once against a loopback server.

    python benchmarks/sync_load.py [--clients 20] [--changes 500] [--batch 25] [--database-url URL]

The server runs as `fieldatlas serve` in its own process, on SQLite unless --database-url names a
PostgreSQL database (it is initialised first). Each laptop is a real client database: 100 accounts
created, then edits of them up to --changes change-log rows. First the server is loaded: from one thread per laptop, the push
requests that laptop's sync sends (built by the engine from its change log, --batch operations
each) and then pull pages until done; every request is timed. The load comes from a lean
http.client per laptop with the bodies encoded beforehand, so on a 2-CPU machine the load generator
takes little of the CPU the server needs (its CPU per request is printed beside the server's). Then
the laptops themselves sync at once through core.sync.engine (their pushes come back as already
applied) to check the end. Printed: requests, requests per second, p50/p99 latency, CPU time per
request of the server process and of the load generator, the load average, and a check that the
server holds every change once and that each laptop ended with nothing pending. Targets: >= 300
requests/s and p99 < 250 ms on SQLite. Writes benchmarks/results/sync_load.json.
`--profile PATH` records the server with py-spy (collapsed stacks) during the load phase, to see where its time goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import accounts  # noqa: E402
from core.storage import open_database, writes  # noqa: E402
from core.sync import engine  # noqa: E402
from core.sync.transport import Server  # noqa: E402

ADMIN = ("admin@example.com", "benchmark password")


class LoadClient:
    """A lean keep-alive HTTP/1.1 client (http.client) that times each request.

    The load generator shares two CPUs with the server, so it must cost little per request: push
    bodies are encoded before the clock starts, and http.client does far less per request than httpx.
    """

    def __init__(self, base: str, token: str, timings: list) -> None:
        parsed = urlparse(base)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.timings = timings

    def send(self, method: str, path: str, body: bytes | None = None) -> bytes:
        start = time.perf_counter()
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        self.timings.append((path.partition("?")[0], time.perf_counter() - start))  # list.append is atomic
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data

    def close(self) -> None:
        self.conn.close()


def make_laptop(path: Path, changes: int, seed: int) -> None:
    store = open_database(path, create=True)
    try:
        rep = writes.insert(store, "reps", {"name": f"Rep {seed}"})
        ids = [accounts.create_account(store, {"name": f"Account {seed}-{n}", "owner_id": rep})[0] for n in range(100)]
        made = store.scalar("SELECT count(*) FROM change_log")
        n = 0
        while made < changes:
            accounts.update_account(store, ids[n % len(ids)], {"phone": f"512-{seed:02d}-{n:05d}"})
            made += 1
            n += 1
    finally:
        store.close()


def push_bodies(path: Path, batch: int) -> tuple[str, list[list[dict]]]:
    """The push requests a laptop's sync would send, built by the engine's own code."""
    from itertools import islice

    from core.storage import change_log

    store = open_database(path)
    try:
        ids = engine._Ids(store)
        edits = list(change_log.edits(store, unpushed=True))
        ops = [{"op_id": f"{store.node_id}-{e.seq}", "table": e.table, "row_uid": e.row_uid, "op": e.op,
                "values": ids.outgoing(e.table, e.values), "hlc": e.hlc} for e in edits]
        it = iter(ops)
        return store.node_id, [chunk for chunk in iter(lambda: list(islice(it, batch)), [])]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user, system) used so far by the server process and any children (--workers)."""
    import psutil

    parent = psutil.Process(pid)
    user = system = 0.0
    for p in [parent, *parent.children(recursive=True)]:
        times = p.cpu_times()
        user, system = user + times.user, system + times.system
    return user, system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--changes", type=int, default=500)
    ap.add_argument("--batch", type=int, default=25, help="operations per push request")
    ap.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sync_load.json"))
    ap.add_argument("--profile", metavar="PATH", default=None,
                    help="record the server with py-spy (collapsed stacks) during the load phase to PATH; figures are then slower")
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="fa-sync-load-"))
    url = args.database_url or f"sqlite:///{folder / 'server.sqlite'}"
    os.environ["FIELDATLAS_CREDENTIALS_FILE"] = str(folder / "credentials.json")
    from server.app import init_server

    init_server(url, *ADMIN)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "desktop.cli", "serve", "--database-url", url, "--port", str(port)]
    proc = subprocess.Popen(command,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        laptops = [folder / f"laptop{i}.sqlite" for i in range(args.clients)]
        for i, path in enumerate(laptops):
            make_laptop(path, args.changes, i)
        deadline = time.monotonic() + 30
        while True:
            with Server(base) as probe:
                if probe.health(timeout=1):
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        with Server(base) as s:
            token = s.login(*ADMIN)["token"]

        timings: list[tuple[str, float]] = []

        # 1. The server under load: every laptop's push batches (built from its change log exactly as
        # engine.push builds them) and then pull pages, sent from one thread per laptop at once.
        bodies = [push_bodies(path, args.batch) for path in laptops]

        encoded = [[json.dumps({"node_id": node, "ops": ops}).encode() for ops in batches] for node, batches in bodies]

        def hammer(i: int) -> None:
            client = LoadClient(base, token, timings)
            try:
                for body in encoded[i]:
                    results = json.loads(client.send("POST", "/sync/push", body))["results"]
                    assert len(results) == body.count(b'"op_id"')
                cursor = 0
                while True:
                    page = json.loads(client.send("GET", f"/sync/pull?since={cursor}&limit=500"))
                    cursor = page["next_cursor"]
                    if not page["has_more"]:
                        break
            finally:
                client.close()

        spy = None
        if args.profile:  # attached for the load phase only, so start-up and the laptops' sync stay out
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(proc.pid), "--rate", "500", "--gil", "--format", "raw",
                                    "--output", args.profile], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy needs a moment to attach
        load_before = os.getloadavg()
        server_cpu_before = server_cpu(proc.pid)
        client_cpu_before = time.process_time()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(hammer, range(args.clients)))
        wall = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu_before
        server_user, server_system = (after - before for after, before in zip(server_cpu(proc.pid), server_cpu_before))
        server_cpu_used = server_user + server_system
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile when interrupted
            spy.wait(timeout=60)

        # 2. The laptops themselves sync (engine.sync, all at once): their pushes are answered as
        # duplicates (applied once above), so each ends with nothing pending and everyone's rows.
        e2e_start = time.perf_counter()

        def run(path: Path) -> int:
            store = open_database(path)
            try:
                with Server(base, token) as server:
                    engine.sync(store, server)
                return engine.status(store).pending
            finally:
                store.close()

        with ThreadPoolExecutor(args.clients) as pool:
            pending = list(pool.map(run, laptops))
        e2e_wall = time.perf_counter() - e2e_start
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    total_changes = 0
    for path in laptops:
        conn = sqlite3.connect(path)
        total_changes += conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
        conn.close()
    applied = None
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):])
        applied = conn.execute("SELECT count(*) FROM applied_ops").fetchone()[0]
        conn.close()
    latencies = [t for _, t in timings]
    pushes = [t for p, t in timings if p == "/sync/push"]
    pulls = [t for p, t in timings if p == "/sync/pull"]
    result = {
        "clients": args.clients, "changes_per_client": args.changes, "batch": args.batch,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "requests": len(latencies), "push_requests": len(pushes), "pull_requests": len(pulls),
        "wall_s": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 1),
        "changes_per_s": round(total_changes / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1), "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "push_p50_ms": round(statistics.median(pushes) * 1000, 1),
        "push_p99_ms": round(percentile(pushes, 0.99) * 1000, 1),
        "pull_p50_ms": round(statistics.median(pulls) * 1000, 1) if pulls else None,
        "pull_p99_ms": round(percentile(pulls, 0.99) * 1000, 1) if pulls else None,
        "server_cpu_s": round(server_cpu_used, 2),
        "server_cpu_ms_per_request": round(server_cpu_used * 1000 / len(latencies), 2),
        "server_system_cpu_s": round(server_system, 2),
        "client_cpu_s": round(client_cpu, 2),
        "client_cpu_ms_per_request": round(client_cpu * 1000 / len(latencies), 2),
        "laptops_sync_wall_s": round(e2e_wall, 2),
        "changes_sent": total_changes, "applied_on_server": applied, "laptops_with_pending": sum(1 for p in pending if p),
        "cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
        "targets": {"requests_per_s": ">= 300", "p99_ms": "< 250"},
    }
    rows = [("requests", result["requests"]), ("requests/s", result["requests_per_s"]),
            ("p50 ms", result["p50_ms"]), ("p99 ms", result["p99_ms"]),
            ("push p50 / p99 ms", f"{result['push_p50_ms']} / {result['push_p99_ms']}"),
            ("pull p50 / p99 ms", f"{result['pull_p50_ms']} / {result['pull_p99_ms']}"),
            ("server CPU ms / request", f"{result['server_cpu_ms_per_request']} ({result['server_cpu_s']} s, "
                                        f"{result['server_system_cpu_s']} s of it system)"),
            ("client CPU ms / request", f"{result['client_cpu_ms_per_request']} ({result['client_cpu_s']} s)"),
            ("changes sent / applied once", f"{total_changes} / {applied}"),
            ("laptops with changes pending", result["laptops_with_pending"]),
            ("then 20 laptops sync, wall s", result["laptops_sync_wall_s"]),
            ("load average before / after", f"{result['load_avg_before'][0]} / {result['load_avg_after'][0]} "
                                            f"on {result['cpus']} CPUs")]
    print(f"sync load: {args.clients} clients x {args.changes} changes, {args.batch} per push, {result['database']}")
    for name, value in rows:
        print(f"  {name:30} {value}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if not result["laptops_with_pending"] and (applied is None or applied == total_changes) else 1


if __name__ == "__main__":
    sys.exit(main())
