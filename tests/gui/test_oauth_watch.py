"""OAuth2 in the app, from a second review (issue 12): the watcher finding a withdrawn grant asks to sign in
again as the scan does, with a code offered too; the wizard says plainly that Google allows no code sign-in.
Against the real Dovecot whose tokens the local authorization server checks; the browser is followed by the
test, the code typed by it."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard

from klezguard.gui.app import App
from klezguard.gui.wizard import AccountWizard
from klezguard.mail import oauth
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.mail.discovery import Discovery
from klezguard.mail.oauth import TokenSet
from tests.gui.conftest import idle
from tests.integration.oauthserver import provider_file
from tests.integration.test_oauth2 import follow_in_browser


def press_in_next_box(button: str, seen: list[str]) -> None:
    """Clicks the button named `button` in the next modal message box, as the user would."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not any(b.text() == button for b in box.buttons()):
            QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button).click()

    QTimer.singleShot(0, press)


def test_the_watcher_finding_a_withdrawn_grant_asks_to_sign_in_again_in_the_browser_or_with_a_code(
        qtbot, oauth_imap_server, oauth_server, tmp_path, monkeypatch, isolated_user_dirs):
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Bakery Mail", hosts=[oauth_imap_server.host]))
    monkeypatch.setattr("webbrowser.open", follow_in_browser)  # the system browser, followed as a browser would
    oauth_server.browser_user, oauth_server.browser_answer = oauth_imap_server.user, ""
    account = Account(oauth_imap_server.user, ServerSettings(oauth_imap_server.host, oauth_imap_server.ssl_port,
                                                             "ssl", cafile=oauth_imap_server.cafile), auth="oauth2")
    AccountStore().put(account)
    first = TokenSet.from_response(oauth_server.issue(oauth_imap_server.user), oauth_server.token_endpoint,
                                   "klezguard-test")
    oauth.save_tokens(account.key, first)
    app = App(QApplication.instance())
    window = app.window
    qtbot.addWidget(window)
    said: list[str] = []
    window.said.connect(said.append)
    try:
        qtbot.waitUntil(lambda: idle(window) and any("Watching" in t for t in said), timeout=30000)
        for button in ("Sign in again", "Sign in with a code"):
            before = oauth.load_tokens(account.key)
            window.stop_watching()  # (paused) only the watcher meets the withdrawn grant when it reconnects
            oauth_server.revoke_all()
            seen: list[str] = []
            press_in_next_box(button, seen)
            said.clear()
            window.start_watching()
            if button == "Sign in with a code":  # the code is shown; the user types it on a phone
                qtbot.waitUntil(lambda: getattr(app, "code_box", None) is not None, timeout=20000)
                code_text = app.code_box.text()
                user_code = oauth_server.pending_devices()[0]
                assert user_code in code_text and "/activate" in code_text
                oauth_server.approve_device(user_code, oauth_imap_server.user)
            qtbot.waitUntil(lambda: any("Watching" in t for t in said), timeout=30000)
            assert "no longer accepts" in seen[0] and "password" not in seen[0].lower()
            after = oauth.load_tokens(account.key)
            assert after.refresh_token != before.refresh_token  # the new sign-in, saved
            assert account.key in window.work.watchers and window.work.watchers[account.key].isRunning()
    finally:
        app.close()


def test_the_wizard_offers_no_code_where_the_provider_allows_none_and_says_so(qtbot, oauth_imap_server, oauth_server,
                                                                              tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Google", domains=["brightwater-bakery.com"], device_flow=False))

    def discover(email):
        return Discovery(ServerSettings(oauth_imap_server.host, oauth_imap_server.ssl_port, "ssl",
                                        cafile=oauth_imap_server.cafile), "guess")

    wizard = AccountWizard(discover=discover, open_url=lambda url: False)  # no browser opens here
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.email_page.email, oauth_imap_server.user)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == oauth_imap_server.host, timeout=5000)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.test_page.again.isVisible, timeout=10000)
    assert not wizard.test_page.by_code.isVisible()
    text = wizard.test_page.status.text()
    assert "Google allows signing in to mail only in a browser" in text and "code" not in text.lower()


def test_the_wizard_signs_in_where_the_servers_autoconfig_says_oauth2(qtbot, oauth_imap_server, oauth_server,
                                                                      tmp_path, monkeypatch, isolated_user_dirs):
    """A firm's own domain and a company's own provider: only the autoconfig file the firm publishes says the
    server wants OAuth2 (and from which issuer), so the wizard signs in instead of asking for a password, and
    the account remembers it for signing in again."""
    from PySide6.QtCore import Qt

    from klezguard.application.accounts import add_account
    from klezguard.mail import discovery
    from klezguard.store.db import Store
    from tests.integration.test_oauth2_tokens import autoconfig_xml, serve_once

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "oauth.json", oauth_server, "Company"))
    oauth_server.browser_user, oauth_server.browser_answer = oauth_imap_server.user, ""
    url = serve_once(autoconfig_xml(oauth_imap_server.host, oauth_imap_server.ssl_port, issuer="127.0.0.1"))

    def discover(email):  # the real autoconfig step, at the firm's published address (here on 127.0.0.1)
        return discovery.discover(email, steps=[lambda e: discovery.from_autoconfig(e, urls=(url,), timeout=2)])

    wizard = AccountWizard(discover=discover, open_url=follow_in_browser)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.email_page.email, oauth_imap_server.user)
    assert wizard.email_page.password.isVisible()  # nothing known from the address alone
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.server_page.host.text() == oauth_imap_server.host, timeout=5000)
    assert "published settings" in wizard.server_page.status.text()
    wizard.server_page.cafile.setText(oauth_imap_server.cafile)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.test_page.ok, timeout=20000)
    account = wizard.account()
    assert account.auth == "oauth2" and account.sign_in_issuer == "127.0.0.1"
    add_account(account, wizard.password(), Store(tmp_path / "s.sqlite3"), check_login=False)
    assert AccountStore().get(account.key).sign_in_issuer == "127.0.0.1"
    assert oauth.load_tokens(account.key) is not None
