"""OAuth2 tokens, from a second review (issue 12): one refresh at a time per account across processes,
small keyring entries, Google's client secret and its refusal of code sign-in, and revocation when an
account is removed. Against the local authorization server and the real Dovecot that checks its tokens."""

import json
import multiprocessing
import threading
import time

import pytest

from klezguard.cli import main
from klezguard.errors import KnownError, SignInAgain
from klezguard.mail import oauth
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.mail.connection import connect
from klezguard.mail.oauth import TokenSet, TokenSource
from tests.integration.oauthserver import provider_file


@pytest.fixture
def auth(oauth_server):
    """The session's authorization server, back to its defaults after the test."""
    yield oauth_server
    oauth_server.reset()


def settings_of(server) -> ServerSettings:
    return ServerSettings(server.host, server.ssl_port, "ssl", cafile=server.cafile)


def signed_in(oauth_server, user, lifetime=3600, **more) -> TokenSet:
    return TokenSet.from_response(oauth_server.issue(user, lifetime), oauth_server.token_endpoint, "klezguard-test",
                                  **more)


# --- 1. one refresh at a time -------------------------------------------------------------------------------
def _refresh_in_another_process(keyring_file: str, account_key: str, start, answers) -> None:
    """A KlezGuard process (the watcher's app, the scan helper, a terminal) that finds the token used up."""
    from tests.integration import filekeyring

    filekeyring.use(keyring_file)
    source = TokenSource.for_account(account_key)
    start.wait(30)
    try:
        answers.put(("ok", source.current().value))
    except KnownError as exc:
        answers.put(("error", exc.text()))


