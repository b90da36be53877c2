"""Runs the real app (klezguard.gui.app.main) under an X display with a tray and quits it the way a user
does: the tray menu's Quit. Prints what it saw as JSON (used by test_tray.py)."""

import json

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import klezguard.gui.app as gui
from klezguard.gui.tray import TrayController

seen: dict = {}


def quit_from_the_tray() -> None:
    controllers = QApplication.instance().findChildren(TrayController)
    seen["tray"] = bool(controllers)
    menu = controllers[0].menu if controllers else None
    seen["menu"] = [a.text() for a in menu.actions() if a.text()] if menu else []
    if menu is None:
        QApplication.instance().quit()
        return
    next(a for a in menu.actions() if a.text() == "Quit").trigger()


original = gui.install_excepthook


def started(window_getter) -> None:  # called by main() once the app is up, before its event loop
    original(window_getter)
    QTimer.singleShot(3000, quit_from_the_tray)


gui.install_excepthook = started
seen["exit"] = gui.main([])
print(json.dumps(seen))
