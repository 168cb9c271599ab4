"""TaskRunner: a progress report sent before anyone listened is still heard."""

from __future__ import annotations

import threading

from desktop.tasks import TaskRunner


def test_a_report_sent_before_the_view_listened_is_still_heard(qtbot):
    runner = TaskRunner()
    sent, gate = threading.Event(), threading.Event()

    def work(progress):
        progress.update(4, 8, "Half way")  # once only, straight away: before the caller connects
        sent.set()
        gate.wait(5)
        progress.update(8, 8, "Done")

    task = runner.run("Counting", work)
    assert sent.wait(5)
    heard = []
    task.with_progress(lambda done, total, message: heard.append((done, total, message)))
    assert heard == [(4, 8, "Half way")]
    gate.set()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert heard[-1] == (8, 8, "Done")
    runner.wait(5000)
