"""OAuth2 accounts (issue 12, first part: the IMAP login and the tokens) against a real Dovecot whose
XOAUTH2/OAUTHBEARER logins are checked by a token introspection endpoint on 127.0.0.1.

What a sign-in gives is a token set; these tests hand it over as the sign-in would, and check the rest:
login with the token, silent refresh when it runs out or the server turns it down, a withdrawn grant
leading to "sign in again" (exit status 2 on the command line, never a password prompt), and tokens kept
nowhere but in the keyring."""

import json
import time

import imapclient
import pytest

from klezguard.cli import main
from klezguard.errors import SignInAgain
from klezguard.mail import oauth
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.mail.connection import connect
from klezguard.mail.oauth import AccessToken, TokenSet, TokenSource
from tests.integration.oauthserver import provider_file
from tests.mailfactory import build

KLEZ = build(subject="Your statement", message_id="<klez-oauth@test.example>",
             attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])


def settings_of(server) -> ServerSettings:
    return ServerSettings(server.host, server.ssl_port, "ssl", cafile=server.cafile)


def signed_in(oauth_server, server, lifetime=3600) -> TokenSet:
    answer = oauth_server.issue(server.user, lifetime)
    return TokenSet.from_response(answer, oauth_server.token_endpoint, "klezguard-test")


def account_of(server) -> Account:
    return Account(server.user, settings_of(server), auth="oauth2")


def test_a_token_logs_in_with_oauthbearer_and_a_dead_one_never_falls_back_to_a_password(
        oauth_imap_server, oauth_server):
    tokens = signed_in(oauth_server, oauth_imap_server)
    client = connect(settings_of(oauth_imap_server), TokenSource("k", ready=AccessToken(tokens.access_token)),
                     email=oauth_imap_server.user)
    assert client.select_folder("INBOX") is not None
    client.logout()
    with pytest.raises(SignInAgain) as caught:
        connect(settings_of(oauth_imap_server), TokenSource("k", ready=AccessToken("a-not-a-real-token")),
                email=oauth_imap_server.user)
    assert "Sign in again" in caught.value.text() and "a-not-a-real-token" not in caught.value.text()


def test_a_used_up_token_is_refreshed_before_login_and_saved_in_the_keyring(oauth_imap_server, oauth_server,
                                                                             isolated_user_dirs):
    tokens = signed_in(oauth_server, oauth_imap_server)
    tokens.expires_at = time.time() + 10  # within the margin: counts as used up
    oauth.save_tokens("acct", tokens)
    before = oauth_server.refreshes
    source = TokenSource.for_account("acct")
    connect(settings_of(oauth_imap_server), source, email=oauth_imap_server.user).logout()
    assert oauth_server.refreshes == before + 1
    saved = oauth.load_tokens("acct")
    assert saved is not None and saved.access_token != tokens.access_token and saved.fresh()
    assert saved.refresh_token == tokens.refresh_token


def test_a_token_the_server_turns_down_is_renewed_once_without_the_user_noticing(oauth_imap_server, oauth_server):
    tokens = signed_in(oauth_server, oauth_imap_server)
    oauth_server.expire(tokens.access_token)  # the provider ended it early; our clock says it is fresh
    oauth.save_tokens("acct", tokens)
    source = TokenSource.for_account("acct")
    connect(settings_of(oauth_imap_server), source, email=oauth_imap_server.user).logout()
    assert oauth.load_tokens("acct").access_token != tokens.access_token


def test_a_withdrawn_grant_says_sign_in_again(oauth_imap_server, oauth_server):
    tokens = signed_in(oauth_server, oauth_imap_server)
    oauth.save_tokens("acct", tokens)
    oauth_server.revoke_all()
    with pytest.raises(SignInAgain) as caught:
        connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user)
    assert "no longer accepts" in caught.value.text() and "Sign in again" in caught.value.text()


def test_a_slow_provider_is_waited_for_within_the_deadline(oauth_imap_server, oauth_server):
    tokens = signed_in(oauth_server, oauth_imap_server)
    tokens.expires_at = time.time()
    oauth.save_tokens("acct", tokens)
    oauth_server.delay = 1.0
    try:
        connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()
    finally:
        oauth_server.delay = 0.0


