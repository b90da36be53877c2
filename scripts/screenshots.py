"""Takes the README's screenshots of the real app under a virtual X display (Xvfb with a tray):
the main window with a threat selected, the account wizard, and a notification; and, on a 1366x768
laptop screen, the first run, the demo with a threat open, the Quarantine view after a restore, the
trusted senders, the correspondents and the dark look.

    .venv/bin/python scripts/screenshots.py [OUT]      # writes docs/screenshots/*.png (or OUT/*.png)
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gui.xvfb import VirtualDisplay  # noqa: E402

DRIVER = r'''
import sys, time
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
out = Path(sys.argv[1])

app = QApplication(["klezguard"])
from klezguard.gui.app import App
from klezguard.gui.wizard import AccountWizard

def wait(seconds, until=lambda: False):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)

kg = App(app, demo=True)
w = kg.window
w.move(0, 0)
w.resize(1280, 800)
wait(20, lambda: w.model.rowCount() == 27 and not w.work.pending)
wait(1.5)  # the grouped notification appears
QGuiApplication.primaryScreen().grabWindow(0).save(str(out / "notification.png"))
for n, row in enumerate(w.model.rows):
    if row.subject.startswith("Statement"):
        w.table.selectRow(n)
        break
wait(1.0)
for view in w.detail.finding_views[:1]:
    view.toggle.click()
wait(0.5)
w.grab().save(str(out / "main-window.png"))

wizard = AccountWizard(w, discover=lambda email: None)
wizard.email_page.email.setText("maya@brightwater-bakery.com")
wizard.email_page.password.setText("secret")
wizard.move(200, 120)
wizard.show()
wait(1.0)
wizard.grab().save(str(out / "wizard.png"))
wizard.close()
w.shutdown()
print("ok")
'''

# The same app on a 1366x768 laptop screen: what a new user meets, in the states they meet
LAPTOP = r'''
import sys, time
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
out = Path(sys.argv[1])
app = QApplication(["klezguard"])
from klezguard.gui.app import App, apply_theme

def wait(seconds, until=lambda: False):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)

def shot(name):
    wait(0.8)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out / name))

def select(w, text):
    for n, row in enumerate(w.model.rows):
        if text in row.subject:
            w.table.selectRow(n)
            wait(0.8)
            return row

first = App(app)  # no account yet
first.window.move(0, 0)
wait(2)
shot("laptop-first-run.png")
first.window.quitting = True
first.window.close()
first.close()

kg = App(app, demo=True)
w = kg.window
w.move(0, 0)
wait(20, lambda: w.model.rowCount() == 27 and not w.work.pending)
wait(1.5)
w.notice_bar.hide()
select(w, "Invoice 88213")
shot("laptop-demo-threat.png")
w.quarantine_action.trigger()
wait(5, lambda: not w.work.pending and w.undo_button.isVisible())
w.select_view("quarantine")
select(w, "Invoice 88213")
w.restore_action.trigger()
wait(5, lambda: not w.work.pending and w.model.rowCount() == 0)
shot("laptop-quarantine-after-restore.png")
w.select_view("all")
select(w, "Overdue: invoice MF-10517")
from PySide6.QtCore import QTimer
def yes():
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox):
        box.button(QMessageBox.StandardButton.Yes).click()
    else:
        QTimer.singleShot(50, yes)
QTimer.singleShot(50, yes)
w.trust_action.trigger()
wait(5, lambda: "Trusted" in w.status_text.text())
w.trusted_action.trigger()
wait(1.0)
shot("laptop-trusted-senders.png")
w.trusted_dialog.close()
w.correspondents_action.trigger()
wait(1.0)
shot("laptop-correspondents.png")
w.correspondents_dialog.close()
apply_theme(app, "dark")
w.select_view("threats")
select(w, "Statement")
shot("laptop-dark.png")
w.shutdown()
print("ok")
'''


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, VirtualDisplay() as display:
        env = display.env(PYTHONPATH=str(ROOT), KLEZGUARD_CONFIG_DIR=f"{home}/config",
                          KLEZGUARD_DATA_DIR=f"{home}/data", HOME=home)
        proc = subprocess.run([sys.executable, "-c", DRIVER, str(out)], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    if proc.returncode != 0 or "ok" not in proc.stdout:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as home, VirtualDisplay(1366, 768) as display:
        env = display.env(PYTHONPATH=str(ROOT), KLEZGUARD_CONFIG_DIR=f"{home}/config",
                          KLEZGUARD_DATA_DIR=f"{home}/data", HOME=home)
        proc = subprocess.run([sys.executable, "-c", LAPTOP, str(out)], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=180)
    if proc.returncode != 0 or "ok" not in proc.stdout:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    for name in ("main-window.png", "wizard.png", "notification.png", "laptop-first-run.png",
                 "laptop-demo-threat.png", "laptop-quarantine-after-restore.png", "laptop-trusted-senders.png",
                 "laptop-dark.png", "laptop-correspondents.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
