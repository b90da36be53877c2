"""Starts the desktop app: logging, the error hook, the accounts' services, the window and the tray.

`klezguard` with no arguments opens it; `klezguard --demo` opens it on the bundled demo mailbox
(a local copy: no account, no network); `--tray` starts hidden in the tray.
"""

import argparse
import logging
import sys
import tempfile
import threading
import traceback
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from klezguard import paths
from klezguard.application import accounts as account_use
from klezguard.application.judge import ProcessJudge, default_judge, prepare
from klezguard.application.scanprocess import ScanProcess
from klezguard.application.service import ImapService, LocalService, local_service
from klezguard.autostart import APP_ID
from klezguard.errors import KnownError
from klezguard.gui.dialogs import AccountDialog, ErrorDialog, SettingsDialog
from klezguard.gui.icons import app_icon
from klezguard.gui.mainwindow import MainWindow
from klezguard.gui.safetext import message_box
from klezguard.gui.signinbox import show_code
from klezguard.gui.tasks import run_in_background
from klezguard.gui.tray import NoticeGrouper, TrayController, TrayNotifier, WindowNotifier
from klezguard.gui.wizard import AccountWizard
from klezguard.logs import file_handler
from klezguard.mail.accounts import AccountStore
from klezguard.settings import Settings
from klezguard.store.db import Store

log = logging.getLogger("klezguard")


def tr(text: str) -> str:
    return QCoreApplication.translate("App", text)


def setup_logging(debug: bool) -> Path:
    """Logs go to the user's log folder. Nothing logs a password: the IMAP library redacts LOGIN, and our
    own code never passes one to a logger."""
    folder = paths.log_dir()
    handler = file_handler(folder)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("imapclient").setLevel(logging.DEBUG if debug else logging.WARNING)
    return folder


def dark_palette() -> QPalette:
    """Fusion's colours for the dark look, set by KlezGuard itself: on a desktop without a colour-scheme
    service (X11 without GNOME or KDE) asking Qt for a dark scheme changes nothing."""
    p = QPalette()
    base, window, text, muted = QColor("#1e1f22"), QColor("#2b2d31"), QColor("#e6e6e6"), QColor("#8a8d93")
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
                        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipBase, window),
                        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.PlaceholderText, muted),
                        (QPalette.ColorRole.Highlight, QColor("#3d6db5")),
                        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
                        (QPalette.ColorRole.Link, QColor("#8ab4f8"))):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return p


def apply_theme(app: QApplication, theme: str) -> None:
    """'system' follows the desktop; 'light' and 'dark' are set whatever the desktop says."""
    app.setStyle("Fusion")
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):
        scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(theme, Qt.ColorScheme.Unknown)
        hints.setColorScheme(scheme)
    if theme == "dark":
        app.setPalette(dark_palette())
    else:
        style = app.style()
        app.setPalette(style.standardPalette() if style is not None else QPalette())


