"""Runs under a real X display with a tray: shows KlezGuard's tray icon and a notification, clicks the
notification, and prints what happened as JSON (used by test_tray.py)."""

import json
import sys
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from klezguard.gui.tray import Notice, TrayController, TrayNotifier


def wait(app, seconds, until=lambda: False):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)
    return until()


def balloon(app):
    tips = [w for w in app.topLevelWidgets() if w.metaObject().className() == "QBalloonTip" and w.isVisible()]
    return tips[0] if tips else None


def main() -> int:
    app = QApplication(sys.argv[:1])
    out = {"tray": wait(app, 5, QSystemTrayIcon.isSystemTrayAvailable)}
    controller = TrayController()
    controller.show()
    out["icon_shown"] = wait(app, 5, lambda: not controller.tray.geometry().isEmpty())
    controller.set_state("threats")
    out["tooltip"] = controller.tray.toolTip()
    notifier = TrayNotifier(controller.tray)
    clicked = []
    notifier.clicked.connect(clicked.append)
    notifier.show(Notice("Dangerous message — maya@brightwater-bakery.com",
                         "Millstone Flour <orders@millstone-flour.co.uk>\nStatement\nstatement.wav is a program",
                         [42], "threat"))
    out["balloon"] = wait(app, 5, lambda: balloon(app) is not None)
    if len(sys.argv) > 1:
        wait(app, 1.0)  # let the icon and the balloon paint before the picture is taken
        QGuiApplication.primaryScreen().grabWindow(0).save(sys.argv[1])
    if out["balloon"]:
        tip = balloon(app)
        QTest.mouseClick(tip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(20, 20))
        wait(app, 2, lambda: bool(clicked))
    out["clicked"] = clicked
    out["menu"] = [a.text() for a in controller.menu.actions() if a.text()]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
