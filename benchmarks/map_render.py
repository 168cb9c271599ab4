"""How long a map page of N accounts takes to build and to finish loading in QtWebEngine offscreen.

    python benchmarks/map_render.py [--sizes 10000,100000] [--repeat 2] [--keep-dbs DIR]

For each size it writes a demo database (once; kept in --keep-dbs if given), builds the desktop's
page (the same code path as the Map view) and loads it in an offscreen QWebEngineView until the
page says every account is clustered and drawn (FieldAtlasMap.isReady()). Prints a table and
writes benchmarks/results/map_render.json. Targets: 10,000 accounts < 3 s (in Texas or across all
50 states), 100,000 < 10 s. It also opens the Map in a fresh app process, cold and after the
background start, and times changes pushed into the live page against a full reload (probe()).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS_S = {10_000: 3.0, 100_000: 10.0}


def demo_db(folder: Path, accounts: int) -> Path:
    from core.demo import DemoSpec, write_demo

    path = folder / f"map-bench-{accounts}.sqlite"
    if not path.exists():
        write_demo(path, DemoSpec(accounts=accounts, today=date(2026, 11, 20)))
    return path


def nationwide_db(folder: Path, accounts: int) -> Path:
    """A demo database whose accounts are spread over the 50 states and DC (ZIP centroids, seeded)."""
    import random

    import zipcodes

    from core.storage import open_database

    path = folder / f"map-bench-{accounts}-us.sqlite"
    if path.exists():
        return path
    tmp = folder / f"map-bench-{accounts}-us.partial.sqlite"
    tmp.unlink(missing_ok=True)
    tmp.write_bytes(demo_db(folder, accounts).read_bytes())
    by_state: dict[str, list[dict]] = {}
    for z in zipcodes.list_all():
        if z.get("zip_code_type") == "STANDARD" and z.get("lat") and z.get("long") and z["state"] in STATES_50:
            by_state.setdefault(z["state"], []).append(z)
    rng = random.Random(14)
    store = open_database(tmp)
    try:
        ids = [r[0] for r in store.conn.execute("SELECT id FROM accounts WHERE lat IS NOT NULL ORDER BY id")]
        states = sorted(by_state)
        rows = []
        for i, account_id in enumerate(ids):
            z = rng.choice(by_state[states[i % len(states)]])   # every state gets its share
            rows.append((float(z["lat"]), float(z["long"]), z["state"], z["city"].title(), z["zip_code"], account_id))
        # A benchmark fixture, not user data: written directly, without the change log.
        with store.conn:
            store.conn.executemany("UPDATE accounts SET lat = ?, lon = ?, state = ?, city = ?, postal_code = ? WHERE id = ?", rows)
    finally:
        store.close()
    tmp.replace(path)
    return path


STATES_50 = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
}


def build_page(db: Path, out: Path) -> tuple[float, int, int]:
    from core.maps.layers import MapOptions
    from core.maps.page import write_desktop_page
    from core.storage import open_database

    store = open_database(db)
    try:
        started = time.perf_counter()
        result = write_desktop_page(store, out, MapOptions(interactive=True, tile_url="fatiles://tile/{z}/{x}/{y}"))
        return time.perf_counter() - started, result.html_bytes, result.accounts
    finally:
        store.close()


def load_page(app, page_path: Path, timeout_s: float = 60.0) -> tuple[float, dict]:
    """Seconds from load() until the page reports every marker clustered, and the page's own figures."""
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    view = QWebEngineView()
    view.resize(1280, 800)
    view.show()
    loop = QEventLoop()
    answer: dict = {}

    def poll() -> None:
        view.page().runJavaScript(
            "window.FieldAtlasMap && FieldAtlasMap.isReady() ? JSON.stringify(FieldAtlasMap.stats()) : ''",
            0, got)

    def got(text) -> None:
        if text and not answer:
            answer.update(json.loads(text))
            answer["seconds"] = time.perf_counter() - started
            loop.quit()

    timer = QTimer(interval=25, timeout=poll)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    started = time.perf_counter()
    view.load(QUrl.fromLocalFile(str(page_path)))
    timer.start()
    loop.exec()
    timer.stop()
    if answer:
        # Pan to the north-east at state zoom: the county lines of every state in view get built.
        probe: list = []
        view.page().runJavaScript(
            "(function () { var t = performance.now(); FieldAtlasMap.map.setView([40.5, -77.5], 6, {animate: false});"
            " return JSON.stringify([performance.now() - t, FieldAtlasMap.countiesShown.length]); })()", 0,
            lambda text: (probe.append(text), loop.quit()))
        loop.exec()
        if probe and probe[0]:
            ms, shown = json.loads(probe[0])
            answer["county_zoom_ms"], answer["county_states_drawn"] = round(ms), shown
    view.close()
    view.deleteLater()
    app.processEvents()
    if not answer:
        raise RuntimeError(f"the page did not finish within {timeout_s} s")
    return answer.pop("seconds"), answer