def ask_password(email: str, why: str) -> str | None:
    """Asks for an account's password when it cannot be read from a password store."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    text, ok = QInputDialog.getText(None, tr("Password for {email}").format(email=email),
                                    tr("{why}\n\nPassword for {email}:").format(why=why, email=email),
                                    QLineEdit.EchoMode.Password)
    return text if ok and text else None


class App:
    """Owns the long-lived objects and wires them together."""

    def __init__(self, qapp: QApplication, demo: bool = False, start_hidden: bool = False):
        self.qapp = qapp
        self.demo = demo
        prepare()  # rules and their libraries load now, not on the scanning thread while the window waits
        # Scans run in a helper process (connection, judging, storing), so a big scan never makes the
        # window stutter; on a single-core machine they run on the accounts' worker threads instead.
        self.judge = default_judge()
        self.scans = ScanProcess() if isinstance(self.judge, ProcessJudge) else None
        if self.scans is not None:
            self.judge.close()
        qapp.aboutToQuit.connect(self.close)
        self.settings = Settings()
        apply_theme(qapp, self.settings.get("theme"))
        if demo:
            self.demo_dir = tempfile.TemporaryDirectory(prefix="klezguard-demo-")
            self.store = Store(Path(self.demo_dir.name) / "demo.sqlite3")
            mailbox = local_service(None, self.store, root=Path(self.demo_dir.name) / "mail")
            services: dict[str, ImapService | LocalService] = {mailbox.key: mailbox}
        else:
            self.store = Store()
            services = {}
            for account in AccountStore().load():
                password, why = account_use.saved_password(account)
                if password is None and why:  # no password store: asked now, kept for this session only
                    password = ask_password(account.email, why)
                service = self.service(account, password)
                services[service.key] = service
        self.tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.window = MainWindow(self.store, services, keep_in_tray=self.tray_available and not demo,
                                 add_account=self.add_account, open_settings=self.open_settings,
                                 edit_account=self.edit_account, remove_account=self.remove_account,
                                 sign_in_again=self.sign_in_again, sign_in_with_code=self.sign_in_with_code)
        if demo:
            self.window.setWindowTitle(tr("KlezGuard — demo mailbox (a local copy: nothing leaves this computer)"))
        self.tray = None
        if self.tray_available:
            self.tray = TrayController(self.qapp)
            self.tray.open_requested.connect(self.show_window)
            self.tray.scan_requested.connect(self.window.scan_all)
            self.tray.pause_toggled.connect(self.pause)
            self.tray.quit_requested.connect(self.quit)
            self.window.state_changed.connect(self._state)
            self.window.work.busy.connect(lambda job: self.tray.set_busy(True) if not job.quiet else None)
            self.window.work.idle.connect(lambda: self.tray.set_busy(False))
            self.window.update_state()  # the tray's first state: "no account yet" is never "all clear"
            self.window.tray_hint_needed.connect(lambda: self.tray.tray.showMessage(
                "KlezGuard", tr("KlezGuard keeps watching your mail here. Use Quit in this menu to stop it.")))
            self.notifier: TrayNotifier | WindowNotifier = TrayNotifier(self.tray.tray, self.qapp)
            self.tray.show()
        else:
            self.notifier = WindowNotifier(self.window, self.qapp)
        self.grouper = NoticeGrouper(self.notifier, self.settings.get("notify_level"), parent=self.qapp)
        self.window.new_findings.connect(self.grouper.add)
        self.window.wave_found.connect(self.grouper.wave)  # a backscatter wave: one notice for its bounces
        self.notifier.clicked.connect(self.window.open_message)
        if not start_hidden or not self.tray_available:
            self.window.show()
        if not services and not demo:
            self.window.status_text.setText(tr("Add your mail account to begin, or try the demo: klezguard --demo"))
        if self.store.recovery_note():  # a damaged store was set aside: said once, plainly, and kept in view
            self.window.status_text.setText(self.store.recovery_note())
            if self.window.isVisible():
                message_box(self.window, "KlezGuard", self.store.recovery_note(), QMessageBox.Icon.Information)
        self.window.scan_all()
        self.window.start_watching()
        if not demo:
            self.window.watch_domains()  # the user's own domains, at most once a day (gui/domainpage.py)

    def close(self) -> None:
        """Stops watching, the workers and the helper processes, and takes the tray icon away (at quit; tests
        call it too)."""
        if self.tray is not None:
            self.tray.tray.hide()
        self.window.shutdown()
        if self.scans is not None:
            self.scans.close()
        self.judge.close()

    def service(self, account, password: "str | account_use.TokenSource | None" = None) -> ImapService:
        return ImapService(account, self.store, password=password, judge=self.judge, scan_process=self.scans)

    def _state(self, state: str) -> None:
        if self.tray and not self.tray.pause_action.isChecked():
            self.tray.set_state(state)

    def show_window(self) -> None:
        self.window.bring_up()

    def pause(self, paused: bool) -> None:
        if self.tray is None:
            return
        if paused:
            self.window.stop_watching()
            self.tray.set_state("paused")
        else:
            self.window.start_watching()
            self.tray.set_state("clear")

    def quit(self) -> None:
        self.window.quitting = True
        self.window.close()
        self.qapp.quit()

    def add_account(self):
        wizard = AccountWizard(self.window)
        if wizard.exec() != AccountWizard.DialogCode.Accepted:
            return None
        # the wizard has tested the login already, in the background
        saved = account_use.add_account(wizard.account(), wizard.password(), self.store, settings=self.settings,
                                        check_login=False)
        if not saved.password_saved:
            message_box(self.window, tr("Password not saved"), saved.problem)
        return self.service(saved.account, None if saved.password_saved else wizard.password())

    def sign_in_again(self, key: str) -> None:
        """Signs the account in with its provider again (the browser opens), then scans with the new sign-in."""
        account = AccountStore().get(key)
        self.window.said.emit(tr("Signing in again: finish in the browser window that opens."))
        self._sign_in = run_in_background(lambda: account_use.sign_in(account.email, account.server.host,
                                                                     issuer=account.sign_in_issuer),
                                          partial(self._signed_in_again, account), self._sign_in_failed, self.window)

    def sign_in_with_code(self, key: str) -> None:
        """Signs the account in again with a code the user types on another device (no browser here)."""
        account = AccountStore().get(key)
        cancel = threading.Event()

        def shown(pending: account_use.CodeSignIn) -> None:
            self.code_box: QMessageBox | None = show_code(
                self.window, pending.provider.title, pending.code.verification_uri, pending.code.user_code, cancel.set)
            self._sign_in = run_in_background(lambda: account_use.finish_code_sign_in(pending, cancel),
                                              finished, failed, self.window)

        def finished(tokens) -> None:
            self._close_code_box()
            self._signed_in_again(account, tokens)

        def failed(text: str, details: str) -> None:
            if not cancel.is_set():  # (the user's own Cancel needs no message)
                self._sign_in_failed(text, details)
            self._close_code_box()

        self.window.said.emit(tr("Asking your mail provider for a code…"))
        self._sign_in = run_in_background(lambda: account_use.start_code_sign_in(
                                              account.email, account.server.host, account.sign_in_issuer),
                                          shown, self._sign_in_failed, self.window)

    def _signed_in_again(self, account, tokens) -> None:
        saved = account_use.save_sign_in(account, tokens)
        self.window.remove_service(account.key)
        self.window.add_service(self.service(account, None if saved.password_saved else tokens))
        self.window.scan_all()
        self.window.start_watching()

    def _sign_in_failed(self, text: str, details: str) -> None:
        self._close_code_box()
        message_box(self.window, tr("Sign in again"), text or details)

    def _close_code_box(self) -> None:
        box, self.code_box = getattr(self, "code_box", None), None
        if box is not None:
            box.blockSignals(True)  # closing it is no Cancel
            box.done(0)

    def edit_account(self, key: str):
        account = AccountStore().get(key)
        dialog = AccountDialog(account, self.window)
        if not dialog.exec():
            return None
        password = dialog.apply()
        saved = account_use.edit_account(account, password or None)
        if not saved.password_saved:
            message_box(self.window, tr("Password not saved"), saved.problem)
        return self.service(account, None if saved.password_saved else password)

    def remove_account(self, key: str) -> bool:
        answer = message_box(
            self.window, tr("Remove account"),
            tr("Remove {key} from KlezGuard? Its saved password is deleted too, and what KlezGuard learnt about "
               "its mail. Nothing changes on the mail server: quarantined mail stays in the quarantine "
               "folder.").format(key=key),
            QMessageBox.Icon.Question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.window.remove_service(key)  # its scan stops first, so nothing is stored for it afterwards
        problem = account_use.remove_account(key, self.store)
        if problem:
            message_box(self.window, tr("Password not removed"), problem)
        return True

    def open_settings(self) -> None:
        before = (self.settings.get("watched_folders"), self.settings.get("quarantine_folder"))
        if not SettingsDialog(self.settings, self.window).exec():
            return
        apply_theme(self.qapp, self.settings.get("theme"))
        self.grouper.level = self.settings.get("notify_level")
        after = (self.settings.get("watched_folders"), self.settings.get("quarantine_folder"))
        if after != before:  # folders are account settings too: apply the new choice to every account
            store = AccountStore()
            for account in store.load():
                account.folders, account.quarantine_folder = list(after[0]), after[1]
                store.put(account)
                if account.key in self.window.services:
                    password = getattr(self.window.services[account.key], "_password", None)
                    self.window.remove_service(account.key)
                    self.window.add_service(self.service(account, password))
            self.window.scan_all()


def install_excepthook(parent_getter) -> None:
    def hook(kind, value, tb):
        details = "".join(traceback.format_exception(kind, value, tb))
        log.error("unexpected error\n%s", details)
        if isinstance(value, KnownError):
            message_box(parent_getter(), "KlezGuard", value.text())
        else:
            ErrorDialog(details, parent_getter()).exec()

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="klezguard", description="KlezGuard desktop app")
    parser.add_argument("--demo", action="store_true", help="open the app on the bundled demo mailbox")
    parser.add_argument("--tray", action="store_true", help="start hidden in the system tray")
    parser.add_argument("--debug", action="store_true", help="write debug logs (never passwords)")
    args, qt_args = parser.parse_known_args(argv)
    setup_logging(args.debug)
    QApplication.setApplicationName("KlezGuard")
    QApplication.setOrganizationName("KlezGuard")
    QApplication.setDesktopFileName(APP_ID)  # packaging/org.klezguard.KlezGuard.desktop
    qapp = QApplication([sys.argv[0], *qt_args])
    qapp.setWindowIcon(app_icon())
    qapp.setQuitOnLastWindowClosed(not QSystemTrayIcon.isSystemTrayAvailable() or args.demo)
    app = App(qapp, demo=args.demo, start_hidden=args.tray)
    install_excepthook(lambda: app.window)
    return qapp.exec()
