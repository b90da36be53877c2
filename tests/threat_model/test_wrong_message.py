"""Threats 2 and 3: quarantine must never expunge a message it has not positively identified.

Identical copies of one message (same headers, same size) in several folders, a copy already in
quarantine, a folder re-created under a journal entry so that an unrelated message now has the
journaled UID: in each case every message survives, at worst twice. The connection is cut before and
after each command of a move by a relay on 127.0.0.1, with the look-alike copies present.
"""

import pytest

from klezguard.application.scan import Scanner
from klezguard.cli import main
from klezguard.errors import KnownError
from klezguard.mail.quarantine import KEYWORD, Quarantine
from tests.integration.relay import CuttingRelay
from tests.mailfactory import build
from tests.threat_model.conftest import QUARANTINE, account, census, count, hostile, open_client, server_args

TWIN = hostile(b"Message-ID: <twin@evil.example>", subject="Twin")
OTHER = build(subject="Unrelated, must survive", message_id="<unrelated@test.example>")


def scanned_uid(server, store, folder: str) -> tuple[int, int]:
    client = open_client(server)
    Scanner(client, account(server), store).scan_folder(folder)
    client.logout()
    row = next(m for m in store.messages(folder=folder) if m.subject == "Twin")
    return row.uidvalidity, row.uid


def test_the_same_message_in_two_folders_comes_back_to_both(imap_server, mailbox, monkeypatch):
    mailbox.create_folder("Archive")
    mailbox.append("INBOX", TWIN)
    mailbox.append("Archive", TWIN)
    before = census(mailbox)
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["scan", *server_args(imap_server), "--folder", "INBOX", "--folder", "Archive",
                 "--quarantine", "threat"]) == 1
    assert count(mailbox, QUARANTINE) == 2
    assert census(mailbox)["INBOX"] == [] and census(mailbox)["Archive"] == []
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0
    assert census(mailbox) == before


def _commands_of_a_move(server, store, relay, folder="INBOX") -> list[bytes]:
    validity, uid = scanned_uid(server, store, folder)
    client = open_client(server, relay.port)
    relay.arm(None)
    Quarantine(client, account(server, relay.port), store).move(folder, validity, uid)
    commands = list(relay.commands)
    client.logout()
    return commands


def _put_back(server, store) -> None:
    client = open_client(server)
    q = Quarantine(client, account(server), store)
    for entry in q.entries():
        q.restore(entry.id)
    client.logout()


def _cut_move(server, store, relay, cut_at: int, mode: str, without_move: bool, folder="INBOX") -> bool:
    validity, uid = scanned_uid(server, store, folder)
    client = open_client(server, relay.port)
    q = Quarantine(client, account(server, relay.port), store)
    if without_move:
        q.capabilities.discard("MOVE")
    return relay.cut_during(client, lambda: q.move(folder, validity, uid), cut_at, mode)


def _recover(server, store, without_move: bool) -> Quarantine:
    client = open_client(server)
    q = Quarantine(client, account(server), store)
    if without_move:
        q.capabilities.discard("MOVE")
    q.recover()
    client.logout()
    return q


@pytest.mark.parametrize("without_move", [False, True], ids=["MOVE", "COPY+UID EXPUNGE"])
def test_cut_anywhere_with_look_alike_copies_loses_nothing(imap_server, mailbox, store, without_move):
    """A twin already in quarantine and another in Archive: after a cut at any command, and recovery,
    the two copies are exactly twice in INBOX or quarantine, and the twin in Archive is untouched."""
    mailbox.create_folder("Archive")
    mailbox.create_folder(QUARANTINE)
    mailbox.append("INBOX", TWIN)
    mailbox.append("Archive", TWIN)
    mailbox.append(QUARANTINE, TWIN, flags=[KEYWORD])  # left there by an earlier run or another program
    relay = CuttingRelay(imap_server.port)
    commands = _commands_of_a_move(imap_server, store, relay)
    assert (b"UID COPY" if without_move else b"UID MOVE") in commands or without_move
    _put_back(imap_server, store)
    twin = census(mailbox)["Archive"]
    for cut_at in range(1, len(commands) + 3):
        for mode in ("before", "after"):
            _cut_move(imap_server, store, relay, cut_at, mode, without_move)
            during = census(mailbox, skip=())
            assert len(during["INBOX"]) + len(during[QUARANTINE]) >= 2, (cut_at, mode, during)  # never lost
            _recover(imap_server, store, without_move)
            after = census(mailbox, skip=())
            assert after["Archive"] == twin, (cut_at, mode)
            assert len(after["INBOX"]) + len(after[QUARANTINE]) == 2, (cut_at, mode, after)
            _put_back(imap_server, store)  # the old twin, which carries our keyword, is adopted and comes back too
    relay.close()


