"""The desktop app against the real Dovecot of the test suite: quarantine and restore on the server,
trust bound to the authenticated sender, the wizard's wrong-password message, and a notification plus
a new row for mail that arrives while watching."""

import pytest
from PySide6.QtWidgets import QWizard

from klezguard.application.service import ImapService
from klezguard.gui.mainwindow import MainWindow
from klezguard.gui.tray import NoticeGrouper, Notifier
from klezguard.gui.wizard import AccountWizard
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.discovery import Discovery
from tests.gui.conftest import idle, select_subject
from tests.integration.oauthserver import provider_file
from tests.mailfactory import auth, build

AUTHSERV = "mx.mailhost-demo.net"
KLEZ = build(subject="Your statement", message_id="<klez@gui.example>",
             attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])
ODD_BUT_SIGNED = build(
    from_='"orders@millstone-flour.example" <billing@invoices-partner.example>', subject="Invoice 7",
    message_id="<signed@gui.example>",
    headers=[("Authentication-Results", auth(domain="invoices-partner.example", authserv=AUTHSERV))])
CLEAN = build(subject="Lunch", message_id="<lunch@gui.example>")


@pytest.fixture
def server_window(qtbot, imap_server, empty_mailbox, store):
    empty_mailbox.multiappend("INBOX", [CLEAN, KLEZ, ODD_BUT_SIGNED])
    account = Account(imap_server.user, ServerSettings(imap_server.host, imap_server.port, "plain", imap_server.user),
                      allow_plain=True, trusted_authserv=[AUTHSERV])
    service = ImapService(account, store, password=imap_server.password)
    window = MainWindow(store, {service.key: service})
    window.notifier = Notifier()
    grouper = NoticeGrouper(window.notifier, delay_ms=10)
    window.new_findings.connect(grouper.add)
    qtbot.addWidget(window)
    window.show()
    window.scan_all()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 3, timeout=20000)
    yield window
    window.shutdown()
    service.close()


