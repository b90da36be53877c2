"""Threat 1: text from a message must never run as an IMAP command in the user's session.

The old quarantine searched the server with the message's own Message-ID lines; a second
`Message-ID: DELETE Archive` line ran as a command and deleted the Archive folder. Each hostile message
here goes through `scan --quarantine threat`, a plain scan, the app's Move button and `restore --all`
on the real Dovecot; afterwards every other folder and message is exactly as before.
"""

import pytest
from PySide6.QtWidgets import QApplication

from klezguard.application.service import ImapService
from klezguard.cli import main
from klezguard.errors import LoginFailed
from klezguard.gui.mainwindow import MainWindow
from klezguard.mail.connection import connect
from klezguard.mail.safeimap import UnsafeCommand, protect, safe_name
from klezguard.store.db import Store
from tests.gui.conftest import idle
from tests.mailfactory import build
from tests.threat_model.conftest import QUARANTINE, account, census, count, hostile, open_client, server_args

HOSTILE_IDS = {
    "second Message-ID runs a command": b"Message-ID: <x1@evil.example>\nMessage-ID: DELETE Archive",
    "folded line runs a command": b"Message-ID: <x2@evil.example>\n DELETE Archive",
    "bare CR": b"Message-ID: <x3@evil.example>\rA1 DELETE Archive",
    "tagged command after a quote": b'Message-ID: <x4@evil.example>"\nMessage-ID: A2 DELETE "Work"',
    "literal syntax": b"Message-ID: {12}\n <x5@evil.example>",
    "quote and backslash": b'Message-ID: <x6"\\@evil.example> "DELETE Archive',
    "8-bit bytes": "Message-ID: <x7-Grüße@evil.example>".encode("latin-1"),
    "very long": b"Message-ID: <" + b"a" * 6000 + b"@evil.example>",
    "no Message-ID": b"",
    "two plain Message-IDs": b"Message-ID: <x9@evil.example>\nMessage-ID: <x10@evil.example>",
}


def seed(imap) -> None:
    imap.create_folder("Archive")
    imap.create_folder("Work")
    imap.multiappend("Archive", [build(subject=f"Archived {n}") for n in range(5)])
    imap.multiappend("Work", [build(subject=f"Work {n}") for n in range(2)])
    imap.multiappend("INBOX", [build(subject="Lunch"), build(subject="Invoice 7")])
    imap.multiappend("INBOX", [hostile(lines, subject=name) for name, lines in HOSTILE_IDS.items()])


def test_hostile_message_ids_through_the_command_line(imap_server, mailbox, monkeypatch, capsys):
    seed(mailbox)
    before = census(mailbox)
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)

    assert main(["scan", *server_args(imap_server), "--quarantine", "threat"]) == 1
    assert count(mailbox, QUARANTINE) == len(HOSTILE_IDS)  # every hostile message moved, nothing else
    after = census(mailbox)
    assert after["Archive"] == before["Archive"] and after["Work"] == before["Work"]
    assert len(after["INBOX"]) == 2

    assert main(["scan", *server_args(imap_server)]) == 0  # a later plain scan changes nothing
    assert census(mailbox) == after
    assert main(["quarantine", "list", *server_args(imap_server)]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if "\t" in line]) == len(HOSTILE_IDS)

    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0
    assert census(mailbox) == before
    assert count(mailbox, QUARANTINE) == 0
    assert not Store().journal.entries(imap_server.user, ("moving", "restoring"))


def test_hostile_message_ids_through_the_move_button(qtbot, imap_server, mailbox, store):
    seed(mailbox)
    before = census(mailbox)
    service = ImapService(account(imap_server), store, password=imap_server.password)
    window = MainWindow(store, {service.key: service})
    qtbot.addWidget(window)
    window.show()
    window.scan_all()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 2 + len(HOSTILE_IDS), timeout=20000)
    window.select_view("threats")
    qtbot.waitUntil(lambda: window.model.rowCount() == len(HOSTILE_IDS))
    window.table.setFocus()
    window.table.selectAll()
    window.quarantine_action.trigger()  # what the Move button and Ctrl+M do
    qtbot.waitUntil(lambda: idle(window) and window.undo_button.isVisible(), timeout=20000)
    assert count(mailbox, QUARANTINE) == len(HOSTILE_IDS)
    after = census(mailbox)
    assert after["Archive"] == before["Archive"] and after["Work"] == before["Work"]
    window.undo_button.click()
    qtbot.waitUntil(lambda: idle(window) and count(mailbox, QUARANTINE) == 0, timeout=20000)
    assert census(mailbox) == before
    window.shutdown()
    service.close()
    QApplication.processEvents()


@pytest.mark.parametrize("value", ["x\r\nA1 DELETE Archive", "x\nDELETE Archive", "x\rDELETE Archive", "x\x00y"])
def test_the_guard_refuses_any_argument_with_a_line_break(imap_server, mailbox, value):
    mailbox.create_folder("Archive")
    client = open_client(imap_server)
    client.select_folder("INBOX")
    with pytest.raises(UnsafeCommand):
        client.search(["HEADER", "Message-ID", value])  # imapclient's own writer
    with pytest.raises(UnsafeCommand):
        client._imap._simple_command("EXAMINE", value)  # imaplib's writer (SELECT, COPY, MOVE, LOGIN ...)
    with pytest.raises(UnsafeCommand):
        safe_name("INBOX" + value)  # folder names from settings or a server are checked before use
    assert client.noop()  # the session is still in step: nothing half-sent
    client.logout()
    assert "Archive" in census(mailbox)


def test_a_password_with_a_line_break_is_never_sent(imap_server, mailbox):
    acct = account(imap_server)
    with pytest.raises(LoginFailed) as caught:
        connect(acct.server, "secret\r\nA1 DELETE Archive", email=acct.email, allow_plain=True)
    assert "secret" not in caught.value.text() + caught.value.detail


def test_guard_is_on_every_connection_klezguard_opens(imap_server, mailbox):
    client = open_client(imap_server)
    assert getattr(client, "_klezguard_guarded", False)
    assert protect(client) is client  # installing it twice changes nothing
    client.logout()