def test_two_processes_that_find_the_token_used_up_refresh_it_once(auth, oauth_imap_server, tmp_path,
                                                                     monkeypatch):
    """The provider rotates refresh tokens and refuses a used one; two processes want a new access token at
    the same moment. One refreshes; the other waits for it and takes the renewed tokens from the keyring
    (two refreshes would have sent the old refresh token twice, and the second would say 'sign in again')."""
    from tests.integration import filekeyring

    keyring_file = str(tmp_path / "keyring.json")
    filekeyring.use(keyring_file)
    tokens = signed_in(auth, oauth_imap_server.user)
    tokens.expires_at = time.time() + 5  # within the margin: used up
    oauth.save_tokens("acct", tokens)
    auth.rotate, auth.refresh_delay = True, 0.5  # each refresh takes a while: the two overlap
    before = auth.refreshes
    context = multiprocessing.get_context("spawn")
    start, answers = context.Event(), context.Queue()
    workers = [context.Process(target=_refresh_in_another_process, args=(keyring_file, "acct", start, answers))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(1.5)  # both have read the used-up tokens
    start.set()
    results = [answers.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert results[0][1] == results[1][1] != tokens.access_token
    assert auth.refreshes == before + 1
    saved = oauth.load_tokens("acct")
    assert saved.refresh_token != tokens.refresh_token and saved.access_token == results[0][1]
    connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()


def test_threads_that_find_a_token_turned_down_refresh_it_once(auth, oauth_imap_server, isolated_user_dirs):
    """The server turned the token down (the watcher and the worker of the app, at once): one refresh."""
    tokens = signed_in(auth, oauth_imap_server.user)
    oauth.save_tokens("acct", tokens)
    auth.rotate, auth.refresh_delay = True, 0.3
    auth.expire(tokens.access_token)
    before = auth.refreshes
    sources = [TokenSource.for_account("acct") for _ in range(3)]
    got: list[str] = []
    errors: list[Exception] = []

    def login(source: TokenSource) -> None:
        try:
            connect(settings_of(oauth_imap_server), source, email=oauth_imap_server.user).logout()
            got.append(source.tokens.access_token)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(set(got)) == 1 and auth.refreshes == before + 1


def test_tokens_renewed_in_the_scan_helper_come_back_and_are_saved(auth, oauth_imap_server, isolated_user_dirs,
                                                                    tmp_path, monkeypatch):
    """The scanning helper process has no keyring at hand: tokens it renewed travel back, and the app saves
    them (with rotating refresh tokens, the ones it held are used up)."""
    from klezguard.application.scanprocess import ScanProcess

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")  # the helper: no keyring
    account = Account(oauth_imap_server.user, settings_of(oauth_imap_server), auth="oauth2")
    tokens = signed_in(auth, oauth_imap_server.user)
    tokens.expires_at = time.time()
    oauth.save_tokens(account.key, tokens)
    auth.rotate = True
    scans = ScanProcess()
    try:
        scans.scan(account, TokenSource.for_account(account.key), str(tmp_path / "s.sqlite3"))
    finally:
        scans.close()
    saved = oauth.load_tokens(account.key)
    assert saved.refresh_token != tokens.refresh_token
    auth.expire(saved.access_token)  # the app's next login renews with the saved, rotated refresh token
    connect(settings_of(oauth_imap_server), TokenSource.for_account(account.key), email=account.email).logout()


# --- 2. small keyring entries -------------------------------------------------------------------------------
WINDOWS_LIMIT = 2500  # bytes: Credential Manager takes 2,560 a secret, stored as UTF-16


def test_a_4kb_access_token_is_kept_in_small_keyring_entries_and_works(auth, oauth_imap_server,
                                                                        isolated_user_dirs):
    auth.access_size = 4096
    tokens = signed_in(auth, oauth_imap_server.user)
    assert len(tokens.access_token) == 4096
    oauth.save_tokens("acct", tokens)
    stored = {k: v for k, v in isolated_user_dirs.items.items() if k[1].startswith("oauth2:acct")}
    assert len(stored) > 1 and all(len(v.encode("utf-16-le")) <= WINDOWS_LIMIT for v in stored.values())
    assert oauth.load_tokens("acct") == tokens
    connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()
    auth.expire(tokens.access_token)  # renewed (another 4 KB token), saved in pieces again, the old ones gone
    connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()
    stored = {k: v for k, v in isolated_user_dirs.items.items() if k[1].startswith("oauth2:acct")}
    assert all(len(v.encode("utf-16-le")) <= WINDOWS_LIMIT for v in stored.values())
    assert not any(tokens.access_token[:40] in v for v in stored.values())
    oauth.delete_tokens("acct")
    assert not [k for k in isolated_user_dirs.items if k[1].startswith("oauth2:acct")]


def test_a_sign_in_saved_whole_by_an_earlier_version_still_loads_and_a_damaged_one_asks_to_sign_in(
        isolated_user_dirs):
    from dataclasses import asdict

    old = TokenSet("a-old", "r-old", time.time() + 3600, "https://login.example/token", "client")
    isolated_user_dirs.set_password("KlezGuard", "oauth2:acct", json.dumps(asdict(old)))
    assert oauth.load_tokens("acct") == old
    oauth.save_tokens("acct", old)
    piece = next(k for k in isolated_user_dirs.items if k[1].startswith("oauth2:acct:"))
    isolated_user_dirs.items[piece] = "damaged"
    assert oauth.load_tokens("acct") is None
    with pytest.raises(SignInAgain):
        TokenSource.for_account("acct")


# --- 3. Google: a client secret, and no sign-in with a code -------------------------------------------------
def test_a_desktop_client_secret_is_sent_where_the_provider_wants_it(auth, oauth_imap_server, tmp_path,
                                                                     monkeypatch, isolated_user_dirs):
    from klezguard.mail.signin import configured, providers, sign_in_with_browser
    from tests.integration.test_oauth2 import follow_in_browser

    auth.client_secrets["klezguard-test"] = "GOCSPX-not-so-secret"
    auth.browser_user = oauth_imap_server.user
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "auth.json", auth, "Desktop"))
    monkeypatch.delenv("KLEZGUARD_OAUTH_CLIENT_SECRET", raising=False)
    with pytest.raises(KnownError) as refused:
        sign_in_with_browser(configured(providers()["desktop"]), open_url=follow_in_browser, wait=20)
    assert "does not accept KlezGuard's app registration" in refused.value.text()
    monkeypatch.setenv("KLEZGUARD_OAUTH_CLIENT_SECRET", "GOCSPX-not-so-secret")
    tokens = sign_in_with_browser(configured(providers()["desktop"]), open_url=follow_in_browser, wait=20)
    oauth.save_tokens("acct", tokens)
    monkeypatch.delenv("KLEZGUARD_OAUTH_CLIENT_SECRET")
    auth.expire(tokens.access_token)  # a refresh needs the secret too: it is kept with the sign-in
    connect(settings_of(oauth_imap_server), TokenSource.for_account("acct"), email=oauth_imap_server.user).logout()
    # or in the provider file
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "auth.json", auth, "Desktop",
                                                               client_secret="GOCSPX-not-so-secret"))
    assert sign_in_with_browser(configured(providers()["desktop"]), open_url=follow_in_browser, wait=20).access_token


