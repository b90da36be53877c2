"""Help → About KlezGuard, through the real menu: it shows the one version pyproject.toml holds."""

import tomllib
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

ROOT = Path(__file__).resolve().parents[2]


def test_about_box_from_the_help_menu_shows_the_version(qtbot, demo_window):
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    menus = {a.text().replace("&", ""): a.menu() for a in demo_window.menuBar().actions()}
    help_menu = menus["Help"]
    about = next(a for a in help_menu.actions() if a.text().replace("&", "") == "About KlezGuard")
    about.trigger()
    box = demo_window.findChild(QMessageBox, "about")
    qtbot.waitUntil(lambda: box is not None and box.isVisible())
    assert box.windowTitle() == "About KlezGuard"
    assert box.text() == f"KlezGuard {expected}"
    assert "never sends mail" in box.informativeText()
    assert not box.iconPixmap().isNull()
    box.button(QMessageBox.StandardButton.Close).click()
    qtbot.waitUntil(lambda: not box.isVisible())
