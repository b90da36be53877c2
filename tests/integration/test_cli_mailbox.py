"""The command line against a real Dovecot: accounts, scan, quarantine and restore."""

import io
import json

import pytest

from klezguard.cli import main
from klezguard.mail.accounts import AccountStore
from tests.mailfactory import build

KLEZ = build(subject="Your statement", message_id="<klez@test.example>",
             attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])
CLEAN = build(subject="Lunch", message_id="<lunch@test.example>")


@pytest.fixture
def inbox(empty_mailbox):
    empty_mailbox.multiappend("INBOX", [CLEAN, KLEZ])
    return empty_mailbox


def server_args(server):
    return ["--host", server.host, "--port", str(server.port), "--security", "plain"]


def test_account_add_list_remove(imap_server, monkeypatch, capsys, isolated_user_dirs):
    monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
    assert main(["account", "add", imap_server.user, *server_args(imap_server)]) == 0
    assert isolated_user_dirs.get_password("KlezGuard", imap_server.user) == imap_server.password
    saved = (AccountStore().path).read_text()
    assert imap_server.password not in saved  # the password lives only in the keyring
    assert main(["account", "list"]) == 0
    assert imap_server.user in capsys.readouterr().out
    assert main(["account", "remove", imap_server.user]) == 0
    assert isolated_user_dirs.get_password("KlezGuard", imap_server.user) is None
    assert AccountStore().load() == []


def test_account_add_with_wrong_password_explains(imap_server, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(["account", "add", imap_server.user, *server_args(imap_server)]) == 2
    err = capsys.readouterr().err
    assert "did not accept the user name or password" in err
    assert AccountStore().load() == []


def test_plain_without_explicit_choice_is_refused(imap_server, monkeypatch, capsys):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    # STARTTLS on the plain port works; asking for TLS on the plain port fails with a clear message
    code = main(["scan", imap_server.user, "--host", imap_server.host, "--port", str(imap_server.port),
                 "--security", "ssl"])
    assert code == 2
    assert "secure connection" in capsys.readouterr().err


def test_scan_json_and_quarantine_then_restore_without_saved_account(imap_server, inbox, monkeypatch, capsys):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    args = [imap_server.user, *server_args(imap_server)]
    code = main(["scan", *args, "--json", "--quarantine", "threat"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert {r["subject"]: r["verdict"] for r in rows} == {"Lunch": "clean", "Your statement": "threat"}
    assert all(r["source"].startswith("imap://owner%40brightwater-bakery.com@127.0.0.1/INBOX;UID=") for r in rows)
    inbox.select_folder("KlezGuard Quarantine", readonly=True)
    assert len(inbox.search("ALL")) == 1
    assert main(["quarantine", "list", *args]) == 0
    listed = capsys.readouterr().out.strip().split("\t")
    assert listed[1] == "INBOX" and listed[3] == "Your statement"
    assert main(["quarantine", "restore", *args[:1], listed[0], *args[1:]]) == 0
    inbox.select_folder("INBOX", readonly=True)
    assert len(inbox.search(["HEADER", "Message-ID", "<klez@test.example>"])) == 1
    # the restored message keeps its verdict and is not reported as new again
    capsys.readouterr()
    assert main(["scan", *args, "--json"]) == 0
    assert capsys.readouterr().out == ""