@pytest.mark.parametrize("command", [b"UID MOVE", b"UID COPY"])
def test_a_cut_before_the_move_never_expunges_the_original_beside_a_quarantined_twin(
        imap_server, mailbox, store, command):
    mailbox.create_folder(QUARANTINE)
    mailbox.append("INBOX", TWIN)
    mailbox.append(QUARANTINE, TWIN, flags=[KEYWORD])
    relay = CuttingRelay(imap_server.port)
    without_move = command == b"UID COPY"
    if without_move:
        validity, uid = scanned_uid(imap_server, store, "INBOX")
        client = open_client(imap_server, relay.port)
        q = Quarantine(client, account(imap_server, relay.port), store)
        q.capabilities.discard("MOVE")
        relay.arm(None)
        q.move("INBOX", validity, uid)
        commands = list(relay.commands)
        client.logout()
        _put_back(imap_server, store)
    else:
        commands = _commands_of_a_move(imap_server, store, relay)
        _put_back(imap_server, store)
    cut_at = commands.index(command) + 1
    assert _cut_move(imap_server, store, relay, cut_at, "before", without_move)
    _recover(imap_server, store, without_move)
    after = census(mailbox, skip=())
    assert len(after["INBOX"]) == 1 and len(after[QUARANTINE]) == 1  # the original was kept
    relay.close()