def server_subjects(imap, folder):
    if not imap.folder_exists(folder):
        return []
    imap.select_folder(folder, readonly=True)
    data = imap.fetch(imap.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    return sorted(next(value for key, value in v.items() if key.startswith(b"BODY")).decode()
                  .partition(":")[2].strip() for v in data.values())


def test_quarantine_moves_on_the_server_and_restore_brings_it_back(qtbot, server_window, imap):
    select_subject(qtbot, server_window, "Your statement")
    server_window.quarantine_action.trigger()
    qtbot.waitUntil(lambda: idle(server_window) and server_window.undo_button.isVisible(), timeout=10000)
    assert server_subjects(imap, "KlezGuard Quarantine") == ["Your statement"]
    assert "Your statement" not in server_subjects(imap, "INBOX")
    server_window.select_view("quarantine")
    select_subject(qtbot, server_window, "Your statement")
    server_window.restore_action.trigger()
    qtbot.waitUntil(lambda: idle(server_window) and server_window.model.rowCount() == 0, timeout=10000)
    assert server_subjects(imap, "KlezGuard Quarantine") == []
    assert "Your statement" in server_subjects(imap, "INBOX")


def test_trust_silences_that_authenticated_sender(qtbot, server_window, imap):
    row = select_subject(qtbot, server_window, "Invoice 7")
    assert row.verdict != "clean"
    with qtbot.waitSignal(server_window.said, check_params_cb=lambda text: "Trusted" in text, timeout=10000):
        server_window.trust_action.trigger()
    assert server_window.store.trusted_senders() == {("billing@invoices-partner.example", "invoices-partner.example")}
    assert next(r for r in server_window.model.rows if r.id == row.id).verdict == "clean"
    # a forger using the same address without the provider's confirmation is still flagged
    forged = build(from_='"orders@millstone-flour.example" <billing@invoices-partner.example>', subject="Invoice 8",
                   headers=[("Authentication-Results", auth("fail", "none", "fail", domain="invoices-partner.example",
                                                            authserv=AUTHSERV))])
    imap.append("INBOX", forged)
    server_window.scan_all()
    qtbot.waitUntil(lambda: idle(server_window) and server_window.model.rowCount() == 4, timeout=10000)
    assert next(r for r in server_window.model.rows if r.subject == "Invoice 8").verdict != "clean"


def test_watching_notifies_and_adds_a_row(qtbot, server_window, imap):
    server_window.notifier.shown.clear()
    server_window.start_watching()
    qtbot.waitSignal(server_window.said, check_params_cb=lambda text: "Watching" in text, timeout=10000).wait()
    imap.append("INBOX", build(subject="Scan from the office", attachments=[
        ("scan.pdf.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 60)]))
    qtbot.waitUntil(lambda: any("Scan from the office" in n.text for n in server_window.notifier.shown),
                    timeout=10000)
    notice = server_window.notifier.shown[-1]
    assert notice.level == "threat" and owner_in(notice.title)
    assert "Scan from the office" in [r.subject for r in server_window.model.rows]


def owner_in(title: str) -> bool:
    return "owner@brightwater-bakery.com" in title


def test_wizard_explains_a_wrong_password(qtbot, imap_server):
    def discover(email):
        return Discovery(ServerSettings(imap_server.host, imap_server.ssl_port, "ssl", imap_server.user), "guess")

    wizard = AccountWizard(discover=discover)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.email_page.email.setText(imap_server.user)
    wizard.email_page.password.setText("not the password")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == imap_server.host, timeout=5000)
    wizard.server_page.cafile.setText(imap_server.cafile)
    wizard.next()
    qtbot.waitUntil(lambda: "did not accept the user name or password" in wizard.test_page.status.text(),
                    timeout=10000)
    assert "Go back" in wizard.test_page.status.text()
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.back()
    wizard.back()
    wizard.email_page.password.setText(imap_server.password)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.test_page.ok, timeout=10000)
    assert "INBOX" in wizard.test_page.chosen()
    assert wizard.account().server.cafile == imap_server.cafile


def test_wizard_back_keeps_server_settings_typed_by_hand(qtbot):
    from PySide6.QtCore import Qt

    looked_up = []

    def discover(email):
        looked_up.append(email)
        return Discovery(ServerSettings("imap." + email.rpartition("@")[2], 993, "ssl"), "guess")

    wizard = AccountWizard(discover=discover)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.email_page.email.setText("maya@brightwater-bakery.example")
    wizard.email_page.password.setText("secret")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == "imap.brightwater-bakery.example", timeout=5000)
    wizard.server_page.host.setText("mail.hosting-company.example")
    wizard.server_page.port.setValue(10993)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.server_page.host.text() == "mail.hosting-company.example"
    assert wizard.server_page.port.value() == 10993 and looked_up == ["maya@brightwater-bakery.example"]
    # another address: its settings are looked up afresh
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    wizard.email_page.email.setText("maya@other-shop.example")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == "imap.other-shop.example", timeout=5000)


def test_wizard_signs_in_with_the_provider_instead_of_a_password(qtbot, oauth_imap_server, oauth_server, tmp_path,
                                                                monkeypatch, isolated_user_dirs):
    """An address whose provider wants OAuth2: no password field, the browser sign-in (followed here as a
    browser would), Sign in again after the user said no, then the account is added with its tokens in the
    keyring."""

    from PySide6.QtCore import Qt

    from klezguard.application.accounts import add_account
    from klezguard.mail import oauth
    from klezguard.store.db import Store
    from tests.integration.test_oauth2 import follow_in_browser

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Bakery Mail", domains=["brightwater-bakery.com"]))
    oauth_server.browser_user = oauth_imap_server.user

    def discover(email):
        return Discovery(ServerSettings(oauth_imap_server.host, oauth_imap_server.ssl_port, "ssl"), "guess")

    wizard = AccountWizard(discover=discover, open_url=follow_in_browser)
    qtbot.addWidget(wizard)
    wizard.resize(800, 600)
    wizard.show()
    qtbot.keyClicks(wizard.email_page.email, oauth_imap_server.user)
    assert not wizard.email_page.password.isVisible() and "Bakery Mail" in wizard.email_page.signs_in.text()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no password needed
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == oauth_imap_server.host, timeout=5000)
    wizard.server_page.cafile.setText(oauth_imap_server.cafile)
    oauth_server.browser_answer = "access_denied"  # the user says no first
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.test_page.again.isVisible(), timeout=20000)
    assert "did not give KlezGuard access" in wizard.test_page.status.text()
    oauth_server.browser_answer = ""
    qtbot.mouseClick(wizard.test_page.again, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.test_page.ok, timeout=20000)
    account = wizard.account()
    assert account.auth == "oauth2" and "INBOX" in wizard.test_page.chosen()
    store = Store(tmp_path / "s.sqlite3")
    saved = add_account(account, wizard.password(), store, check_login=False)
    assert saved.password_saved and oauth.load_tokens(account.key) is not None
    assert not any(oauth_imap_server.password in v for v in isolated_user_dirs.items.values())


