"""Quarantine on a real Dovecot: a move and a restore never lose mail, wherever the connection dies.

A relay between client and server cuts the connection before each command of a move (and of a
restore) reaches the server, and again after the server carried it out but before the client heard
back. After each cut every message must exist at least once; after `recover()` exactly once, where
it belongs, with its flags.
"""

import imapclient
import pytest

from klezguard.application.scan import Scanner
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.quarantine import KEYWORD, Quarantine
from klezguard.store.db import Store
from tests.integration.relay import CuttingRelay
from tests.mailfactory import build

FOLDER = "KlezGuard Quarantine"
MESSAGES = [build(subject=f"Message {i}", message_id=f"<m{i}@test.example>") for i in range(4)]
IDS = [f"<m{i}@test.example>" for i in range(4)]


def account(server, port=None) -> Account:
    return Account(server.user, ServerSettings(server.host, port or server.port, "plain", server.user),
                   allow_plain=True)


def connect(server, port=None) -> imapclient.IMAPClient:
    client = imapclient.IMAPClient(server.host, port=port or server.port, ssl=False, timeout=5)
    client.login(server.user, server.password)
    return client


def where(imap) -> dict[str, list[tuple[str, tuple]]]:
    """Message-ID -> [(folder, flags)] of every live (not \\Deleted) copy in INBOX and quarantine."""
    found: dict[str, list] = {m: [] for m in IDS}
    for folder in ("INBOX", FOLDER):
        if not imap.folder_exists(folder):
            continue
        imap.select_folder(folder, readonly=True)
        uids = imap.search("ALL")
        for data in imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]", "FLAGS"]).values():
            raw = next(v for k, v in data.items() if k.startswith(b"BODY[HEADER"))
            mid = raw.decode().partition(":")[2].strip()
            flags = tuple(f.decode() for f in data[b"FLAGS"])
            if "\\Deleted" not in flags:
                found.setdefault(mid, []).append((folder, flags))
    return found


@pytest.fixture
def fresh(imap, tmp_path):
    imap.select_folder("INBOX")
    uids = imap.search("ALL")
    if uids:
        imap.delete_messages(uids)
        imap.expunge()
    if imap.folder_exists(FOLDER):
        imap.delete_folder(FOLDER)
    imap.multiappend("INBOX", MESSAGES)
    imap.select_folder("INBOX")
    imap.add_flags(imap.search(["HEADER", "Message-ID", IDS[1]]), ["\\Seen", "\\Flagged"])
    return Store(tmp_path / "store.sqlite3")


def scan(server, store):
    client = connect(server)
    Scanner(client, account(server), store).scan_folder("INBOX")
    client.logout()
    row = next(m for m in store.messages(folder="INBOX") if m.message_id == IDS[1])
    return row


def test_move_and_restore_keep_folder_and_flags(imap_server, imap, fresh):
    row = scan(imap_server, fresh)
    client = connect(imap_server)
    q = Quarantine(client, account(imap_server), fresh)
    entry = q.move("INBOX", row.uidvalidity, row.uid)
    assert entry.state == "quarantined"
    placed = where(imap)
    assert [f for f, _ in placed[IDS[1]]] == [FOLDER]
    assert KEYWORD in placed[IDS[1]][0][1]
    assert all(len(v) == 1 for v in placed.values())
    assert [e.id for e in q.entries()] == [entry.id]
    restored = q.restore(entry.id)
    assert restored.state == "restored"
    back = where(imap)[IDS[1]]
    assert [f for f, _ in back] == ["INBOX"]
    assert set(back[0][1]) == {"\\Seen", "\\Flagged"}
    client.logout()


def test_without_move_capability_copy_then_expunge_only_that_uid(imap_server, imap, fresh):
    imap.select_folder("INBOX")
    marked_by_user = imap.search(["HEADER", "Message-ID", IDS[2]])
    imap.add_flags(marked_by_user, ["\\Deleted"])  # the user's own pending deletion must survive
    row = scan(imap_server, fresh)
    client = connect(imap_server)
    q = Quarantine(client, account(imap_server), fresh)
    q.capabilities.discard("MOVE")
    q.move("INBOX", row.uidvalidity, row.uid)
    imap.select_folder("INBOX", readonly=True)
    assert imap.search(["HEADER", "Message-ID", IDS[2]]) == marked_by_user  # not expunged by us
    imap.select_folder("INBOX")
    imap.remove_flags(marked_by_user, ["\\Deleted"])
    assert [f for f, _ in where(imap)[IDS[1]]] == [FOLDER]
    client.logout()


