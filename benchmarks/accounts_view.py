"""Benchmark: open a 100,000-account database and paint the Accounts view; cold start; scrolling frame times.

    python benchmarks/accounts_view.py [--accounts 100000] [--runs 3] [--out benchmarks/results/accounts_view.json]

Each measurement runs in a fresh Python process, so times include imports and memory is the
process's own peak. Targets (issue #2): first screen < 1.5 s and < 400 MB peak; cold start to a
painted main window < 2 s; demo of 100,000 accounts written in < 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
import psutil


def peak_mb():
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return psutil.Process().memory_info().rss / 2**20

t0 = psutil.Process().create_time()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
mode, db = sys.argv[1], sys.argv[2]
from desktop.app import application
app = application()
from PySide6.QtCore import QEvent, QObject, QTimer
from core import settings as settings_mod
from core.storage import open_database
from desktop.context import AppContext
t_open = time.time()
store = open_database(db)
ctx = AppContext(store, settings_mod.Settings(), persist_settings=False)
painted = {}
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "t" not in painted:
            painted["t"] = time.time()
            QTimer.singleShot(0, app.quit)
        return False
watch = Watch()
if mode == "view":
    from desktop.accounts.view import AccountsView
    widget = AccountsView(ctx)
    widget.resize(1400, 860)
    widget.table.viewport().installEventFilter(watch)
    widget.show()
else:
    from desktop.main_window import MainWindow
    widget = MainWindow(ctx)
    widget.resize(1400, 860)
    widget.view("accounts").table.viewport().installEventFilter(watch)
    widget.show()
app.exec()
result = {"first_screen_s": painted["t"] - t_open, "cold_start_s": painted["t"] - t0,
          "peak_rss_mb": peak_mb()}
if mode == "scroll":
    table = widget.view("accounts").table
    bar = table.verticalScrollBar()
    import random
    rng = random.Random(1)
    frames = []
    for _ in range(60):
        start = time.perf_counter()
        bar.setValue(rng.randint(0, bar.maximum()))
        table.viewport().grab()  # forces a real paint of the visible rows (fetching them if needed)
        frames.append((time.perf_counter() - start) * 1000)
    for _ in range(200):  # wheel-like steps: 3 rows at a time
        start = time.perf_counter()
        bar.setValue(bar.value() + 72)
        table.viewport().grab()
        frames.append((time.perf_counter() - start) * 1000)
    frames.sort()
    result.update(scroll_frames=len(frames), scroll_p50_ms=frames[len(frames) // 2],
                  scroll_p99_ms=frames[int(len(frames) * 0.99) - 1], scroll_max_ms=frames[-1],
                  peak_rss_mb=peak_mb())
print(json.dumps(result))
"""


def run_child(mode: str, db: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(db)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_db(accounts: int, folder: Path) -> tuple[Path, float | None]:
    sys.path.insert(0, str(ROOT))
    from core.demo import DemoSpec, write_demo

    path = folder / f"accounts-{accounts}.sqlite"
    if path.exists():
        return path, None
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    write_demo(path, DemoSpec(accounts=accounts, reps=25 if accounts >= 10000 else 8))
    return path, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "accounts_view.json"))
    args = parser.parse_args()

    big, demo_seconds = ensure_db(args.accounts, ROOT / "benchmarks" / "out")
    small, _ = ensure_db(1500, ROOT / "benchmarks" / "out")
    rows = []

    def measure(name, mode, db, key, target, unit="s"):
        values = [run_child(mode, db)[key] for _ in range(args.runs)]
        rows.append({"measure": name, "median": statistics.median(values), "min": min(values),
                     "max": max(values), "target": target, "unit": unit,
                     "ok": statistics.median(values) < target})

    if demo_seconds is not None:
        rows.append({"measure": f"write demo of {args.accounts:,} accounts", "median": demo_seconds,
                     "min": demo_seconds, "max": demo_seconds, "target": 60, "unit": "s", "ok": demo_seconds < 60})
    measure(f"Accounts view first screen, {args.accounts:,} accounts", "view", big, "first_screen_s", 1.5)
    measure(f"peak memory, Accounts view, {args.accounts:,} accounts", "view", big, "peak_rss_mb", 400, "MB")
    measure("cold start to painted main window, demo (1,500)", "window", small, "cold_start_s", 2.0)
    measure(f"cold start to painted main window, {args.accounts:,}", "window", big, "cold_start_s", 2.0)
    scroll = run_child("scroll", big)
    rows.append({"measure": f"scroll frame p99 ({scroll['scroll_frames']} jumps/steps)", "median": scroll["scroll_p99_ms"],
                 "min": scroll["scroll_p50_ms"], "max": scroll["scroll_max_ms"], "target": 50, "unit": "ms",
                 "ok": scroll["scroll_p99_ms"] < 50})

    print(f"{'measure':58} {'median':>9} {'min':>9} {'max':>9} {'target':>8}  ok")
    for r in rows:
        print(f"{r['measure']:58} {r['median']:9.3f} {r['min']:9.3f} {r['max']:9.3f} {r['target']:>7}{r['unit']:<2} "
              f"{'yes' if r['ok'] else 'NO'}")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} (other work on the machine adds noise)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "runs": args.runs, "load_average": load,
                                          "cpu_count": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
