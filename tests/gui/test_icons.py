"""The application icon and the tray icons drawn from their SVG sources: every tray state has an icon of its
own shape (not only its colour), readable on a light and on a dark panel; the tray shows busy while mail is
checked and gives way to dangerous mail."""

import pytest
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QImage, QPainter

from klezguard.gui.icons import TRAY_STATES, app_icon, icon_file, render_svg, shield_icon
from klezguard.gui.tray import TrayController

LIGHT, DARK = QColor("#f2f2f2"), QColor("#1f1f1f")  # a light and a dark panel (GNOME, KDE Breeze dark)


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def _contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _on_panel(icon: QImage, panel: QColor) -> QImage:
    out = QImage(icon.size(), QImage.Format.Format_ARGB32)
    out.fill(panel)
    p = QPainter(out)
    p.drawImage(0, 0, icon)
    p.end()
    return out


def _edge_share(icon: QImage, panel: QColor) -> float:
    """Of the icon's pixels, the share that stand out from the panel by 3:1 (WCAG's figure for graphics)."""
    shown = _on_panel(icon, panel)
    inked = strong = 0
    for y in range(icon.height()):
        for x in range(icon.width()):
            if icon.pixelColor(x, y).alphaF() < 0.5:
                continue
            inked += 1
            strong += _contrast(shown.pixelColor(x, y), panel) >= 3
    return strong / inked


@pytest.mark.parametrize("state", TRAY_STATES)
@pytest.mark.parametrize("panel", [LIGHT, DARK], ids=["light", "dark"])
def test_tray_icons_stand_out_on_light_and_dark_panels(qapp, state, panel):
    icon = render_svg(icon_file(f"tray-{state}"), 22)
    assert _edge_share(icon, panel) >= 0.25


def test_the_panel_measure_catches_an_icon_that_vanishes_on_a_dark_panel(qapp, tmp_path):
    dark_only = tmp_path / "dark.svg"  # a black shield with no light edge: fine on light, lost on dark
    dark_only.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 L28 6 '
                         'C28 18 24 25 16 30 C8 25 4 18 4 6 Z" fill="#202020"/></svg>')
    icon = render_svg(dark_only, 22)
    assert _edge_share(icon, LIGHT) >= 0.25 and _edge_share(icon, DARK) < 0.25


def test_tray_states_differ_in_shape_not_only_colour(qapp):
    def gray(state: str) -> list[int]:
        image = render_svg(icon_file(f"tray-{state}"), 24).convertToFormat(QImage.Format.Format_Grayscale8)
        return [QColor(image.pixel(x, y)).lightness() > 200 for y in range(24) for x in range(24)]

    marks = {state: gray(state) for state in TRAY_STATES}  # the white marks, colour left out
    for a in TRAY_STATES:
        for b in TRAY_STATES:
            if a < b:
                differing = sum(x != y for x, y in zip(marks[a], marks[b], strict=True))
                assert differing >= 12, (a, b)


def test_icons_come_from_the_svg_sources_at_several_sizes(qapp):
    assert icon_file("klezguard").read_text().lstrip().startswith("<?xml")
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    tray = shield_icon("threats")
    assert {16, 22, 24, 32} <= {s.width() for s in tray.availableSizes()}
    # an unknown state never shows "all clear"
    assert shield_icon("no-such-state").pixmap(22).toImage() == shield_icon("error").pixmap(22).toImage()
    assert QByteArray(icon_file("tray-clear").read_bytes()).size() < 4000  # small hand-written sources


def test_tray_shows_busy_while_checking_and_threats_win(qapp):
    tray = TrayController()
    image = lambda state: shield_icon(state).pixmap(22).toImage()  # noqa: E731
    shown = lambda: tray.tray.icon().pixmap(22).toImage()  # noqa: E731
    tray.set_state("clear")
    assert shown() == image("clear")
    tray.set_busy(True)
    assert shown() == image("busy")
    tray.set_state("threats")  # dangerous mail waiting is never hidden behind "busy"
    assert shown() == image("threats")
    tray.set_state("clear")
    assert shown() == image("busy")
    tray.set_busy(False)
    assert shown() == image("clear")
    tray.set_state("unprotected")
    assert shown() == image("unprotected") and "no mail account" in tray.tray.toolTip()