def _count_commands(imap_server, fresh, relay, operation, without_move=False) -> int:
    client = connect(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), fresh)
    relay.arm(None)
    if without_move:
        q.capabilities.discard("MOVE")
    operation(q)
    n = relay.count
    client.logout()
    return n


def _cut_and_recover(imap_server, imap, fresh, relay, operation, cut_at, mode, without_move):
    client = connect(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), fresh)
    if without_move:
        q.capabilities.discard("MOVE")
    was_cut = relay.cut_during(client, lambda: operation(q), cut_at, mode)
    placed = where(imap)
    assert all(len(v) >= 1 for v in placed.values()), (cut_at, mode, placed)
    direct = connect(imap_server)
    recovery = Quarantine(direct, account(imap_server), fresh)
    if without_move:
        recovery.capabilities.discard("MOVE")
    recovery.recover()
    direct.logout()
    placed = where(imap)
    assert all(len(v) == 1 for v in placed.values()), (cut_at, mode, placed)
    return placed, was_cut


@pytest.mark.parametrize("without_move", [False, True], ids=["MOVE", "COPY+UID EXPUNGE"])
def test_cut_anywhere_in_a_move_loses_nothing(imap_server, imap, fresh, without_move):
    relay = CuttingRelay(imap_server.port)
    row = scan(imap_server, fresh)

    def move(q):
        q.move("INBOX", row.uidvalidity, row.uid)

    total = _count_commands(imap_server, fresh, relay, move, without_move)
    assert total >= 5
    cuts = 0
    for cut_at in range(1, total + 1):
        for mode in ("before", "after"):
            # put the message back in INBOX with its flags, as a fresh start for this cut
            for entry in Quarantine(imap, account(imap_server), fresh).entries():
                Quarantine(imap, account(imap_server), fresh).restore(entry.id)
            row = scan(imap_server, fresh)  # noqa: F841 - `move` reads it
            placed, was_cut = _cut_and_recover(imap_server, imap, fresh, relay, move, cut_at, mode, without_move)
            assert placed[IDS[1]][0][0] in ("INBOX", FOLDER)
            cuts += was_cut
    # every command of a move was cut both ways, once the folder exists (creating it takes CREATE, SUBSCRIBE
    # and a first SELECT, which only the first move sends)
    assert cuts >= 2 * (total - 3)
    relay.close()


@pytest.mark.parametrize("without_move", [False, True], ids=["MOVE", "COPY+UID EXPUNGE"])
def test_cut_anywhere_in_a_restore_loses_nothing(imap_server, imap, fresh, without_move):
    relay = CuttingRelay(imap_server.port)
    row = scan(imap_server, fresh)
    setup = Quarantine(imap, account(imap_server), fresh)
    entry = setup.move("INBOX", row.uidvalidity, row.uid)

    def restore(q):
        current = q.entries()[0]
        q.restore(current.id)

    total = _count_commands(imap_server, fresh, relay, restore, without_move)
    assert total >= 5
    for cut_at in range(1, total + 1):
        for mode in ("before", "after"):
            placed = where(imap)
            if placed[IDS[1]][0][0] == "INBOX":  # the last round restored it: quarantine it again
                row = scan(imap_server, fresh)
                entry = Quarantine(imap, account(imap_server), fresh).move("INBOX", row.uidvalidity, row.uid)
            placed, was_cut = _cut_and_recover(imap_server, imap, fresh, relay, restore, cut_at, mode, without_move)
            assert was_cut
            if placed[IDS[1]][0][0] == "INBOX":
                assert set(placed[IDS[1]][0][1]) == {"\\Seen", "\\Flagged"}
    assert entry.id
    relay.close()
