"""Accounts in the app: loaded at start and scanned against the real Dovecot, edited, and removed with
their keyring entry."""

from PySide6.QtWidgets import QApplication, QMessageBox

from klezguard.gui.app import App
from klezguard.gui.dialogs import AccountDialog
from klezguard.gui.wizard import AccountWizard
from klezguard.mail import credentials
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from tests.gui.conftest import answer_next_dialog, idle
from tests.mailfactory import build


def test_start_edit_and_remove_an_account(qtbot, imap_server, empty_mailbox, isolated_user_dirs, monkeypatch):
    empty_mailbox.append("INBOX", build(subject="Hello from the test"))
    account = Account(imap_server.user, ServerSettings(imap_server.host, imap_server.ssl_port, "ssl",
                                                       cafile=imap_server.cafile))
    AccountStore().put(account)
    credentials.set_password(account.key, imap_server.password)
    app = App(QApplication.instance())
    window = app.window
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 1, timeout=15000)
    assert window.model.rows[0].subject == "Hello from the test"

    dialog = AccountDialog(AccountStore().get(account.key), window)
    dialog.folders.setText("INBOX, Archive")
    dialog.apply()
    AccountStore().put(dialog.account)
    assert AccountStore().get(account.key).folders == ["INBOX", "Archive"]

    # Edit account… from the account's menu: the account keeps being watched with its new settings
    class Unchanged:
        def __init__(self, account, parent):
            pass

        def exec(self):
            return True

        def apply(self):
            return None

    window.start_watching()
    assert account.key in window.work.watchers
    monkeypatch.setattr("klezguard.gui.app.AccountDialog", Unchanged)
    window.edit_account(account.key)
    assert account.key in window.work.watchers and window.work.watchers[account.key].isRunning()

    answer_next_dialog(QMessageBox.StandardButton.Yes)
    window.remove_account(account.key)
    assert AccountStore().load() == []
    assert isolated_user_dirs.get_password("KlezGuard", account.key) is None
    assert window.model.rowCount() == 0 and account.key not in window.services

    # Added back through the toolbar's "Add account…": its mail is scanned again, every message of it
    class Wizard:
        DialogCode = AccountWizard.DialogCode

        def __init__(self, parent):
            pass

        def exec(self):
            return AccountWizard.DialogCode.Accepted

        def account(self):
            return Account(imap_server.user, ServerSettings(imap_server.host, imap_server.ssl_port, "ssl",
                                                            cafile=imap_server.cafile))

        def password(self):
            return imap_server.password

    monkeypatch.setattr("klezguard.gui.app.AccountWizard", Wizard)
    window.add_account_action.trigger()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 1, timeout=15000)
    assert window.model.rows[0].subject == "Hello from the test"
    assert isolated_user_dirs.get_password("KlezGuard", account.key) == imap_server.password
    app.close()


def test_first_run_welcomes_and_offers_an_account_or_the_demo(qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    started, asked = [], []
    monkeypatch.setattr("subprocess.Popen", lambda args, **kw: started.append(args))

    class Wizard:
        DialogCode = AccountWizard.DialogCode

        def __init__(self, parent):
            asked.append(True)

        def exec(self):
            return AccountWizard.DialogCode.Rejected

    monkeypatch.setattr("klezguard.gui.app.AccountWizard", Wizard)
    app = App(QApplication.instance())
    window = app.window
    qtbot.addWidget(window)
    states = []
    window.state_changed.connect(states.append)
    window.refresh()
    assert states[-1] == "unprotected"  # nothing is protected: the tray never says all clear
    add = window.detail.findChild(QPushButton, "welcome-add")
    demo = window.detail.findChild(QPushButton, "welcome-demo")
    assert add is not None and demo is not None
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert asked == [True]
    qtbot.mouseClick(demo, Qt.MouseButton.LeftButton)
    assert started and started[0][-1] == "--demo"
    app.close()


def test_the_dark_look_is_dark_on_any_desktop(qapp):
    from PySide6.QtGui import QPalette

    from klezguard.gui.app import apply_theme

    app = qapp
    try:
        apply_theme(app, "dark")
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert app.palette().color(QPalette.ColorRole.WindowText).lightness() > 180
        apply_theme(app, "light")
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    finally:
        apply_theme(app, "system")


def test_without_a_password_store_the_app_asks_for_the_password_and_works(qtbot, imap_server, empty_mailbox,
                                                                          monkeypatch):
    import keyring
    import keyring.backend
    import keyring.errors

    class NoStore(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            raise keyring.errors.NoKeyringError("no backend")

        def set_password(self, service, username, password):
            raise keyring.errors.NoKeyringError("no backend")

        def delete_password(self, service, username):
            raise keyring.errors.NoKeyringError("no backend")

    empty_mailbox.append("INBOX", build(subject="Hello without a keyring"))
    account = Account(imap_server.user, ServerSettings(imap_server.host, imap_server.ssl_port, "ssl",
                                                       cafile=imap_server.cafile))
    AccountStore().put(account)
    previous = keyring.get_keyring()
    keyring.set_keyring(NoStore())
    asked = []
    monkeypatch.setattr("klezguard.gui.app.ask_password",
                        lambda email, why: asked.append((email, why)) or imap_server.password)
    try:
        app = App(QApplication.instance())
        window = app.window
        qtbot.addWidget(window)
        assert asked and asked[0][0] == imap_server.user and "no password store" in asked[0][1]
        assert "KLEZGUARD_PASSWORD" not in asked[0][1]
        qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 1, timeout=15000)
        assert window.model.rows[0].subject == "Hello without a keyring"
        app.close()
    finally:
        keyring.set_keyring(previous)
