"""A small drawn map of the plan beside the itinerary: each day's route in its own colour, home and hotels marked.

Drawn with QPainter from the plan's coordinates (no tiles, no web view), so it shows at once, offline,
and in screenshots; the full Map draws the accepted routes on real tiles.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.planning import WeekPlan

# Colour-blind-safe day colours (Okabe–Ito), Monday first.
DAY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")


class RouteSketch(QWidget):
    """Draws a WeekPlan's routes; set_plan(None) shows a short hint instead."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("plan-route-sketch")
        self.plan: WeekPlan | None = None
        self.selected_day: str | None = None
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The plan's routes, one colour a day (home ⌂, hotel ▲)")

    def set_plan(self, plan: WeekPlan | None, selected_day: str | None = None) -> None:
        self.plan = plan
        self.selected_day = selected_day
        self.update()

    def day_colour(self, index: int) -> QColor:
        return QColor(DAY_COLOURS[index % len(DAY_COLOURS)])

    def _points(self) -> list[tuple[float, float]]:
        plan = self.plan
        pts = []
        for sh in plan.problem.shifts:
            pts += [sh.start, sh.end_point]
        pts += [(plan.problem.stop(v.stop_id).lat, plan.problem.stop(v.stop_id).lon)
                for r in plan.result.routes for v in r.visits]
        return pts

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#f4f6f4"))
        p.setPen(QPen(QColor("#c8cfc8"), 1))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if self.plan is None or not any(r.visits for r in self.plan.result.routes):
            p.setPen(QColor("#666666"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The routes appear here once there is a plan.")
            return
        pts = self._points()
        lat0 = sum(a for a, _ in pts) / len(pts)
        kx = math.cos(math.radians(lat0))
        xs = [lon * kx for _, lon in pts]
        ys = [lat for lat, _ in pts]
        legend_h = 22
        box = QRectF(self.rect()).adjusted(14, 14, -14, -14 - legend_h)
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
        scale = min(box.width(), box.height()) / span
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

        def at(lat: float, lon: float) -> QPointF:
            return QPointF(box.center().x() + (lon * kx - cx) * scale, box.center().y() - (lat - cy) * scale)

        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        p.setFont(small)
        for k, (sh, route) in enumerate(zip(self.plan.problem.shifts, self.plan.result.routes)):
            if not route.visits:
                continue
            colour = self.day_colour(k)
            faded = self.selected_day is not None and route.shift_id != self.selected_day
            if faded:
                colour.setAlpha(70)
            path = QPainterPath(at(*sh.start))
            stops = [self.plan.problem.stop(v.stop_id) for v in route.visits]
            for s in stops:
                path.lineTo(at(s.lat, s.lon))
            path.lineTo(at(*sh.end_point))
            p.setPen(QPen(colour, 2.2 if not faded else 1.4))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            for n, s in enumerate(stops, 1):
                c = at(s.lat, s.lon)
                p.setPen(QPen(QColor("white"), 1))
                p.setBrush(colour)
                p.drawEllipse(c, 7, 7)
                if not faded:
                    p.setPen(QColor("white"))
                    p.drawText(QRectF(c.x() - 7, c.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, str(n))
        # Home and hotels on top of the lines.
        home = (self.plan.rep["home_lat"], self.plan.rep["home_lon"])
        places = {tuple(sh.start) for sh in self.plan.problem.shifts} | {tuple(sh.end_point) for sh in self.plan.problem.shifts}
        for place in places:
            c = at(*place)
            p.setPen(QPen(QColor("#222222"), 1.5))
            p.setBrush(QColor("white"))
            if place == home:
                p.drawRect(QRectF(c.x() - 6, c.y() - 6, 12, 12))
                p.drawText(QRectF(c.x() - 6, c.y() - 7, 12, 12), Qt.AlignmentFlag.AlignCenter, "⌂")
            else:
                tri = QPainterPath(QPointF(c.x(), c.y() - 7))
                tri.lineTo(c.x() + 7, c.y() + 6)
                tri.lineTo(c.x() - 7, c.y() + 6)
                tri.closeSubpath()
                p.drawPath(tri)
        # Legend: one swatch per day with visits.
        x = 12.0
        y = self.height() - legend_h + 4
        for k, route in enumerate(self.plan.result.routes):
            if not route.visits:
                continue
            label = self.plan.problem.shift(route.shift_id).day.split(" ")[0] or route.shift_id
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.day_colour(k))
            p.drawRect(QRectF(x, y + 3, 12, 8))
            p.setPen(QColor("#333333"))
            width = p.fontMetrics().horizontalAdvance(label) + 8
            p.drawText(QRectF(x + 15, y - 2, width, 18), Qt.AlignmentFlag.AlignVCenter, label)
            x += 15 + width + 6
