"""Benchmark: how long `fieldatlas screenshot --view X` takes to render each view (target < 5 s each).

    python benchmarks/screenshots.py [--db DEMO.sqlite] [--views accounts,map,...] [--repeat 1]
        [--rep "Megan Nguyen" --start 2026-12-07 --days 5] [--png-dir DIR] [--out benchmarks/results/screenshots.json]

Every view runs in a fresh process, as the CLI does: the process measures its own start (Python,
imports, QApplication, opening the database) apart from the render (`desktop.screenshot.render_view`:
a fresh main window showing the view, waiting until the view says it is ready, 0.5 s of settling,
the grab and the PNG). Besides every sidebar view and `rotation` (whose render includes its 1.5 s
rotation solve), `plan+solved` renders `--view plan --rep R --start D --days N` (its render includes
the 2 s plan search and the solver's worker start). Render CPU is this process's only: the map's
web page is drawn by QtWebEngine's own processes. Without --db a demo database is made first.
The PNGs are kept in --png-dir to look at.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 5.0
SOLVED_PLAN = "plan+solved"


def one(args: argparse.Namespace) -> int:
    """Child: render one view and print its timings as JSON on the last line."""
    t0, c0 = time.perf_counter(), time.process_time()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.app import application
    from desktop.cli.common import open_store
    from desktop.screenshot import render_view

    t1 = time.perf_counter()
    application()
    t2 = time.perf_counter()
    store = open_store(args.db)
    t3, c3 = time.perf_counter(), time.process_time()
    view, options = args.one, None
    if view == SOLVED_PLAN:
        from datetime import date

        view, options = "plan", {"rep": args.rep, "start": date.fromisoformat(args.start), "days": args.days}
    render_view(store, view, Path(args.png), options=options)
    t4, c4 = time.perf_counter(), time.process_time()
    store.close()
    print(json.dumps({"imports_s": t1 - t0, "app_s": t2 - t1, "open_s": t3 - t2, "render_s": t4 - t3,
                      "render_cpu_s": c4 - c3, "start_cpu_s": c3 - c0}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="", help="database to render (default: a fresh demo)")
    ap.add_argument("--views", default="", help="comma-separated view keys (default: every view and plan+solved)")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes per view; the table shows medians")
    ap.add_argument("--rep", default="Megan Nguyen", help="plan+solved: the rep")
    ap.add_argument("--start", default="2026-12-07", help="plan+solved: first day (YYYY-MM-DD)")
    ap.add_argument("--days", type=int, default=5, help="plan+solved: days")
    ap.add_argument("--png-dir", default="", help="where the PNGs go (default: a temporary folder, printed)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "screenshots.json"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--png", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return one(args)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from desktop.screenshot import view_names

    views = [v for v in args.views.split(",") if v] or [*view_names(), SOLVED_PLAN]
    png_dir = Path(args.png_dir or tempfile.mkdtemp(prefix="fieldatlas-shots-"))
    png_dir.mkdir(parents=True, exist_ok=True)
    db = args.db
    if not db:
        from datetime import date

        from core.demo import DemoSpec, write_demo

        db = str(png_dir / "demo.sqlite")
        if not Path(db).exists():
            write_demo(db, DemoSpec(today=date(2026, 12, 2)))
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "load_average_at_start": os.getloadavg()},
                     "db": db, "repeat": args.repeat, "target_s": TARGET_S,
                     "plan_options": {"rep": args.rep, "start": args.start, "days": args.days}, "views": {}}
    for view in views:
        runs = []
        for _ in range(args.repeat):
            png = png_dir / f"{view}.png"
            started = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--one", view, "--db", db, "--png", str(png),
                                   "--rep", args.rep, "--start", args.start, "--days", str(args.days)],
                                  capture_output=True, text=True, timeout=180)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                print(f"{view}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                runs.append({"failed": True, "stderr": done.stderr[-2000:]})
                continue
            child = json.loads(done.stdout.strip().splitlines()[-1])
            # Process start = everything the command costs besides the render: Python, imports, the
            # QApplication, opening the database, and exiting.
            child.update(wall_s=wall, process_s=wall - child["render_s"], load_1min=os.getloadavg()[0])
            runs.append(child)
        ok = [r for r in runs if not r.get("failed")]
        summary = {k: round(statistics.median(r[k] for r in ok), 2) for k in
                   ("render_s", "render_cpu_s", "process_s", "wall_s", "imports_s", "app_s")} if ok else {}
        summary["runs"] = [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in runs]
        summary["png"] = str(png_dir / f"{view}.png")
        results["views"][view] = summary
        if ok:
            print(f"  {view}: render {summary['render_s']} s", flush=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")

    print(f"\n{'view':14} {'render s':>9} {'render CPU s':>13} {'process start s':>16} {'whole command s':>16}  < {TARGET_S:g} s")
    for view, s in results["views"].items():
        if "render_s" not in s:
            print(f"{view:14} {'failed':>9}")
            continue
        mark = "yes" if s["render_s"] < TARGET_S else "NO"
        print(f"{view:14} {s['render_s']:>9} {s['render_cpu_s']:>13} {s['process_s']:>16} {s['wall_s']:>16}  {mark}")
    print(f"median of {args.repeat} fresh process(es) per view; load average at start/end: "
          f"{results['machine']['load_average_at_start']} / {results['machine']['load_average_at_end']} on "
          f"{os.cpu_count()} CPUs; PNGs in {png_dir}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