def test_google_allows_no_code_sign_in_and_says_so_plainly(auth, oauth_imap_server, tmp_path, monkeypatch, capsys,
                                                           isolated_user_dirs):
    from klezguard.mail.signin import provider_for

    assert provider_for("anna@gmail.com").device_flow is False and provider_for("anna@outlook.com").device_flow
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(
        tmp_path / "auth.json", auth, "Google", hosts=[oauth_imap_server.host], device_flow=False))
    monkeypatch.delenv("KLEZGUARD_ACCESS_TOKEN", raising=False)
    asked = len(auth.devices)
    code = main(["account", "add", oauth_imap_server.user, "--host", oauth_imap_server.host, "--port",
                 str(oauth_imap_server.ssl_port), "--security", "ssl", "--cafile", oauth_imap_server.cafile,
                 "--auth", "oauth2", "--device"])
    err = capsys.readouterr().err
    assert code == 2 and "Google does not let programs sign in to mail with a code" in err
    assert "in a browser" in err and "Traceback" not in err and len(auth.devices) == asked


# --- 5. removing an account revokes its grant --------------------------------------------------------------
def test_removing_an_account_revokes_its_grant_without_waiting_for_the_provider(auth, oauth_imap_server, tmp_path,
                                                                                isolated_user_dirs):
    from klezguard.application.accounts import remove_account
    from klezguard.store.db import Store

    account = Account(oauth_imap_server.user, settings_of(oauth_imap_server), auth="oauth2")
    AccountStore().put(account)
    tokens = signed_in(auth, oauth_imap_server.user, revocation_endpoint=auth.url + "/revoke")
    oauth.save_tokens(account.key, tokens)
    auth.hold_revocation = threading.Event()  # the provider takes its time
    try:
        assert remove_account(account.key, Store(tmp_path / "s.sqlite3")) == ""
        assert AccountStore().load() == [] and oauth.load_tokens(account.key) is None  # removed meanwhile
        assert tokens.refresh_token not in auth.revoked
    finally:
        auth.hold_revocation.set()
    deadline = time.monotonic() + 10
    while tokens.refresh_token not in auth.revoked and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tokens.refresh_token in auth.revoked
    with pytest.raises(SignInAgain):  # the grant is gone at the provider too
        oauth.refresh(tokens)


def test_the_command_line_removes_an_account_whose_provider_cannot_revoke(auth, oauth_imap_server, capsys,
                                                                          isolated_user_dirs):
    account = Account(oauth_imap_server.user, settings_of(oauth_imap_server), auth="oauth2")
    for endpoint in ("", "http://127.0.0.1:9/revoke"):  # Microsoft has none; a provider that cannot be reached
        AccountStore().put(account)
        oauth.save_tokens(account.key, signed_in(auth, oauth_imap_server.user, revocation_endpoint=endpoint))
        revoked = len(auth.revoked)
        assert main(["account", "remove", account.email]) == 0
        assert "Removed" in capsys.readouterr().out and oauth.load_tokens(account.key) is None
        assert len(auth.revoked) == revoked


def test_a_sign_in_keeps_where_its_provider_revokes(auth, oauth_imap_server, tmp_path, monkeypatch):
    from klezguard.mail.signin import configured, providers, sign_in_with_browser
    from tests.integration.test_oauth2 import follow_in_browser

    auth.browser_user = oauth_imap_server.user
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "auth.json", auth, "Google-like",
                                                               revocation_url=auth.url + "/revoke"))
    tokens = sign_in_with_browser(configured(providers()["google-like"]), open_url=follow_in_browser, wait=20)
    assert tokens.revocation_endpoint == auth.url + "/revoke"
    assert oauth.revoke(tokens) and tokens.refresh_token in auth.revoked
    assert providers()["google"].revocation_url.startswith("https://") and not providers()["microsoft"].revocation_url


