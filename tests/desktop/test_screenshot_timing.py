"""`fieldatlas screenshot` does not wait for nothing: a view ready at once is grabbed at once, and starting
the app does not import the map's page builder (folium, pandas) for views that never draw a map."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_view_ready_at_once_is_not_held_to_the_timeout(qapp, demo_store, tmp_path):
    from desktop.screenshot import render_view

    started = time.monotonic()
    # The empty Plan view calls back from when_ready() at once (nothing loading, nothing solving):
    # its quit() used to come before the wait began, so the grab waited the whole timeout.
    render_view(demo_store, "plan", tmp_path / "plan.png", timeout_s=120)
    assert time.monotonic() - started < 60, "waited out the 120 s timeout"
    assert (tmp_path / "plan.png").stat().st_size > 10_000


def test_the_main_window_starts_without_the_map_page_builder():
    code = ("import sys, desktop.main_window, desktop.navigation; "
            "print(sorted(m for m in ('folium', 'pandas', 'branca') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", "the sidebar's check for desktop.map.view imported folium (1-2 s)"
