"""Asking the user to sign in with the mail provider again: the account's grant was withdrawn or ran out
(found by a scan or by the watcher). The same plain message and the same buttons wherever it is found:
Sign in again (the browser), Sign in with a code (where the provider allows it: for a computer without a
browser), or Cancel. Never a password box."""

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

AGAIN, BY_CODE, LATER = "browser", "code", ""


def tr(text: str) -> str:
    return QCoreApplication.translate("SignInBox", text)


def ask_to_sign_in(parent: QWidget, text: str, by_code: bool, keep=None) -> str:
    """AGAIN, BY_CODE or LATER. `keep(box)` is handed the box while it shows (tests press its buttons)."""
    box = QMessageBox(QMessageBox.Icon.Warning, tr("Sign in again"), "", QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    again = box.addButton(tr("Sign in again"), QMessageBox.ButtonRole.AcceptRole)
    code = box.addButton(tr("Sign in with a code"), QMessageBox.ButtonRole.ActionRole) if by_code else None
    if code is not None:
        code.setToolTip(tr("No browser here? Type a short code on your phone or another computer"))
    box.setDefaultButton(again)
    if keep is not None:
        keep(box)
    box.exec()
    clicked = box.clickedButton()
    return AGAIN if clicked is again else BY_CODE if code is not None and clicked is code else LATER


def show_code(parent: QWidget, provider: str, url: str, code: str, on_cancel) -> QMessageBox:
    """The code to type elsewhere, shown while KlezGuard waits (not modal: the window stays usable)."""
    box = QMessageBox(QMessageBox.Icon.Information, tr("Sign in with a code"), "",
                      QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setText(tr("On your phone or another computer, open {url} and enter the code {code}. KlezGuard waits "
                   "here until you have signed in with {p}.").format(url=url, code=code, p=provider))
    box.rejected.connect(on_cancel)
    box.open()
    return box
