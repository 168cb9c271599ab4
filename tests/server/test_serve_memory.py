"""`fieldatlas serve` sets the objects loaded at start aside from the garbage collector before it serves."""

from __future__ import annotations

import gc

import uvicorn

from server import running


def test_serve_freezes_what_start_up_loaded_before_the_first_request(sqlite_url, monkeypatch):
    seen = {}

    def run(self, *args, **kwargs):  # instead of serving: what the collector holds when serving would begin
        seen["frozen"] = gc.get_freeze_count()
        seen["tracked"] = len(gc.get_objects())
        self.config.app.state.store.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    try:
        running.serve(sqlite_url, port=0)
    finally:
        gc.unfreeze()
    assert seen["frozen"] > 10_000, "the web stack and the app are set aside"
    assert seen["tracked"] < seen["frozen"] / 5, "a full collection then walks only what came after"
