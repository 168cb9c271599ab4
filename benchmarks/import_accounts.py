"""Benchmark: import 100,000 Salesforce-style rows, re-import them, geocode them offline; time and memory.

    python benchmarks/import_accounts.py [--rows 100000] [--repeat 3] [--big-mb 0] [--out benchmarks/results/import_accounts.json]

Targets (issue #3): import < 10 s, 100,000 offline geocodes < 5 s, and a 100 MB file streamed with
bounded memory (--big-mb 100 adds that run). Figures depend on the machine and on what else runs on it:
each measure runs --repeat times on a fresh database and the table shows the median and the range,
with a fixed CPU loop timed before each run to show how much the machine's speed moved meanwhile.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from core.geocoding import geocode_accounts  # noqa: E402
from core.geocoding.offline import gazetteer  # noqa: E402
from core.importing import import_accounts, open_table  # noqa: E402
from core.importing.mapping import FIELDS, auto_mapping  # noqa: E402
from core.importing.samples import write_sample  # noqa: E402
from core.importing.values import RowConverter  # noqa: E402
from core.storage import open_database  # noqa: E402

STATES = ("TX", "CA", "NY", "FL", "IL", "OK", "LA", "CO")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1_048_576


def stream_python_peak_mb(path: Path) -> tuple[float, int]:
    """Peak Python allocation while reading and checking every row of a file (what a 100 MB file costs)."""
    gc.collect()
    tracemalloc.start()
    table = open_table(path)
    mapping = auto_mapping(table.headers)
    index = {h: i for i, h in enumerate(table.headers)}
    convert = RowConverter((f.key, index[mapping.columns[f.key]], mapping.columns[f.key])
                           for f in FIELDS if f.key in mapping.columns)
    rows = 0
    for number, cells in table.rows():
        convert(number, cells)
        rows += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1_048_576, rows


def cpu_yardstick_s() -> float:
    """A fixed pure-Python loop; how long it takes tells how fast this (shared, virtual) CPU is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - started


