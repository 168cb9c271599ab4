"""Build a one-folder FieldAtlas app on this platform with PyInstaller, smoke-test it, print its size and start time.

    python installers/build.py [--dist DIR] [--skip-build] [--json OUT]

The smoke test runs the built app's `--self-test` (demo database, main window, offline map, a small
route) with no Python on PATH and Qt offscreen, so the bundle is proven to carry everything it needs.
Exit 0 only when the build and the self-test both pass.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installers" / "pyinstaller" / "fieldatlas.spec"


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def build(dist: Path, work: Path) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        sys.exit("build: PyInstaller is not installed; run  pip install '.[installers]'")
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("build:", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def bundle_dir(dist: Path) -> Path:
    app = dist / "FieldAtlas.app"
    return app if app.exists() else dist / "FieldAtlas"


def executable(bundle: Path) -> Path:
    if bundle.suffix == ".app":
        return bundle / "Contents" / "MacOS" / "fieldatlas"
    return bundle / ("fieldatlas.exe" if os.name == "nt" else "fieldatlas")


def add_linux_desktop_files(bundle: Path) -> None:
    """A desktop entry and icon beside the binary, for a package or `install` step to place."""
    share = bundle / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "icons" / "hicolor" / "256x256" / "apps").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "installers" / "linux" / "fieldatlas.desktop", share / "applications")
    shutil.copy2(ROOT / "resources" / "icons" / "fieldatlas.png",
                 share / "icons" / "hicolor" / "256x256" / "apps" / "fieldatlas.png")


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def no_python_env() -> dict[str, str]:
    """The environment a rep's machine has: no Python on PATH, no virtualenv, Qt offscreen."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV", "CONDA"))}
    empty = Path(tempfile.mkdtemp(prefix="fieldatlas-nopython-"))
    env["PATH"] = str(empty)  # nothing on it: the app must not shell out to python or anything else
    env["HOME"] = tempfile.mkdtemp(prefix="fieldatlas-home-")  # fresh user folders, no settings
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def self_test(exe: Path, timeout_s: float = 240.0) -> dict:
    """Run `exe --self-test`; the seconds to the main window come from its own step lines."""
    env = no_python_env()
    assert shutil.which("python3", path=env["PATH"]) is None and shutil.which("python", path=env["PATH"]) is None
    started = time.monotonic()
    proc = subprocess.Popen([str(exe), "--self-test"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines: list[str] = []
    window_at = None
    try:
        for line in proc.stdout:
            lines.append(line.rstrip())
            print("  app:", line.rstrip(), flush=True)
            if window_at is None and "main window shown" in line:
                window_at = time.monotonic() - started
        code = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -9
    err = proc.stderr.read() if proc.stderr else ""
    failure = [line for line in err.splitlines() if "self-test failed" in line or "Traceback" in line]
    return {"exit_code": code, "seconds_total": round(time.monotonic() - started, 2),
            "seconds_to_main_window": round(window_at, 2) if window_at else None,
            "stdout": lines, "failure": failure or None, "stderr_tail": err.splitlines()[-15:] if code else []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the app folder goes (default dist/)")
    parser.add_argument("--skip-build", action="store_true", help="only smoke-test an existing build")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "installer.json",
                        help="where to write the figures")
    args = parser.parse_args(argv)

    version = project_version()
    build_seconds = None
    if not args.skip_build:
        started = time.monotonic()
        build(args.dist, ROOT / "build" / "pyinstaller")
        build_seconds = round(time.monotonic() - started, 1)
    bundle = bundle_dir(args.dist)
    exe = executable(bundle)
    if not exe.exists():
        print(f"build: no executable at {exe}", file=sys.stderr)
        return 1
    if sys.platform.startswith("linux"):
        add_linux_desktop_files(bundle)
    size = folder_size(bundle)
    print(f"bundle: {bundle} ({size / 1e6:.0f} MB, version {version})", flush=True)
    print("self-test with no Python on PATH:", flush=True)
    test = self_test(exe)
    cold = self_test(exe) if test["exit_code"] == 0 else None  # second run: caches warm, a rep's 2nd start

    rows = [("version", version), ("platform", f"{platform.system()} {platform.machine()}"),
            ("build time", f"{build_seconds} s" if build_seconds is not None else "skipped"),
            ("bundle size", f"{size / 1e6:.0f} MB"),
            ("self-test", "passed" if test["exit_code"] == 0 else f"FAILED (exit {test['exit_code']})"),
            ("first start to main window", f"{test['seconds_to_main_window']} s"),
            ("second start to main window", f"{cold['seconds_to_main_window']} s" if cold else "-"),
            ("self-test total", f"{test['seconds_total']} s")]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "version": version, "platform": platform.platform(), "build_seconds": build_seconds,
        "bundle_bytes": size, "self_test": test, "second_start": cold}, indent=2) + "\n")
    if test["exit_code"] != 0:
        print("\n".join(test["failure"] or test["stderr_tail"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
