"""Guards against a broken Qt binding: PySide6 6.12.0 loses a reference to None on ordinary calls."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QComboBox, QLabel


def test_qt_calls_keep_reference_counts(qapp):
    label, combo = QLabel(), QComboBox()
    combo.addItem("nobody", None)
    before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(500):
        label.setText("x")
        combo.setCurrentIndex(0)
        combo.currentData()
        label.isVisible()
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    # A few references may come and go with the interpreter's own bookkeeping; a leak is ~500+.
    assert all(abs(a - b) < 50 for a, b in zip(after, before)), (before, after)
