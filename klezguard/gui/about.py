"""Help → About KlezGuard: the version (read from pyproject.toml, see klezguard.version), what KlezGuard
is, and where its logs are, so whoever helps with IT knows what runs on this computer."""

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from klezguard import paths
from klezguard.gui.icons import app_icon
from klezguard.version import version


def tr(text: str) -> str:
    return QCoreApplication.translate("About", text)


def about_box(parent: QWidget | None) -> QMessageBox:
    """Opened window-modal (not exec()), so the window behind it keeps painting."""
    box = QMessageBox(parent)
    box.setObjectName("about")
    box.setWindowTitle(tr("About KlezGuard"))
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(tr("KlezGuard {version}").format(version=version()))
    box.setInformativeText(tr(
        "A second pair of eyes on your mailbox: spots spoofed senders, disguised attachments and bounces "
        "for mail you never sent, and explains each in plain words.\n\n"
        "KlezGuard never opens an attachment and never sends mail. Logs (never passwords) are in {logs}.\n\n"
        "Free software under the MIT licence.").format(logs=paths.log_dir()))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box


def add_help_menu(window: QMainWindow) -> QAction:
    """The window's Help menu with About KlezGuard (on macOS Qt moves it to the application menu)."""
    menu = window.menuBar().addMenu(tr("&Help"))
    action = QAction(tr("&About KlezGuard"), window)
    action.setMenuRole(QAction.MenuRole.AboutRole)
    action.triggered.connect(lambda: setattr(window, "about", about_box(window)))
    menu.addAction(action)
    return action