def probe(mode: str, db: Path) -> dict:
    """In a fresh process: open the Map the first time (cold, or after the background start) and update it.

    cold: the user clicks Map right after start-up; seconds until the page is drawn.
    warm: the main window starts the map in the background (as the app does); seconds until the
    hidden page is drawn, then seconds to open the Map. Both report the longest stall of the GUI
    thread (a 5 ms timer's largest gap). Then three changes go into the live page (a pin moved,
    a territory recoloured, a route added) and, for comparison, one full page reload.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    from core.changes import Changes
    from core.settings import Settings
    from core.storage import open_database, writes
    from core.territories.service import update_territory
    from desktop.app import application, dispose
    from desktop.context import AppContext
    from desktop.main_window import MainWindow

    app = application()
    store = open_database(db)
    ctx = AppContext(store, Settings(), persist_settings=False)
    window = MainWindow(ctx)
    window.resize(1400, 860)
    window.show()
    for _ in range(10):
        app.processEvents()
    stall = {"last": time.perf_counter(), "worst": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        stall["worst"] = max(stall["worst"], now - stall["last"])
        stall["last"] = now

    meter = QTimer(interval=5, timeout=tick)
    meter.start()
    loop = QEventLoop()

    def wait(predicate, timeout_s: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout_s
        while not predicate():
            if time.perf_counter() > deadline:
                raise RuntimeError("timed out")
            QTimer.singleShot(5, loop.quit)
            loop.exec()

    out: dict = {"mode": mode}
    started = time.perf_counter()
    stall["last"], stall["worst"] = started, 0.0
    if mode == "cold":
        window.show_section("map")
        view = window.view("map")
        wait(lambda: view.ready)
        out["first_open_s"] = time.perf_counter() - started
        out["first_open_worst_stall_s"] = stall["worst"]
    else:
        window.prepare_in_background(("map",), delay_ms=0)
        wait(lambda: "map" in window.views and window.views["map"].ready)
        view = window.views["map"]
        out["background_ready_s"] = time.perf_counter() - started
        out["background_worst_stall_s"] = stall["worst"]
        started = time.perf_counter()
        stall["last"], stall["worst"] = started, 0.0
        window.show_section("map")
        wait(lambda: view.isVisible() and view.ready)
        for _ in range(3):
            app.processEvents()
        out["first_open_s"] = time.perf_counter() - started
        out["first_open_worst_stall_s"] = stall["worst"]

    def timed_update(apply) -> float:
        before = view.updates_applied
        t0 = time.perf_counter()
        apply()
        wait(lambda: view.updates_applied > before)
        return time.perf_counter() - t0

    from desktop.map import actions

    account = store.scalar("SELECT id FROM accounts WHERE lat IS NOT NULL ORDER BY id LIMIT 1")
    lat, lon = store.query("SELECT lat, lon FROM accounts WHERE id = ?", (account,))[0]
    out["update_pin_moved_s"] = timed_update(lambda: actions.move_account(ctx, account, lat + 0.05, lon + 0.05))
    terr = store.scalar("SELECT id FROM territories WHERE level = 'territory' ORDER BY id LIMIT 1")
    out["update_territory_recoloured_s"] = timed_update(
        lambda: ctx.apply(update_territory(store, terr, {"color": "#00aa55"})))
    rep = store.scalar("SELECT id FROM reps WHERE role = 'rep' ORDER BY id LIMIT 1")
    stops = [r[0] for r in store.query("SELECT id FROM accounts WHERE owner_id = ? AND lat IS NOT NULL "
                                       "ORDER BY id LIMIT 8", (rep,))]

    def add_route() -> None:
        with store.atomic():
            route = writes.insert(store, "routes", {"rep_id": rep, "day": "2026-12-03", "status": "draft"})
            ids = writes.insert_many(store, "route_stops", [
                {"route_id": route, "seq": i + 1, "account_id": a} for i, a in enumerate(stops)])
        ctx.apply(Changes.of("routes", [route]).merge(Changes.of("route_stops", ids)))

    out["update_route_added_s"] = timed_update(add_route)
    loads = view.loads
    t0 = time.perf_counter()
    view.rebuild()
    wait(lambda: view.loads > loads and view.ready)
    out["full_reload_s"] = time.perf_counter() - t0
    ctx.tasks.wait(10_000)
    meter.stop()
    dispose(window)
    store.close()
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def run_probe(mode: str, db: Path, work: Path) -> dict:
    """probe() in a fresh Python process on a copy of the database (the probe writes to it)."""
    import subprocess

    copy = work / f"probe-{mode}.sqlite"
    copy.write_bytes(db.read_bytes())
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, __file__, "--probe", mode, str(copy)], env=env, capture_output=True,
                          text=True, timeout=300)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"probe {mode} failed: {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,10000us,100000",
                        help="comma-separated account counts; a 'us' suffix spreads them over all 50 states")
    parser.add_argument("--repeat", type=int, default=2, help="loads per size (median reported)")
    parser.add_argument("--keep-dbs", metavar="DIR", help="keep (and reuse) the demo databases here")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "map_render.json"))
    parser.add_argument("--startup-size", type=int, default=10_000,
                        help="accounts for the first-open and live-update probes (0 skips them)")
    parser.add_argument("--probe", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        print(json.dumps(probe(args.probe[0], Path(args.probe[1]))))
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.app import application

    import desktop.map  # noqa: F401  (fatiles:// must be declared before the first web view)

    app = application()
    work = Path(args.keep_dbs) if args.keep_dbs else Path(tempfile.mkdtemp(prefix="map-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in sizes:
        nationwide = spec.endswith("us")
        n = int(spec[:-2] if nationwide else spec)
        db = nationwide_db(work, n) if nationwide else demo_db(work, n)
        page = work / f"map-{spec}.html"
        build_s, html_bytes, accounts = build_page(db, page)
        loads, stats = [], {}
        for _ in range(max(1, args.repeat)):
            seconds, stats = load_page(app, page)
            loads.append(seconds)
        timings = stats.get("timings", {})
        row = {
            "accounts": accounts, "spread": "50 states + DC" if nationwide else "TX",
            "states_with_counties": stats.get("county_states"),
            "html_mb": round(html_bytes / 1e6, 2), "build_s": round(build_s, 2),
            "load_s": round(statistics.median(loads), 2), "load_runs_s": [round(x, 2) for x in loads],
            "clustering_ms": round(timings.get("clustered", 0) - timings.get("markers", 0)),
            "target_s": TARGETS_S.get(n), "drawn_elements": stats.get("drawn"),
            "county_zoom_ms": stats.get("county_zoom_ms"), "county_states_drawn": stats.get("county_states_drawn"),
        }
        row["meets_target"] = row["target_s"] is None or row["load_s"] < row["target_s"]
        rows.append(row)
        print(f"{n:>8,} accounts ({row['spread']}) built in {build_s:.2f} s, loaded in {row['load_s']:.2f} s", flush=True)

    probes = []
    if args.startup_size:
        for mode in ("cold", "warm"):
            probes.append(run_probe(mode, demo_db(work, args.startup_size), work))

    print()
    print(f"{'accounts':>9} {'spread':>14} {'HTML MB':>8} {'build s':>8} {'load s':>7} {'cluster ms':>10} "
          f"{'target s':>8}  ok  {'pan to NE ms (states drawn)'}")
    for r in rows:
        print(f"{r['accounts']:>9,} {r['spread']:>14} {r['html_mb']:>8.2f} {r['build_s']:>8.2f} {r['load_s']:>7.2f} "
              f"{r['clustering_ms']:>10} {r['target_s'] or '-':>8}  {'yes' if r['meets_target'] else 'NO':>3}  "
              f"{r['county_zoom_ms']} ({r['county_states_drawn']})")
    if probes:
        print(f"\nFirst open of the Map and live updates ({args.startup_size:,} accounts, fresh process each):")
        keys = ("background_ready_s", "background_worst_stall_s", "first_open_s", "first_open_worst_stall_s",
                "update_pin_moved_s", "update_territory_recoloured_s", "update_route_added_s", "full_reload_s")
        print(f"{'':>32} " + " ".join(f"{p['mode']:>8}" for p in probes))
        for k in keys:
            print(f"{k:>32} " + " ".join(f"{p.get(k, '-'):>8}" for p in probes))
    result = {
        "benchmark": "map_render", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "note": "load_s = QWebEngineView.load() until every account is clustered and drawn, offscreen; "
                "shared 2-core machine, figures are noisy",
        "rows": rows,
        "first_open_and_updates": probes,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0 if all(r["meets_target"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