def test_the_command_line_scans_with_a_ready_token_and_says_sign_in_again_with_exit_2(
        oauth_imap_server, oauth_server, monkeypatch, capsys, tmp_path):
    seed = imapclient.IMAPClient(oauth_imap_server.host, port=oauth_imap_server.port, ssl=False)
    seed.login(oauth_imap_server.user, oauth_imap_server.password)
    seed.append("INBOX", KLEZ)
    seed.logout()
    server = ["--host", oauth_imap_server.host, "--port", str(oauth_imap_server.ssl_port), "--security", "ssl",
              "--cafile", oauth_imap_server.cafile, "--auth", "oauth2"]
    token = oauth_server.issue(oauth_imap_server.user)["access_token"]
    monkeypatch.setenv("KLEZGUARD_ACCESS_TOKEN", token)
    code = main(["scan", oauth_imap_server.user, *server, "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 1 and any(r["verdict"] == "threat" for r in lines)
    monkeypatch.setenv("KLEZGUARD_ACCESS_TOKEN", "a-withdrawn")
    assert main(["scan", oauth_imap_server.user, *server]) == 2
    err = capsys.readouterr().err
    assert "Sign in again" in err and "Password" not in err and "Traceback" not in err
    monkeypatch.delenv("KLEZGUARD_ACCESS_TOKEN")
    assert main(["scan", oauth_imap_server.user, *server]) == 2
    assert "no sign-in for this account" in capsys.readouterr().err


def test_an_oauth2_account_keeps_its_tokens_only_in_the_keyring(oauth_imap_server, oauth_server, monkeypatch,
                                                                  capsys, tmp_path, isolated_user_dirs):
    token = oauth_server.issue(oauth_imap_server.user)["access_token"]
    monkeypatch.setenv("KLEZGUARD_ACCESS_TOKEN", token)
    assert main(["account", "add", oauth_imap_server.user, "--host", oauth_imap_server.host, "--port",
                 str(oauth_imap_server.ssl_port), "--security", "ssl", "--cafile", oauth_imap_server.cafile,
                 "--auth", "oauth2"]) == 0
    assert AccountStore().get(oauth_imap_server.user).auth == "oauth2"
    tokens = signed_in(oauth_server, oauth_imap_server)
    oauth.save_tokens(oauth_imap_server.user.lower(), tokens)  # as the sign-in will
    monkeypatch.delenv("KLEZGUARD_ACCESS_TOKEN")
    assert main(["scan", oauth_imap_server.user]) in (0, 1)
    for folder in (tmp_path / "config", tmp_path / "data"):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert token.encode() not in data and tokens.access_token.encode() not in data
                assert tokens.refresh_token.encode() not in data, path
    assert any(tokens.refresh_token in v for v in isolated_user_dirs.items.values())


# --- signing in ----------------------------------------------------------------------------------------------
def local_provider(oauth_server):
    from klezguard.mail.signin import Provider

    return Provider("local", "Local", oauth_server.url + "/authorize", oauth_server.token_endpoint,
                    oauth_server.url + "/device", "https://mail.test/imap offline_access", "klezguard-test")


def follow_in_browser(url: str) -> None:
    """The browser: it opens the sign-in page, the user signs in, and the page sends it to the redirect."""
    import threading

    import requests

    threading.Thread(target=lambda: requests.get(url, timeout=10), daemon=True).start()


def test_browser_sign_in_with_pkce_then_scan_with_the_saved_tokens(oauth_imap_server, oauth_server):
    from klezguard.mail.signin import sign_in_with_browser

    oauth_server.browser_user, oauth_server.browser_answer = oauth_imap_server.user, ""
    opened: list[str] = []

    def browser(url: str) -> None:
        opened.append(url)
        follow_in_browser(url)

    tokens = sign_in_with_browser(local_provider(oauth_server), login_hint=oauth_imap_server.user, open_url=browser,
                                  wait=20)
    assert "code_challenge=" in opened[0] and "code_challenge_method=S256" in opened[0]
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened[0]
    oauth.save_tokens("acct", tokens)
    connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()


def test_a_user_who_says_no_or_closes_the_browser_gets_a_plain_message(oauth_server):
    from klezguard.mail.signin import sign_in_with_browser

    oauth_server.browser_answer = "access_denied"
    try:
        with pytest.raises(SignInAgain) as said_no:
            sign_in_with_browser(local_provider(oauth_server), open_url=follow_in_browser, wait=20)
    finally:
        oauth_server.browser_answer = ""
    assert "did not give KlezGuard access" in said_no.value.text()
    with pytest.raises(SignInAgain) as closed:
        sign_in_with_browser(local_provider(oauth_server), open_url=lambda url: None, wait=0.5)  # never comes back
    assert "did not finish" in closed.value.text()


def test_device_code_sign_in_waits_for_the_user_then_works(oauth_imap_server, oauth_server):
    from klezguard.mail.signin import finish_device_sign_in, start_device_sign_in

    provider = local_provider(oauth_server)
    code = start_device_sign_in(provider)
    assert code.user_code and code.verification_uri.endswith("/activate")
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the user types the code while KlezGuard waits the first time
        waits.append(seconds)
        oauth_server.approve_device(code.user_code, oauth_imap_server.user)

    tokens = finish_device_sign_in(provider, code, sleep=sleep)
    assert waits == [1.0]
    source = TokenSource("acct", tokens)
    connect(settings_of(oauth_imap_server), source, email=oauth_imap_server.user).logout()
    denied = start_device_sign_in(provider)
    oauth_server.approve_device(denied.user_code, oauth_imap_server.user, deny=True)
    with pytest.raises(SignInAgain):
        finish_device_sign_in(provider, denied, sleep=lambda s: None)


def test_the_providers_that_want_oauth2_and_a_missing_registration_is_explained(monkeypatch):
    from klezguard.errors import KnownError
    from klezguard.mail.signin import configured, provider_for

    assert provider_for("anna@outlook.com").name == "microsoft"
    assert provider_for("anna@firm.example", "outlook.office365.com").name == "microsoft"
    assert provider_for("anna@gmail.com").name == "google"
    assert provider_for("anna@firm.example", "imap.firm.example") is None
    monkeypatch.delenv("KLEZGUARD_OAUTH_CLIENT_ID", raising=False)
    with pytest.raises(KnownError) as caught:
        configured(provider_for("anna@outlook.com"))
    assert "KLEZGUARD_OAUTH_CLIENT_ID" in caught.value.text()
    monkeypatch.setenv("KLEZGUARD_OAUTH_CLIENT_ID", "my-company-app")
    monkeypatch.setenv("KLEZGUARD_OAUTH_TENANT", "contoso.onmicrosoft.com")
    provider = configured(provider_for("anna@outlook.com"))
    assert provider.client_id == "my-company-app" and "/contoso.onmicrosoft.com/" in provider.token_url


def test_account_add_signs_in_with_a_device_code_and_keeps_the_tokens_in_the_keyring(
        oauth_imap_server, oauth_server, monkeypatch, capsys, tmp_path, isolated_user_dirs):
    """The command line as a company would run it on a server without a browser: its own provider file."""
    import threading

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "oauth.json", oauth_server, "Company", hosts=[oauth_imap_server.host]))
    monkeypatch.delenv("KLEZGUARD_ACCESS_TOKEN", raising=False)
    stop = threading.Event()

    def user_types_the_code() -> None:
        while not stop.is_set():
            for user_code in oauth_server.pending_devices():
                oauth_server.approve_device(user_code, oauth_imap_server.user)
            time.sleep(0.05)

    helper = threading.Thread(target=user_types_the_code, daemon=True)
    helper.start()
    try:
        code = main(["account", "add", oauth_imap_server.user, "--host", oauth_imap_server.host, "--port",
                     str(oauth_imap_server.ssl_port), "--security", "ssl", "--cafile", oauth_imap_server.cafile,
                     "--auth", "oauth2", "--device"])
    finally:
        stop.set()
    err = capsys.readouterr().err
    assert code == 0, err
    assert "enter the code" in err and "/activate" in err
    saved = oauth.load_tokens(oauth_imap_server.user.lower())
    assert saved is not None and saved.refresh_token
    assert main(["scan", oauth_imap_server.user]) in (0, 1)  # the saved sign-in, no prompt