@pytest.mark.parametrize("command", [b"UID MOVE", b"UID COPY"])
@pytest.mark.parametrize("same_uidvalidity", [False, True], ids=["new UIDVALIDITY", "reused UIDVALIDITY"])
def test_a_recreated_folder_keeps_the_message_that_now_has_the_journaled_uid(
        imap_server, mailbox, store, command, same_uidvalidity):
    """The move dies right after the server did it; the folder is then deleted and created again, and an
    unrelated message gets the UID of the journal entry. Recovery must leave it alone, whether the server
    gave the new folder a new UIDVALIDITY or (as a careless migration might) the old one."""
    mailbox.create_folder("Work")
    mailbox.append("Work", TWIN)
    relay = CuttingRelay(imap_server.port)
    without_move = command == b"UID COPY"
    validity, uid = scanned_uid(imap_server, store, "Work")
    client = open_client(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), store)
    if without_move:
        q.capabilities.discard("MOVE")
    relay.arm(None)
    q.move("Work", validity, uid)
    cut_at = relay.commands.index(command) + 1
    client.logout()
    _put_back(imap_server, store)
    mailbox.select_folder("Work")
    validity, uid = scanned_uid(imap_server, store, "Work")
    mailbox.unselect_folder()

    assert _cut_move(imap_server, store, relay, cut_at, "after", without_move, folder="Work")
    mailbox.delete_folder("Work")
    mailbox.create_folder("Work")
    new_validity = int(mailbox.folder_status("Work", [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    filler = max(0, uid - 1)
    if filler:
        mailbox.multiappend("Work", [build(subject=f"Filler {n}") for n in range(filler)])
    mailbox.append("Work", OTHER)
    mailbox.select_folder("Work", readonly=True)
    assert uid in mailbox.search(["HEADER", "Message-ID", "<unrelated@test.example>"])  # it has that UID now
    mailbox.unselect_folder()
    entry = store.journal.entries(account(imap_server).key, ("moving",))[0]
    if same_uidvalidity:
        store.journal.update(entry.id, source_uidvalidity=new_validity)

    q = _recover(imap_server, store, without_move)
    after = census(mailbox, skip=())
    assert len(after["Work"]) == filler + 1  # the unrelated message is still there
    assert len(after[QUARANTINE]) == 1  # and the moved one is in quarantine
    done = store.journal.get(entry.id)
    assert done.state in ("quarantined", "copied")
    relay.close()
    assert q.entries()


def _uidvalidity(imap, folder: str) -> int:
    return int(imap.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


def _uids(imap, folder: str) -> list[int]:
    imap.select_folder(folder, readonly=True)
    uids = sorted(imap.search("ALL"))
    imap.unselect_folder()
    return uids


def test_a_refused_move_is_undone_at_once_and_never_claims_its_twins_copy(imap_server, mailbox, store):
    """The server refuses a MOVE (a full mailbox); in the same session the user moves the message's twin
    from Archive. The refused entry must not take the twin's copy for its own and expunge its original."""
    mailbox.create_folder("Archive")
    mailbox.append("INBOX", TWIN)
    mailbox.append("Archive", TWIN)
    relay = CuttingRelay(imap_server.port)
    client = open_client(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), store)
    relay.refusing.append(b"UID MOVE")
    with pytest.raises(KnownError, match="refused"):
        q.move("INBOX", _uidvalidity(mailbox, "INBOX"), _uids(mailbox, "INBOX")[0])
    assert q.move("Archive", _uidvalidity(mailbox, "Archive"), _uids(mailbox, "Archive")[0]).state == "quarantined"
    q.recover()
    client.logout()
    after = census(mailbox, skip=())
    assert len(after["INBOX"]) == 1 and len(after[QUARANTINE]) == 1 and after["Archive"] == []
    relay.close()


def test_a_refused_restore_never_claims_its_twins_restored_copy(imap_server, mailbox, store):
    mailbox.create_folder(QUARANTINE)
    mailbox.append("INBOX", TWIN)
    mailbox.append("INBOX", TWIN)
    client = open_client(imap_server)
    q = Quarantine(client, account(imap_server), store)
    validity = _uidvalidity(mailbox, "INBOX")
    one, two = _uids(mailbox, "INBOX")
    first, second = q.move("INBOX", validity, one), q.move("INBOX", validity, two)
    client.logout()
    relay = CuttingRelay(imap_server.port)
    client = open_client(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), store)
    relay.refusing.append(b"UID MOVE")
    with pytest.raises(KnownError, match="refused"):
        q.restore(first.id)
    assert q.restore(second.id).state == "restored"
    q.recover()
    client.logout()
    after = census(mailbox, skip=())
    assert len(after["INBOX"]) == 1 and len(after[QUARANTINE]) == 1
    assert store.journal.get(first.id).state == "quarantined"
    relay.close()


def test_a_passing_refusal_during_recovery_leaves_the_entry_for_next_time(imap_server, mailbox, store):
    """The MOVE happened but its answer was lost; then the server refuses one SELECT. The entry must stay
    unfinished (not be closed as missing), and the next connect finishes it."""
    mailbox.append("INBOX", TWIN)
    relay = CuttingRelay(imap_server.port)
    client = open_client(imap_server, relay.port)
    q = Quarantine(client, account(imap_server, relay.port), store)
    relay.after.append(b"UID MOVE")
    with pytest.raises(KnownError):
        q.move("INBOX", _uidvalidity(mailbox, "INBOX"), _uids(mailbox, "INBOX")[0])
    client.shutdown()
    relay.refusing.append(b"SELECT")
    second = open_client(imap_server, relay.port)
    again = Quarantine(second, account(imap_server, relay.port), store)
    again.recover()
    second.logout()
    assert again.problems and store.journal.entries(account(imap_server).key, ("moving",))
    third = open_client(imap_server)
    final = Quarantine(third, account(imap_server), store)
    final.recover()
    third.logout()
    assert [e.state for e in final.entries()] == ["quarantined"]
    assert len(census(mailbox, skip=())[QUARANTINE]) == 1
    relay.close()


def test_a_message_marked_for_deletion_is_left_alone(imap_server, mailbox, store):
    mailbox.append("INBOX", TWIN, flags=["\\Deleted"])
    uids = _uids(mailbox, "INBOX")
    client = open_client(imap_server)
    with pytest.raises(KnownError, match="marked for deletion"):
        Quarantine(client, account(imap_server), store).move("INBOX", _uidvalidity(mailbox, "INBOX"), uids[0])
    client.logout()
    assert _uids(mailbox, "INBOX") == uids and not census(mailbox, skip=()).get(QUARANTINE)
