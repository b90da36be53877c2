"""Icons drawn in code (no image files to ship): verdict marks and the tray shield in its states.

Each verdict has its own shape as well as its colour (check, triangle, octagon), so colour is never
the only signal.
"""

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

COLORS = {"clean": "#2e7d32", "suspicious": "#b26a00", "threat": "#c62828", "error": "#6a1b9a", "paused": "#607d8b",
          "unchecked": "#616161", "note": "#1565c0", "unprotected": "#607d8b"}


def _pixmap(size: int) -> tuple[QPixmap, QPainter]:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pm, p


def _mark(p: QPainter, kind: str, s: float) -> None:
    pen = QPen(QColor("white"), max(1.5, s / 9), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    if kind == "clean":
        p.drawPolyline(QPolygonF([QPointF(s * .28, s * .52), QPointF(s * .44, s * .68), QPointF(s * .72, s * .36)]))
    elif kind == "suspicious":
        p.drawLine(QPointF(s * .5, s * .36), QPointF(s * .5, s * .62))
        p.drawPoint(QPointF(s * .5, s * .76))
    elif kind == "threat":
        p.drawLine(QPointF(s * .35, s * .35), QPointF(s * .65, s * .65))
        p.drawLine(QPointF(s * .65, s * .35), QPointF(s * .35, s * .65))
    elif kind == "note":  # an "i": worth knowing, not a warning (never the tick of OK)
        p.drawPoint(QPointF(s * .5, s * .3))
        p.drawLine(QPointF(s * .5, s * .45), QPointF(s * .5, s * .72))
    elif kind == "paused":
        p.drawLine(QPointF(s * .42, s * .36), QPointF(s * .42, s * .66))
        p.drawLine(QPointF(s * .58, s * .36), QPointF(s * .58, s * .66))
    else:
        p.drawLine(QPointF(s * .5, s * .32), QPointF(s * .5, s * .58))
        p.drawPoint(QPointF(s * .5, s * .72))


@cache
def verdict_icon(verdict: str, size: int = 32) -> QIcon:
    pm, p = _pixmap(size)
    s = float(size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(COLORS.get(verdict, "#555555")))
    if verdict == "suspicious":
        p.drawPolygon(QPolygonF([QPointF(s * .5, s * .06), QPointF(s * .96, s * .9), QPointF(s * .04, s * .9)]))
    elif verdict == "threat":
        k = s * .29
        pts = [QPointF(k, 1), QPointF(s - k, 1), QPointF(s - 1, k), QPointF(s - 1, s - k), QPointF(s - k, s - 1),
               QPointF(k, s - 1), QPointF(1, s - k), QPointF(1, k)]
        p.drawPolygon(QPolygonF(pts))
    else:
        p.drawEllipse(QRectF(1, 1, s - 2, s - 2))
    _mark(p, verdict, s)
    p.end()
    return QIcon(pm)


@cache
def shield_icon(state: str, size: int = 64) -> QIcon:
    """The app and tray icon: a shield whose colour and mark say all clear / threats / error / paused."""
    pm, p = _pixmap(size)
    s = float(size)
    path = QPainterPath()
    path.moveTo(s * .5, s * .04)
    path.lineTo(s * .9, s * .18)
    path.cubicTo(s * .9, s * .62, s * .72, s * .84, s * .5, s * .97)
    path.cubicTo(s * .28, s * .84, s * .1, s * .62, s * .1, s * .18)
    path.closeSubpath()
    color = {"clear": COLORS["clean"], "threats": COLORS["threat"]}.get(state, COLORS.get(state, "#1565c0"))
    p.setPen(QPen(QColor("#0d2a4a"), max(1.0, s / 32)))
    p.setBrush(QColor(color))
    p.drawPath(path)
    _mark(p, {"clear": "clean", "threats": "threat"}.get(state, state), s)
    p.end()
    icon = QIcon(pm)
    return icon


def app_icon() -> QIcon:
    return shield_icon("clear", 128)
