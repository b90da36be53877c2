"""Watching a real Dovecot: a new message is judged and reported at once; a dropped connection
is reported in plain words and watching goes on after a reconnect; servers without IDLE are polled."""

import queue
import threading

import imapclient
import pytest

from klezguard.application.watch import watch_account
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.store.db import Store
from tests.integration.relay import CuttingRelay
from tests.mailfactory import build

KLEZ = build(subject="Your statement",
             attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])


def account(server, port) -> Account:
    return Account(server.user, ServerSettings(server.host, port, "plain", server.user), allow_plain=True)


def start(server, store, port=None, poll=False):
    events: queue.Queue = queue.Queue()
    stop = threading.Event()

    def connect():
        client = imapclient.IMAPClient(server.host, port=port or server.port, ssl=False, timeout=5)
        client.login(server.user, server.password)
        if poll:
            client._cached_capabilities = tuple(c for c in client.capabilities() if c != b"IDLE")  # noqa: SLF001
        return client

    thread = threading.Thread(target=watch_account, args=(connect, account(server, port or server.port), store,
                                                          events.put, stop),
                              kwargs={"poll_every": 0.5, "backoff": (0.2, 0.5)}, daemon=True)
    thread.start()
    return events, stop, thread


def next_event(events, kind, timeout=5):
    while True:
        event = events.get(timeout=timeout)
        if event.kind == kind:
            return event


@pytest.mark.parametrize("poll", [False, True], ids=["IDLE", "polling"])
def test_new_message_is_reported(imap_server, empty_mailbox, tmp_path, poll):
    events, stop, thread = start(imap_server, Store(tmp_path / "s.sqlite3"), poll=poll)
    next_event(events, "watching")
    empty_mailbox.append("INBOX", KLEZ)
    event = next_event(events, "new", timeout=4)
    assert event.scanned.message.subject == "Your statement"
    assert event.scanned.result.verdict == "threat"
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_dropped_connection_is_reported_and_watching_resumes(imap_server, empty_mailbox, tmp_path):
    relay = CuttingRelay(imap_server.port)
    events, stop, thread = start(imap_server, Store(tmp_path / "s.sqlite3"), port=relay.port)
    next_event(events, "watching")
    relay.arm(1, "before")  # the next command (DONE or a scan) dies
    empty_mailbox.append("INBOX", KLEZ)
    error = next_event(events, "error")
    assert "lost" in error.text or "connection" in error.text.lower()
    relay.disarm()
    next_event(events, "connected")
    assert next_event(events, "new").scanned.message.subject == "Your statement"
    stop.set()
    thread.join(10)
    relay.close()
