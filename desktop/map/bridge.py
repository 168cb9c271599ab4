"""The QWebChannel object a map page talks to: clicks, drags and drawn areas arrive here as Qt signals."""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, Signal, Slot


class MapBridge(QObject):
    """Registered on the page's channel as `fieldatlas`; slots run on the GUI thread."""

    account_clicked_signal = Signal(int)
    account_moved_signal = Signal(int, float, float)
    area_selected_signal = Signal(list)   # [[lat, lon], ...]

    @Slot(int)
    def account_clicked(self, account_id: int) -> None:
        self.account_clicked_signal.emit(int(account_id))

    @Slot(int, float, float)
    def account_moved(self, account_id: int, lat: float, lon: float) -> None:
        self.account_moved_signal.emit(int(account_id), float(lat), float(lon))

    @Slot(str)
    def area_selected(self, ring_json: str) -> None:
        try:
            ring = [[float(p[0]), float(p[1])] for p in json.loads(ring_json)]
        except (ValueError, TypeError, IndexError):
            return  # a malformed shape from the page selects nothing
        self.area_selected_signal.emit(ring)