# --- 4. watching stops and says so when the grant is withdrawn ----------------------------------------------
def test_watching_stops_at_a_withdrawn_grant_and_the_command_line_exits_2(oauth_imap_server, capsys, monkeypatch):
    from klezguard.mail.watch import Watcher

    account = Account(oauth_imap_server.user, settings_of(oauth_imap_server), auth="oauth2")
    events = []
    stop = threading.Event()
    timer = threading.Timer(10, stop.set)  # (without the fix it would retry until stopped)
    timer.start()

    def withdrawn():
        raise SignInAgain("Your mail provider no longer accepts KlezGuard's sign-in.", "Sign in again.")

    Watcher(withdrawn, account, lambda client: list, events.append, stop, backoff=(0.1,)).run()
    timer.cancel()
    assert [e.kind for e in events] == ["sign_in", "stopped"] and not stop.is_set()
    monkeypatch.setenv("KLEZGUARD_ACCESS_TOKEN", "a-withdrawn")
    code = main(["watch", oauth_imap_server.user, "--host", oauth_imap_server.host, "--port",
                 str(oauth_imap_server.ssl_port), "--security", "ssl", "--cafile", oauth_imap_server.cafile,
                 "--auth", "oauth2"])
    err = capsys.readouterr().err
    assert code == 2 and "Sign in again" in err and "Traceback" not in err


# --- 6. autoconfig saying OAuth2 ----------------------------------------------------------------------------
def autoconfig_xml(host: str, port: int, issuer: str = "", token_url: str = "", auth: str = "OAuth2") -> bytes:
    block = (f"<oAuth2><issuer>{issuer}</issuer><scope>https://mail.test/imap</scope>"
             f"<tokenURL>{token_url}</tokenURL></oAuth2>") if issuer or token_url else ""
    return (f'<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="bakery.example">'
            f'<domain>brightwater-bakery.com</domain><incomingServer type="imap"><hostname>{host}</hostname>'
            f"<port>{port}</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username>"
            f"<authentication>{auth}</authentication></incomingServer></emailProvider>{block}"
            f"</clientConfig>").encode()