def test_a_withdrawn_sign_in_asks_to_sign_in_again_and_never_for_a_password(qtbot, oauth_imap_server, oauth_server,
                                                                          store):
    """The scan of an OAuth2 account whose grant was withdrawn: a message with Sign in again (pressed here),
    which hands the account to the app's sign-in; no password box anywhere."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from klezguard.mail import oauth
    from klezguard.mail.oauth import TokenSet

    account = Account(oauth_imap_server.user, ServerSettings(oauth_imap_server.host, oauth_imap_server.ssl_port,
                                                             "ssl", cafile=oauth_imap_server.cafile), auth="oauth2")
    answer = oauth_server.issue(oauth_imap_server.user)
    oauth.save_tokens(account.key, TokenSet.from_response(answer, oauth_server.token_endpoint, "klezguard-test"))
    oauth_server.revoke_all()
    asked: list[str] = []
    window = MainWindow(store, {}, sign_in_again=asked.append)
    qtbot.addWidget(window)
    window.show()
    seen: list[str] = []

    def press_sign_in_again() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press_sign_in_again)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == "Sign in again").click()

    QTimer.singleShot(0, press_sign_in_again)
    service = ImapService(account, store)
    window.add_service(service)
    window.scan_all()
    qtbot.waitUntil(lambda: asked == [account.key], timeout=20000)
    assert "no longer accepts" in seen[0] and "password" not in seen[0].lower()
    window.shutdown()
    service.close()


def test_wizard_finds_sign_in_by_the_server_for_a_firms_own_domain_and_asks_for_a_missing_password(
        qtbot, oauth_imap_server, oauth_server, tmp_path, monkeypatch):
    """shop.example on Microsoft 365: the address says nothing, the server found says it (its IMAP host is
    the provider's), so the password may stay empty; a server that wants a password says so."""

    from PySide6.QtCore import Qt

    from tests.integration.test_oauth2 import follow_in_browser

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Hosted Mail", hosts=[oauth_imap_server.host]))
    oauth_server.browser_user, oauth_server.browser_answer = oauth_imap_server.user, ""
    found = {"host": oauth_imap_server.host}

    def discover(email):
        return Discovery(ServerSettings(found["host"], oauth_imap_server.ssl_port, "ssl"), "guess")

    wizard = AccountWizard(discover=discover, open_url=follow_in_browser)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.email_page.email, oauth_imap_server.user)
    assert wizard.email_page.password.isVisible()  # nothing known from the address alone
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == oauth_imap_server.host, timeout=5000)
    wizard.server_page.cafile.setText(oauth_imap_server.cafile)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.test_page.ok, timeout=20000)
    assert wizard.account().auth == "oauth2"
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    wizard.server_page.host.setText("localhost")  # a server that is no provider's: it needs the password
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert "Go back and type it" in wizard.test_page.status.text()
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


def test_wizard_signs_in_with_a_code_when_no_browser_comes_back(qtbot, oauth_imap_server, oauth_server, tmp_path,
                                                                monkeypatch):
    """No browser here (a remote session): the user presses the code button, types the code elsewhere, and the
    browser attempt that never came back does not spoil the page."""

    from PySide6.QtCore import Qt

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Bakery Mail", domains=["brightwater-bakery.com"]))

    def discover(email):
        return Discovery(ServerSettings(oauth_imap_server.host, oauth_imap_server.ssl_port, "ssl",
                                        cafile=oauth_imap_server.cafile), "guess")

    wizard = AccountWizard(discover=discover, open_url=lambda url: False)  # the browser never opens
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.email_page.email, oauth_imap_server.user)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == oauth_imap_server.host, timeout=5000)
    wizard.server_page.cafile.setText(oauth_imap_server.cafile)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.test_page.by_code.isVisible, timeout=5000)
    qtbot.mouseClick(wizard.test_page.by_code, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "enter the code" in wizard.test_page.status.text(), timeout=10000)
    code = wizard.test_page.code
    assert code.user_code in wizard.test_page.status.text() and code.verification_uri in wizard.test_page.status.text()
    oauth_server.approve_device(code.user_code, oauth_imap_server.user)
    qtbot.waitUntil(lambda: wizard.test_page.ok, timeout=20000)
    qtbot.wait(300)  # the given-up browser attempt ends now: it must not change the page
    assert wizard.test_page.ok and "login works" in wizard.test_page.status.text()
    assert wizard.account().auth == "oauth2"