def test_scan_quarantine_restore_and_watch_with_an_oauth2_account(oauth_imap_server, oauth_server, tmp_path):
    """The use cases end to end with a saved sign-in whose access token runs out between them."""
    import queue
    import threading

    from klezguard.application.quarantine import entry_ids_of, target_of
    from klezguard.application.service import ImapService
    from klezguard.application.watch import watch_account
    from klezguard.store.db import Store

    seed = imapclient.IMAPClient(oauth_imap_server.host, port=oauth_imap_server.port, ssl=False)
    seed.login(oauth_imap_server.user, oauth_imap_server.password)
    seed.select_folder("INBOX")
    if seed.search("ALL"):
        seed.delete_messages(seed.search("ALL"))
        seed.expunge()
    seed.append("INBOX", build(subject="Quarterly statement", message_id="<q-oauth@test.example>",
                               attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)]))
    tokens = signed_in(oauth_server, oauth_imap_server)
    oauth.save_tokens(oauth_imap_server.user.lower(), tokens)
    account = account_of(oauth_imap_server)
    store = Store(tmp_path / "s.sqlite3")
    service = ImapService(account, store)
    found = service.scan()
    threat = next(s for s in found if s.result.verdict == "threat")
    oauth_server.expire(oauth.load_tokens(account.key).access_token)  # runs out before the move
    service.close()
    row = next(r for r in store.messages(account=account.key) if r.subject == "Quarterly statement")
    moved = service.quarantine([target_of(row)])
    assert len(moved.done) == 1 and threat.message.subject == "Quarterly statement"
    service.close()
    quarantined = [r for r in store.messages(account=account.key) if r.folder == account.quarantine_folder]
    restored = service.restore(entry_ids_of(store, account.key, quarantined))
    assert len(restored.done) == 1
    service.close()
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    def sign_in_and_connect():  # as the app's watcher does at each (re)connect
        return connect(account.server, TokenSource.for_account(account.key), email=account.email)

    thread = threading.Thread(target=watch_account, args=(sign_in_and_connect, account, store, events.put, stop),
                              kwargs={"poll_every": 0.5, "backoff": (0.2, 0.5)}, daemon=True)
    thread.start()
    try:
        while events.get(timeout=10).kind != "watching":
            pass
        seed.append("INBOX", KLEZ)
        while (event := events.get(timeout=10)).kind != "new":
            pass
        assert event.scanned.result.verdict == "threat"
    finally:
        stop.set()
        thread.join(10)
        seed.logout()
    assert oauth_server.refreshes >= 1


