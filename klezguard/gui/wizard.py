"""Account setup: e-mail and password, automatic server settings (manual one click away), a test login
in the background, the folders to watch. Errors are explained on the page, never as a stack trace."""

import re
import threading
from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from klezguard.application.accounts import (
    CodeSignIn,
    Discovery,
    TokenSource,
    code_sign_in_refused,
    discover,
    finish_code_sign_in,
    keyring_works,
    list_folders,
    oauth_provider,
    sign_in,
    start_code_sign_in,
)
from klezguard.gui.safetext import PlainLabel
from klezguard.gui.tasks import run_in_background
from klezguard.mail.accounts import DEFAULT_PORTS, Account, ServerSettings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SECURITY = [("ssl", "TLS (recommended)"), ("starttls", "STARTTLS"), ("plain", "No encryption (not safe)")]


def tr(text: str) -> str:
    return QCoreApplication.translate("AccountWizard", text)




class EmailPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle(tr("Your mail account"))
        self.setSubTitle(tr("KlezGuard checks your mail on your provider's server. Your password is kept "
                            "in your system's password store, never in a file.") if keyring_works() else
                         tr("KlezGuard checks your mail on your provider's server. This computer has no password "
                            "store, so KlezGuard keeps your password only until it closes and asks again at the next "
                            "start (never in a file). To have it remembered, install GNOME Keyring or KWallet."))
        form = QFormLayout(self)
        self.email = QLineEdit()
        self.email.setPlaceholderText("you@yourshop.com")
        self.email.setAccessibleName(tr("E-mail address"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(tr("not needed for Microsoft 365 or Google accounts"))
        self.password.setAccessibleName(tr("Password"))
        self.manual = QCheckBox(tr("Set up the server by hand"))
        self.password_label = PlainLabel(tr("Password:"))
        self.signs_in = PlainLabel("")  # "You sign in with Microsoft ...", for the providers that want it
        self.signs_in.setWordWrap(True)
        self.signs_in.hide()
        form.addRow(tr("E-mail address:"), self.email)
        form.addRow(self.password_label, self.password)
        form.addRow("", self.signs_in)
        form.addRow("", self.manual)
        self.registerField("email*", self.email)
        self.registerField("password", self.password)
        self.email.textChanged.connect(self._email_changed)
        self.password.textChanged.connect(self.completeChanged)

    def provider(self) -> str:
        email = self.email.text().strip()
        return oauth_provider(email) if EMAIL.match(email) else ""

    def _email_changed(self) -> None:
        provider = self.provider()
        self.password.setVisible(not provider)
        self.password_label.setVisible(not provider)
        self.signs_in.setVisible(bool(provider))
        if provider:
            self.signs_in.setText(tr("{p} accounts sign in with {p}: after the next step your browser opens its "
                                     "sign-in page. KlezGuard never sees your password.").format(p=provider))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        # (the password may stay empty: a firm's own domain on Microsoft 365 or Google Workspace is only known
        # to sign in with its provider once the server is found; the test page asks for it if it is needed)
        return bool(EMAIL.match(self.email.text().strip()))


class ServerPage(QWizardPage):
    def __init__(self, discover: Callable):
        super().__init__()
        self.discover = discover
        self.setTitle(tr("Server settings"))
        layout = QVBoxLayout(self)
        self.status = PlainLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        form = QFormLayout()
        self.host = QLineEdit()
        self.host.setAccessibleName(tr("Server"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(993)
        self.port.setAccessibleName(tr("Port"))
        self.security = QComboBox()
        for key, label in SECURITY:
            self.security.addItem(tr(label), key)
        self.security.setAccessibleName(tr("Security"))
        self.user = QLineEdit()
        self.user.setPlaceholderText(tr("(your e-mail address)"))
        self.user.setAccessibleName(tr("User name"))
        cafile_row = QHBoxLayout()
        self.cafile = QLineEdit()
        self.cafile.setPlaceholderText(tr("(your system's certificates)"))
        self.cafile.setAccessibleName(tr("Extra certificate file"))
        browse = QPushButton(tr("Choose…"))
        browse.clicked.connect(self._browse)
        cafile_row.addWidget(self.cafile)
        cafile_row.addWidget(browse)
        self.allow_plain = QCheckBox(tr("I understand: send my password without encryption"))
        form.addRow(tr("Server:"), self.host)
        form.addRow(tr("Port:"), self.port)
        form.addRow(tr("Security:"), self.security)
        form.addRow(tr("User name:"), self.user)
        form.addRow(tr("Certificate file:"), cafile_row)
        form.addRow("", self.allow_plain)
        layout.addLayout(form)
        self.security.currentIndexChanged.connect(self._security_changed)
        self.host.textChanged.connect(self.completeChanged)
        self.allow_plain.toggled.connect(self.completeChanged)
        self._security_changed()
        self._settings_for = ""  # the address the page's settings were found or typed for
        self._found_sign_in = ("", "")  # (server, the sign-in its autoconfig named: Discovery.sign_in)
        self._pending: object | None = None  # the background task, kept alive while it runs

    def sign_in_issuer(self) -> str:
        """The provider sign-in the found server's autoconfig named ('*': one it did not name), while the server
        is the one found (a server typed by hand gets no token on that say-so)."""
        host, issuer = self._found_sign_in
        return issuer if host and self.host.text().strip().lower() == host else ""

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Certificate file"), "", tr("Certificates (*.pem *.crt)"))
        if path:
            self.cafile.setText(path)

    def _security_changed(self) -> None:
        key = self.security.currentData()
        self.allow_plain.setVisible(key == "plain")
        if self.port.value() in DEFAULT_PORTS.values():
            self.port.setValue(DEFAULT_PORTS[key])
        self.completeChanged.emit()

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        email = self.field("email").strip()
        if email == self._settings_for and self.host.text().strip():
            return  # Back and Next again: what is on the page (typed by hand, perhaps) stays
        self._settings_for = email
        self._found_sign_in = ("", "")
        if cast("AccountWizard", self.wizard()).email_page.manual.isChecked():
            self.status.setText(tr("Type the settings your provider gave you."))
            if not self.host.text():
                self.host.setText("imap." + email.rpartition("@")[2])
            return
        self.status.setText(tr("Looking up the settings for {email}…").format(email=email))
        self.setEnabled(False)
        self._pending = run_in_background(lambda: self.discover(email), self._found, self._not_found, self)

    def _found(self, found: Discovery) -> None:
        self.setEnabled(True)
        s = found.settings
        self._found_sign_in = (s.host.lower(), found.sign_in)
        self.host.setText(s.host)
        self.security.setCurrentIndex([k for k, _ in SECURITY].index(s.security))
        self.port.setValue(s.port)
        if s.user and s.user != self.field("email").strip():
            self.user.setText(s.user)
        source = {"provider table": tr("known provider"), "autoconfig": tr("your provider's published settings"),
                  "DNS SRV": tr("your domain's DNS records"), "guess": tr("a guess")}.get(found.source, found.source)
        note = f" {found.note}" if found.note else ""
        self.status.setText(tr("Found these settings ({source}). Change them if your provider says otherwise.")
                            .format(source=source) + note)

    def _not_found(self, text: str, details: str) -> None:
        self.setEnabled(True)
        self.status.setText(text or tr("The settings could not be looked up. Please type them."))

    def isComplete(self) -> bool:  # noqa: N802
        if not self.host.text().strip():
            return False
        return self.security.currentData() != "plain" or self.allow_plain.isChecked()

    def settings(self) -> ServerSettings:
        return ServerSettings(self.host.text().strip(), self.port.value(), self.security.currentData(),
                              user=self.user.text().strip(), cafile=self.cafile.text().strip() or None)


class TestPage(QWizardPage):
    """Tests the login in the background and lists the folders to watch."""

    tested = Signal(bool)

    def __init__(self, login: Callable, open_url: Callable[[str], object] | None = None):
        super().__init__()
        self.login = login
        self.open_url = open_url  # the system browser unless a test follows the sign-in itself
        self.tokens: TokenSource | None = None
        self.setTitle(tr("Testing the login"))
        layout = QVBoxLayout(self)
        self.again = QPushButton(tr("Sign in again"))
        self.again.clicked.connect(self.initializePage)
        self.again.hide()
        self.by_code = QPushButton(tr("No browser here? Sign in with a code instead"))
        self.by_code.setToolTip(tr("Type a short code on your phone or another computer"))
        self.by_code.clicked.connect(self._sign_in_by_code)
        self.by_code.hide()
        self.cancel = threading.Event()  # ends a sign-in this page started when a new one begins
        self.attempt = 0  # answers of an attempt given up (the browser's, after "with a code") are ignored
        self.status = PlainLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName(tr("Login result"))
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.folders = QListWidget()
        self.folders.setAccessibleName(tr("Folders to watch"))
        layout.addWidget(self.status)
        layout.addWidget(self.again)
        layout.addWidget(self.by_code)
        layout.addWidget(self.busy)
        layout.addWidget(PlainLabel(tr("Folders to watch:")))
        layout.addWidget(self.folders)
        self.ok = False
        self._pending: object | None = None  # the background task, kept alive while it runs

    def initializePage(self) -> None:  # noqa: N802
        wizard = cast("AccountWizard", self.wizard())
        self.ok = False
        self.folders.clear()
        self.busy.show()
        self.status.setText(tr("Logging in to {server}…").format(server=wizard.server_page.settings().describe()))
        settings = wizard.server_page.settings()
        email = self.field("email").strip()
        password = self.field("password")
        allow_plain = wizard.server_page.allow_plain.isChecked()
        self.again.hide()
        self.by_code.hide()
        self.cancel.set()
        self.cancel = threading.Event()
        self.attempt += 1
        self.tokens = None
        issuer = wizard.server_page.sign_in_issuer()
        provider = oauth_provider(email, settings.host, issuer)
        # (Google lets programs sign in to mail only in a browser: no code button, and its message says so)
        self.by_code.setVisible(bool(provider) and not code_sign_in_refused(email, settings.host, issuer))
        if provider:
            self.status.setText(tr("Signing in with {p} in your browser… Finish there, then come back here.").format(
                p=provider))
            open_url = self.open_url

            cancel = self.cancel

            def work():
                tokens = sign_in(email, settings.host, open_url=open_url, cancel=cancel, issuer=issuer)
                return tokens, self.login(settings, tokens, email, allow_plain)

            self._pending = run_in_background(work, self._current(self._signed_in), self._current(self._failed), self)
        elif not password and issuer:
            self.busy.hide()
            self.status.setText(tr("{server} wants you to sign in with your mail provider (its published settings "
                                   "say so), but KlezGuard has no sign-in settings for that provider. Ask whoever "
                                   "runs your mail for them (README: Signing in with Microsoft 365 or Google).")
                                .format(server=settings.host))
        elif not password:
            self.busy.hide()
            self.status.setText(tr("{server} signs in with a password. Go back and type it.").format(
                server=settings.host))
        else:
            self._pending = run_in_background(lambda: self.login(settings, password, email, allow_plain),
                                              self._worked, self._failed, self)
        self.completeChanged.emit()

    def _sign_in_by_code(self) -> None:
        wizard = cast("AccountWizard", self.wizard())
        settings = wizard.server_page.settings()
        email = self.field("email").strip()
        self.cancel.set()  # the browser sign-in stops waiting
        self.cancel = threading.Event()
        self.attempt += 1
        self.by_code.hide()
        self.again.hide()
        self.busy.show()
        issuer = wizard.server_page.sign_in_issuer()
        self.status.setText(tr("Asking {p} for a code…").format(p=oauth_provider(email, settings.host, issuer)))
        self._pending = run_in_background(lambda: start_code_sign_in(email, settings.host, issuer),
                                          self._current(self._code_shown), self._current(self._failed), self)

    def _code_shown(self, pending: CodeSignIn) -> None:
        wizard = cast("AccountWizard", self.wizard())
        settings = wizard.server_page.settings()
        email = self.field("email").strip()
        allow_plain = wizard.server_page.allow_plain.isChecked()
        self.code = pending.code
        self.status.setText(tr("On your phone or another computer, open {url} and enter the code {code}. "
                               "KlezGuard waits here until you have.").format(url=pending.code.verification_uri,
                                                                              code=pending.code.user_code))
        cancel = self.cancel

        def work():
            tokens = finish_code_sign_in(pending, cancel)
            return tokens, self.login(settings, tokens, email, allow_plain)

        self._pending = run_in_background(work, self._current(self._signed_in), self._current(self._failed), self)

    def _current(self, callback: Callable) -> Callable:
        """`callback`, run only if no newer attempt began meanwhile."""
        attempt = self.attempt
        return lambda *args: callback(*args) if attempt == self.attempt else None

    def cleanupPage(self) -> None:  # noqa: N802 - Qt's name: Back was pressed
        self.cancel.set()
        self.attempt += 1
        super().cleanupPage()

    def _signed_in(self, result: tuple[TokenSource, list[tuple[str, str]]]) -> None:
        self.tokens, folders = result
        self._worked(folders)

    def _worked(self, folders: list[tuple[str, str]]) -> None:
        self.busy.hide()
        self.ok = True
        self.status.setText(tr("The login works. Choose the folders KlezGuard should watch."))
        for name, special in folders:
            label = special.strip(chr(92))
            item = QListWidgetItem(name + (f"  ({label})" if special and label.lower() != name.lower() else ""))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name.upper() == "INBOX" else Qt.CheckState.Unchecked)
            self.folders.addItem(item)
        self.completeChanged.emit()
        self.tested.emit(True)

    def _failed(self, text: str, details: str) -> None:
        self.busy.hide()
        server_page = cast("AccountWizard", self.wizard()).server_page
        signing_in = bool(oauth_provider(self.field("email").strip(), server_page.settings().host,
                                         server_page.sign_in_issuer()))
        self.again.setVisible(signing_in)
        self.status.setText((text or tr("The login failed for an unexpected reason.")) + "\n\n" +
                            (tr("Sign in again, or go back to change the server settings.") if signing_in else
                             tr("Go back to change the password or the server settings.")))
        self.completeChanged.emit()
        self.tested.emit(False)

    def isComplete(self) -> bool:  # noqa: N802
        return self.ok

    def chosen(self) -> list[str]:
        out = []
        for i in range(self.folders.count()):
            item = self.folders.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out or ["INBOX"]


class AccountWizard(QWizard):
    """Result: `account()` and `password()` after exec() returns Accepted."""

    def __init__(self, parent=None, discover: Callable = discover, login: Callable = list_folders,
                 open_url: Callable[[str], object] | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("Add a mail account"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.email_page = EmailPage()
        self.server_page = ServerPage(discover)
        self.test_page = TestPage(login, open_url)
        for page in (self.email_page, self.server_page, self.test_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, tr("Add account"))
        self.setMinimumSize(640, 480)

    def account(self) -> Account:
        settings = self.server_page.settings()
        return Account(self.field("email").strip(), settings, folders=self.test_page.chosen(),
                       allow_plain=self.server_page.allow_plain.isChecked(),
                       auth="oauth2" if self.test_page.tokens is not None else "password",
                       sign_in_issuer=self.server_page.sign_in_issuer() if self.test_page.tokens is not None else "")

    def password(self) -> "str | TokenSource":
        """The password, or the tokens of the sign-in with the provider."""
        return self.test_page.tokens if self.test_page.tokens is not None else self.field("password")
