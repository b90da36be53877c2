"""Shared pieces of the threat-model tests (docs/threat-model.md): a mailbox reset to a known state on
the real Dovecot, a census of every folder and message on it, and hostile messages."""

import hashlib

import imapclient
import pytest

from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.connection import connect
from tests.mailfactory import build

STANDARD = ("INBOX", "Sent", "Junk", "Trash")
QUARANTINE = "KlezGuard Quarantine"
PLACEHOLDER = b"Message-ID: <placeholder@hostile.example>"


def hostile(header_lines: bytes, subject: str = "Your statement", threat: bool = True) -> bytes:
    """A message whose Message-ID lines are exactly `header_lines` (raw bytes, line breaks and all).
    With `threat`, it carries a Windows program posing as a sound file, so it is judged a threat."""
    attachments = [("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)] if threat else []
    raw = build(subject=subject, message_id="<placeholder@hostile.example>", attachments=attachments)
    assert PLACEHOLDER in raw
    return raw.replace(PLACEHOLDER, header_lines) if header_lines else raw.replace(PLACEHOLDER + b"\n", b"")


def reset(imap: imapclient.IMAPClient) -> None:
    """Every folder but the standard ones removed, the standard ones emptied."""
    names = [name for _flags, _delim, name in imap.list_folders() if name not in STANDARD]
    for name in sorted(names, key=lambda n: -n.count("/")):  # children first
        try:
            imap.delete_folder(name)
        except imapclient.exceptions.IMAPClientError:
            pass  # a parent deleted with a child kept is only a name (\Noselect); it goes with the child
    for folder in STANDARD:
        imap.select_folder(folder)
        uids = imap.search("ALL")
        if uids:
            imap.delete_messages(uids)
            imap.expunge()
    imap.unselect_folder()


def census(imap: imapclient.IMAPClient, skip: tuple[str, ...] = (QUARANTINE,)) -> dict[str, list[str]]:
    """Folder -> sorted digests of its live messages (header block and size), for every folder."""
    found = {}
    for _flags, _delim, name in imap.list_folders():
        if name in skip:
            continue
        try:
            imap.select_folder(name, readonly=True)
        except imapclient.exceptions.IMAPClientError:
            continue  # only a name: a deleted parent whose child was kept
        uids = imap.search("ALL")
        digests = []
        for data in imap.fetch(uids, ["BODY.PEEK[HEADER]", "RFC822.SIZE", "FLAGS"]).values() if uids else []:
            if b"\\Deleted" in data[b"FLAGS"]:
                continue
            digests.append(hashlib.sha256(data[b"BODY[HEADER]"] + str(data[b"RFC822.SIZE"]).encode()).hexdigest())
        found[name] = sorted(digests)
    imap.unselect_folder()
    return found


def count(imap: imapclient.IMAPClient, folder: str) -> int:
    return len(census(imap, skip=()).get(folder, []))


@pytest.fixture
def mailbox(imap):
    """The test account on the real Dovecot, reset; returns an independent imapclient connection."""
    reset(imap)
    yield imap
    reset(imap)


def account(server, port: int | None = None) -> Account:
    return Account(server.user, ServerSettings(server.host, port or server.port, "plain", server.user),
                   allow_plain=True)


def open_client(server, port: int | None = None) -> imapclient.IMAPClient:
    acct = account(server, port)
    return connect(acct.server, server.password, email=acct.email, allow_plain=True)


def server_args(server) -> list[str]:
    return [server.user, "--host", server.host, "--port", str(server.port), "--security", "plain"]


@pytest.fixture
def store(tmp_path):
    from klezguard.store.db import Store

    return Store(tmp_path / "threats.sqlite3")