def test_the_apps_scanning_helper_process_signs_in_with_the_tokens_and_reports_a_withdrawn_grant(
        oauth_imap_server, oauth_server, tmp_path):
    """The app scans in a helper process: the sign-in travels there, a token renewed there without a keyring
    stays in memory, and a withdrawn grant comes back as SignInAgain (so the window offers Sign in again)."""
    from klezguard.application.scanprocess import ScanProcess

    tokens = signed_in(oauth_server, oauth_imap_server)
    tokens.expires_at = time.time()  # used up: renewed in the helper
    scans = ScanProcess()
    try:
        count, _flagged, _notes = scans.scan(account_of(oauth_imap_server), TokenSource("acct", tokens),
                                             str(tmp_path / "s.sqlite3"))
        oauth_server.revoke_all()
        with pytest.raises(SignInAgain):
            scans.scan(account_of(oauth_imap_server), TokenSource("acct", signed_in_revoked(oauth_server)),
                       str(tmp_path / "s.sqlite3"))
    finally:
        scans.close()
    assert count >= 0


def signed_in_revoked(oauth_server) -> TokenSet:
    return TokenSet(access_token="a-gone", refresh_token="r-gone", expires_at=time.time() - 10,
                    token_endpoint=oauth_server.token_endpoint, client_id="klezguard-test")


# --- from a review ------------------------------------------------------------------------------------------
def test_review_findings_stay_fixed(oauth_server, oauth_imap_server, monkeypatch, tmp_path):
    import threading

    import requests

    from klezguard.application.accounts import oauth_provider, remove_account
    from klezguard.errors import InsecureConnection
    from klezguard.mail.signin import sign_in_with_browser
    from klezguard.store.db import Store

    # a removed account takes its sign-in's tokens with it
    AccountStore().put(account_of(oauth_imap_server))
    oauth.save_tokens(oauth_imap_server.user.lower(), signed_in(oauth_server, oauth_imap_server))
    assert remove_account(oauth_imap_server.user.lower(), Store(tmp_path / "s.sqlite3")) == ""
    assert oauth.load_tokens(oauth_imap_server.user.lower()) is None
    # a token never goes over an unencrypted connection
    plain = ServerSettings(oauth_imap_server.host, oauth_imap_server.port, "plain")
    with pytest.raises(InsecureConnection):
        connect(plain, TokenSource("k", ready=AccessToken("a-x")), email=oauth_imap_server.user, allow_plain=True)
    # without a registration, Gmail keeps its password (app password) path; a hand-typed server gets no token
    monkeypatch.delenv("KLEZGUARD_OAUTH_CLIENT_ID", raising=False)
    assert oauth_provider("anna@gmail.com") == ""
    monkeypatch.setenv("KLEZGUARD_OAUTH_CLIENT_ID", "x")
    assert oauth_provider("anna@gmail.com") == "Google"
    assert oauth_provider("anna@gmail.com", "imap.somewhere-else.example") == ""
    # a stray or forged request to the loopback listener neither stalls nor ends the sign-in
    oauth_server.browser_user, oauth_server.browser_answer = oauth_imap_server.user, ""

    def browser(url: str) -> None:
        from urllib.parse import parse_qs, urlparse

        redirect = parse_qs(urlparse(url).query)["redirect_uri"][0]
        port = urlparse(redirect).port

        def stray_then_real() -> None:
            import socket

            idle = socket.create_connection(("127.0.0.1", port))  # says nothing
            try:
                requests.get(f"http://127.0.0.1:{port}/evil?code=x&state=guess", timeout=10)
                requests.get(url, timeout=10)
            finally:
                idle.close()

        threading.Thread(target=stray_then_real, daemon=True).start()

    tokens = sign_in_with_browser(local_provider(oauth_server), open_url=browser, wait=30)
    assert tokens.access_token