def timed(fn):
    """(result, wall seconds, process CPU seconds) of fn()."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2),
            "runs": [round(v, 2) for v in values]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh database per run; the table shows medians")
    parser.add_argument("--big-mb", type=int, default=0, help="also import a generated file of about this size")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "import_accounts.json"))
    args = parser.parse_args(argv)

    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "load_average_at_start": os.getloadavg()},
                     "rows": args.rows, "repeat": args.repeat}
    runs: dict[str, list[float]] = {k: [] for k in ("yardstick", "import", "import_cpu", "reimport", "reimport_cpu",
                                                   "geocode", "geocode_cpu")}
    with tempfile.TemporaryDirectory(prefix="fieldatlas-bench-") as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "salesforce_accounts.csv"
        t = time.perf_counter()
        info = write_sample(csv_path, "salesforce", args.rows, bad_fraction=0.01, duplicate_fraction=0.005,
                            seed=3, states=STATES)
        results["generate_s"] = round(time.perf_counter() - t, 2)
        results["file_mb"] = round(csv_path.stat().st_size / 1_048_576, 1)
        t = time.perf_counter()
        gazetteer()
        results["gazetteer_load_s"] = round(time.perf_counter() - t, 2)

        for run in range(args.repeat):
            runs["yardstick"].append(cpu_yardstick_s())
            store = open_database(tmp / f"bench-{run}.sqlite", create=True)
            rss_before = rss_mb()
            first, wall, cpu = timed(lambda: import_accounts(store, csv_path, skip_bad_rows=True,
                                                             rejects_path=tmp / "rejects.csv"))
            runs["import"].append(wall)
            runs["import_cpu"].append(cpu)
            assert first.inserted == len(info.good_ids), (first.inserted, len(info.good_ids))
            if run == 0:
                results["import"] = {k: v for k, v in first.as_dict().items() if k in
                                     ("rows_read", "inserted", "updated", "unchanged", "duplicates", "rejected")}
                results["import_rss_growth_mb"] = round(rss_mb() - rss_before, 1)
                results["change_log_rows_after_import"] = store.scalar("SELECT count(*) FROM change_log")

            again, wall, cpu = timed(lambda: import_accounts(store, csv_path, skip_bad_rows=True,
                                                             rejects_path=tmp / "rejects.csv"))
            runs["reimport"].append(wall)
            runs["reimport_cpu"].append(cpu)
            assert again.inserted == 0 and again.updated == 0

            geo, wall, cpu = timed(lambda: geocode_accounts(store))
            runs["geocode"].append(wall)
            runs["geocode_cpu"].append(cpu)
            if run == 0:
                results["geocoded"] = geo.located
                results["geocode_unmatched"] = len(geo.unmatched)
                results["change_log_rows_after_geocode"] = store.scalar("SELECT count(*) FROM change_log")
            store.close()
            (tmp / f"bench-{run}.sqlite").unlink()

        peak_py, rows = stream_python_peak_mb(csv_path)
        results["stream_read_python_peak_mb"] = round(peak_py, 1)

        if args.big_mb:
            big = tmp / "big.csv"
            per_row = csv_path.stat().st_size / args.rows
            big_rows = int(args.big_mb * 1_048_576 / per_row)
            write_sample(big, "salesforce", big_rows, bad_fraction=0.01, seed=5, states=STATES)
            results["big_file_mb"] = round(big.stat().st_size / 1_048_576, 1)
            results["big_rows"] = big_rows
            peak_py, _ = stream_python_peak_mb(big)
            results["big_stream_read_python_peak_mb"] = round(peak_py, 1)
            store = open_database(tmp / "big.sqlite", create=True)
            rss_before = rss_mb()
            t = time.perf_counter()
            result = import_accounts(store, big, skip_bad_rows=True, rejects_path=tmp / "big-rejects.csv")
            results["big_import_s"] = round(time.perf_counter() - t, 2)
            results["big_import_rss_growth_mb"] = round(rss_mb() - rss_before, 1)
            results["big_inserted"] = result.inserted
            store.close()

    for key, values in runs.items():
        results[key + "_s"] = spread(values)
    yard = runs["yardstick"]
    # How much the CPU's speed moved between runs: the same loop's slowest time over its fastest.
    results["machine"]["cpu_speed_swing_pct"] = round(100 * (max(yard) / min(yard) - 1), 1)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")

    def row(label: str, key: str, target: str = "") -> tuple[str, str, str]:
        wall, cpu = results[key + "_s"], results[key + "_cpu_s"]
        return (label, f"{wall['median']} s ({wall['min']}-{wall['max']}), CPU {cpu['median']} s", target)

    rows_out = [
        ("rows in the file", f"{args.rows:,} ({results['file_mb']} MB)", ""),
        row("import (new accounts), median wall (range)", "import", "< 10 s"),
        row("re-import (no changes)", "reimport"),
        row("offline geocode", "geocode", "< 5 s"),
        ("  gazetteer load (once)", f"{results['gazetteer_load_s']} s", ""),
        ("Python peak while streaming the file", f"{results['stream_read_python_peak_mb']} MB", "bounded"),
        ("process RSS growth during import", f"{results['import_rss_growth_mb']} MB", ""),
        ("process peak RSS", f"{results['peak_rss_mb']} MB", ""),
    ]
    if args.big_mb:
        rows_out += [
            (f"big file ({results['big_file_mb']} MB, {results['big_rows']:,} rows) import",
             f"{results['big_import_s']} s", ""),
            ("  Python peak while streaming it", f"{results['big_stream_read_python_peak_mb']} MB", "<< file size"),
            ("  RSS growth during its import", f"{results['big_import_rss_growth_mb']} MB", ""),
        ]
    width = max(len(r[0]) for r in rows_out)
    print(f"{'measure':{width}}  {'result':>36}  target")
    for name, value, target in rows_out:
        print(f"{name:{width}}  {value:>36}  {target}")
    print(f"{args.repeat} runs; CPU yardstick {results['yardstick_s']['min']}-{results['yardstick_s']['max']} s "
          f"(speed swing {results['machine']['cpu_speed_swing_pct']} % between runs); load average at start/end: "
          f"{results['machine']['load_average_at_start']} / {results['machine']['load_average_at_end']} "
          f"on {os.cpu_count()} CPUs; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