def serve_once(body: bytes) -> str:
    """An autoconfig file served on 127.0.0.1, as a provider publishes it."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/mail/config-v1.1.xml"


def test_an_autoconfig_file_that_says_oauth2_makes_the_account_sign_in_with_its_provider(
        auth, oauth_imap_server, tmp_path, monkeypatch):
    """A company's own provider (its provider file names neither its domain nor its server): the autoconfig
    file it publishes says OAuth2 and names the issuer, so KlezGuard signs in instead of asking a password."""
    from klezguard.application.accounts import oauth_provider
    from klezguard.mail import discovery
    from klezguard.mail.signin import provider_for

    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "oauth.json", auth, "Company"))
    email, host = oauth_imap_server.user, oauth_imap_server.host
    for xml, said in [(autoconfig_xml(host, oauth_imap_server.ssl_port, issuer="127.0.0.1"), "127.0.0.1"),
                      (autoconfig_xml(host, oauth_imap_server.ssl_port, token_url=auth.token_endpoint), "127.0.0.1"),
                      (autoconfig_xml(host, oauth_imap_server.ssl_port), "*"),
                      (autoconfig_xml(host, oauth_imap_server.ssl_port, auth="password-cleartext"), "")]:
        found = discovery.from_autoconfig(email, urls=(serve_once(xml),), timeout=2)
        assert found.source == "autoconfig" and found.settings.host == host and found.sign_in == said
    assert provider_for(email, host) is None  # neither the address nor the server say it
    assert provider_for(email, host, "127.0.0.1").name == "company"
    assert oauth_provider(email, host, "127.0.0.1") == "Company" and oauth_provider(email, host, "*") == ""
    assert provider_for(email, host, "login.elsewhere.example") is None


# --- 7. the provider table says OAuth2 for Gmail and Outlook.com --------------------------------------------
def test_the_provider_table_says_oauth2_as_the_sign_in_settings_do_and_keeps_the_password_path(monkeypatch):
    from pathlib import Path

    from klezguard.mail import discovery, signin

    table = {e["name"]: e for e in discovery._providers()}
    shipped = signin.providers()
    for name, provider in (("Gmail", "google"), ("Outlook.com", "microsoft")):
        entry = table[name]
        sign_in = shipped[entry["oauth2"]["provider"]]
        assert entry["oauth2"]["provider"] == provider and entry["oauth2"]["scope"] == sign_in.scope
        assert entry["host"] in sign_in.hosts and set(entry["domains"]) <= set(sign_in.domains)
    monkeypatch.delenv("KLEZGUARD_OAUTH_CLIENT_ID", raising=False)
    found = discovery.from_table("anna@gmail.com")  # no registration: the password path, an app password
    assert found.settings.host == "imap.gmail.com" and "app password" in found.note
    monkeypatch.setenv("KLEZGUARD_OAUTH_CLIENT_ID", "my-company-app")
    assert discovery.from_table("anna@gmail.com").note == ""  # it signs in with Google
    # the table never judges mail, so it lives outside klezguard/data, whose files make the engine's version:
    # changing it re-judges no stored message
    package = Path(discovery.__file__).parents[1]
    assert (package / "resources" / "providers.json").exists() and not (package / "data" / "providers.json").exists()
    assert not any("providers.json" in p.read_text() for p in (package / "rules").rglob("*.py"))


def test_microsoft_gets_the_localhost_redirect_entra_matches(auth, oauth_imap_server, tmp_path, monkeypatch):
    """Entra matches a registered http://localhost on any port but on its path: for Microsoft the redirect is
    http://localhost:PORT/ (the random state still ties the answer to this sign-in)."""
    from urllib.parse import parse_qs, urlparse

    from klezguard.mail.signin import configured, providers, sign_in_with_browser
    from tests.integration.test_oauth2 import follow_in_browser

    assert providers()["microsoft"].redirect == "http://localhost/" and providers()["google"].redirect == ""
    auth.browser_user = oauth_imap_server.user
    monkeypatch.setenv("KLEZGUARD_OAUTH_CONFIG", provider_file(tmp_path / "oauth.json", auth, "Entra-like",
                                                               redirect="http://localhost/"))
    opened: list[str] = []

    def browser(url: str) -> None:
        opened.append(url)
        follow_in_browser(url)

    tokens = sign_in_with_browser(configured(providers()["entra-like"]), open_url=browser, wait=20)
    redirect = urlparse(parse_qs(urlparse(opened[0]).query)["redirect_uri"][0])
    assert redirect.hostname == "localhost" and redirect.port and redirect.path == "/"
    connect(settings_of(oauth_imap_server), TokenSource("k", tokens), email=oauth_imap_server.user).logout()


def test_the_test_authorization_server_checks_pkce_the_redirect_and_plain_challenges(auth, oauth_imap_server):
    """The local server is Authlib's server side: what a provider checks, it checks (so the tests mean it)."""
    import base64
    import hashlib
    from urllib.parse import parse_qs, urlencode, urlparse

    import requests

    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:9/cb"
    auth.browser_user = oauth_imap_server.user

    def code(method: str = "S256") -> requests.Response:
        query = {"response_type": "code", "client_id": "klezguard-test", "redirect_uri": redirect,
                 "scope": "https://mail.test/imap", "state": "s", "code_challenge": challenge,
                 "code_challenge_method": method}
        return requests.get(f"{auth.url}/authorize?{urlencode(query)}", allow_redirects=False, timeout=10)

    def token(answer: requests.Response, **changes) -> requests.Response:
        issued = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": issued, "client_id": "klezguard-test",
                "redirect_uri": redirect, "code_verifier": verifier, **changes}
        return requests.post(auth.token_endpoint, data=form, timeout=10)

    assert token(code(), code_verifier="w" * 64).json()["error"] == "invalid_grant"
    assert token(code(), redirect_uri="http://127.0.0.1:9/elsewhere").json()["error"] == "invalid_grant"
    assert token(code()).json()["access_token"]
    assert code("plain").status_code == 400
