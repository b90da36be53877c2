"""Icons: verdict marks drawn in code, and the application and tray icons drawn from their SVG sources.

Each verdict and each tray state has its own shape as well as its colour (check, triangle, octagon; tick,
cross, dots, bars, dash), so colour is never the only signal.
"""

from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtSvg import QSvgRenderer

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


TRAY_STATES = ("clear", "threats", "busy", "error", "paused", "unprotected")
TRAY_SIZES = (16, 22, 24, 32, 48, 64)
APP_SIZES = (16, 24, 32, 48, 64, 128, 256)


def icon_file(name: str) -> Path:
    """An icon's SVG source in klezguard/resources/icons (the installed package and the bundle carry them)."""
    return Path(str(resources.files("klezguard").joinpath("resources", "icons", f"{name}.svg")))


def render_svg(path: Path, size: int) -> QImage:
    """The SVG drawn at size x size on a transparent image (Qt's own renderer: no image plugin needed)."""
    renderer = QSvgRenderer(QByteArray(path.read_bytes()))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    return image


def _svg_icon(name: str, sizes: tuple[int, ...]) -> QIcon:
    icon = QIcon()
    for size in sizes:  # drawn at each size, so a small panel gets crisp pixels, not a scaled-down blur
        icon.addPixmap(QPixmap.fromImage(render_svg(icon_file(name), size)))
    return icon


@cache
def shield_icon(state: str, size: int = 64) -> QIcon:
    """The tray icon: a shield whose colour and mark say all clear / threats / busy / error / paused / no
    account yet (resources/icons/tray-*.svg; a light halo and a dark outline read on any panel)."""
    return _svg_icon(f"tray-{state if state in TRAY_STATES else 'error'}", tuple(s for s in TRAY_SIZES if s <= size))


@cache
def app_icon() -> QIcon:
    """The application icon (resources/icons/klezguard.svg, the source of the packaged PNG, ICO and ICNS)."""
    return _svg_icon("klezguard", APP_SIZES)
