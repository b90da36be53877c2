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
