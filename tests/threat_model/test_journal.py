"""Threat 4: one odd message or one bad journal entry must never brick quarantine, list or restore.

Two `klezguard scan --quarantine threat` runs at once (separate processes, one store) leave one entry
per message; an entry that can no longer be restored is reported and skipped while the others go back;
a copy removed from the quarantine folder by another mail program is reconciled as gone.
"""

import os
import subprocess
import sys

from klezguard.cli import main
from klezguard.mail.quarantine import Quarantine
from klezguard.store.db import Store
from tests.mailfactory import build
from tests.threat_model.conftest import QUARANTINE, account, census, count, hostile, open_client, server_args

THREATS = [hostile(f"Message-ID: <t{n}@evil.example>".encode(), subject=f"Threat {n}") for n in range(12)]
ODD = [hostile(b"Message-ID: <odd-\xe9\xff@evil.example>", subject="8-bit id"),
       hostile(b"Message-ID: <a@evil.example>\nMessage-ID: <b@evil.example>", subject="two ids")]


def _cli(args: list[str]) -> subprocess.Popen:
    code = "import sys; from klezguard.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_two_runs_at_once_leave_one_entry_per_message(imap_server, mailbox, monkeypatch):
    mailbox.multiappend("INBOX", [*THREATS, *ODD, build(subject="Lunch")])
    before = census(mailbox)
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    runs = [_cli(["scan", *server_args(imap_server), "--quarantine", "threat"]) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode in (0, 1) for run in runs), [(run.returncode, err[-1500:]) for run, (_, err) in
                                                            zip(runs, results, strict=True)]
    assert count(mailbox, QUARANTINE) == len(THREATS) + len(ODD)
    entries = Store().journal.entries(imap_server.user)
    assert len(entries) == len(THREATS) + len(ODD)
    assert len({e.target_uid for e in entries}) == len(entries)
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0
    assert census(mailbox) == before


def test_an_entry_that_cannot_be_restored_is_skipped_and_the_rest_come_back(imap_server, mailbox, monkeypatch,
                                                                          capsys):
    mailbox.multiappend("INBOX", THREATS[:4])
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["scan", *server_args(imap_server), "--quarantine", "threat"]) == 1
    store = Store()
    entries = store.journal.entries(imap_server.user)
    broken = entries[1]
    store.journal.update(broken.id, fingerprint="0" * 64)  # no longer matches the copy it points at
    capsys.readouterr()
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 2
    err = capsys.readouterr().err
    assert "not restored" in err and "Threat" in err
    assert count(mailbox, "INBOX") == 3 and count(mailbox, QUARANTINE) == 1  # kept, never deleted
    assert store.journal.get(broken.id).state == "gone"
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0  # nothing blocks the next run


def test_a_copy_deleted_in_another_program_is_reconciled(imap_server, mailbox, store):
    mailbox.multiappend("INBOX", THREATS[:3])
    client = open_client(imap_server)
    quarantine = Quarantine(client, account(imap_server), store)
    client.select_folder("INBOX")
    validity = int(client.folder_status("INBOX", [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    for uid in client.search("ALL"):
        quarantine.move("INBOX", validity, uid)
    mailbox.select_folder(QUARANTINE)
    first = min(mailbox.search("ALL"))
    mailbox.delete_messages([first])
    mailbox.expunge()
    mailbox.unselect_folder()
    quarantine.recover()
    assert len(quarantine.entries()) == 2
    assert [e.target_uid for e in store.journal.entries(account(imap_server).key, ("gone",))] == [first]
    client.logout()


def test_an_unfinished_entry_that_fails_is_reported_not_raised(imap_server, mailbox, store):
    mailbox.multiappend("INBOX", THREATS[:2])
    key = account(imap_server).key
    bogus = store.journal.add(key, state="moving", message_id="<x@evil>", source_folder="Gone\tFolder",
                              source_uidvalidity=1, source_uid=1, flags="", target_folder="No such folder",
                              target_uidvalidity=1, target_uidnext=1, subject="Lost", from_display="",
                              size=10, internaldate="", fingerprint="f" * 64)
    client = open_client(imap_server)
    quarantine = Quarantine(client, account(imap_server), store)
    quarantine.recover()  # does not raise
    assert store.journal.get(bogus.id).state in ("missing", "moving")
    client.logout()


def test_an_entry_an_older_version_left_moving_is_closed_without_a_command(imap_server, mailbox, monkeypatch,
                                                                           capsys):
    """The old journal kept the injected Message-ID and sent it again on every run. Upgraded, that entry
    is closed with a note; nothing of it reaches the server."""
    import sqlite3
    import time

    from klezguard.store.db import MIGRATIONS, default_path

    mailbox.create_folder("Archive")
    mailbox.multiappend("Archive", [build(subject=f"Archived {n}") for n in range(5)])
    before = census(mailbox)
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path)
    for statement in [*MIGRATIONS[0], *MIGRATIONS[1]]:
        old.execute(statement)
    old.execute("PRAGMA user_version = 2")
    old.execute("INSERT INTO quarantine (account, message_id, state, source_folder, source_uidvalidity, source_uid, "
                "target_folder, created_at, updated_at) VALUES (?, ?, 'moving', 'INBOX', 1, 1, ?, ?, ?)",
                (imap_server.user, "<x@evil>\r\nMessage-ID: DELETE Archive", QUARANTINE, time.time(), time.time()))
    old.commit()
    old.close()
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["quarantine", "list", *server_args(imap_server)]) == 0
    assert "older KlezGuard" in capsys.readouterr().err
    assert census(mailbox) == before
    assert [e.state for e in Store().journal.entries(imap_server.user, ("missing",))] == ["missing"]


def test_restore_all_goes_on_when_an_original_folder_cannot_be_opened(imap_server, mailbox, monkeypatch, capsys):
    """Archive deleted while Archive/2024 is kept: Archive is still listed (\\Noselect) but cannot be opened.
    Its message goes back to INBOX, and the others come back too, with no traceback."""
    mailbox.create_folder("Archive")
    mailbox.create_folder("Archive/2024")
    mailbox.append("Archive", THREATS[0])
    mailbox.multiappend("INBOX", THREATS[1:3])
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["scan", *server_args(imap_server), "--folder", "INBOX", "--folder", "Archive",
                 "--quarantine", "threat"]) == 1
    mailbox.delete_folder("Archive")
    capsys.readouterr()
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0
    assert "went back to INBOX" in capsys.readouterr().err
    assert count(mailbox, "INBOX") == 3 and count(mailbox, QUARANTINE) == 0


def test_the_apps_restore_retried_after_a_cut_reports_success(imap_server, mailbox, store):
    """The connection drops right after the server carried out the restore's MOVE: the app reconnects,
    recovery finishes the restore, and the retried call reports it done rather than an error."""
    from klezguard.application.quarantine import Target
    from klezguard.application.service import ImapService
    from tests.integration.relay import CuttingRelay

    mailbox.multiappend("INBOX", THREATS[:2])
    relay = CuttingRelay(imap_server.port)
    service = ImapService(account(imap_server, relay.port), store, password=imap_server.password)
    validity = int(mailbox.folder_status("INBOX", [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    mailbox.select_folder("INBOX", readonly=True)
    uids = sorted(mailbox.search("ALL"))
    mailbox.unselect_folder()
    moved = service.quarantine([Target("INBOX", validity, uid) for uid in uids]).done
    relay.after.append(b"UID MOVE")
    run = service.restore([entry.id for entry in moved])
    assert [entry.state for entry in run.done] == ["restored", "restored"] and run.failed == []
    service.close()
    assert count(mailbox, "INBOX") == 2 and count(mailbox, QUARANTINE) == 0
    relay.close()


def _cut_store(fraction: float) -> None:
    from klezguard.store.db import default_path

    path = default_path()
    Store().close()  # everything written is in the main file now (WAL checkpointed on close)
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(int(size * fraction))


def test_a_damaged_store_is_put_aside_and_the_quarantine_rebuilt_from_the_server(imap_server, mailbox,
                                                                               monkeypatch, capsys):
    """Half the database cut away: it is put aside under a new name, a new one starts, the user is told,
    and every quarantined message is listed again (and restored to the folder it came from)."""
    mailbox.create_folder("Archive")
    mailbox.multiappend("INBOX", THREATS[:3])
    mailbox.append("Archive", THREATS[3])
    before = census(mailbox)
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["scan", *server_args(imap_server), "--folder", "INBOX", "--folder", "Archive",
                 "--quarantine", "threat"]) == 1
    _cut_store(0.5)
    capsys.readouterr()
    assert main(["quarantine", "list", *server_args(imap_server)]) == 0
    out, err = capsys.readouterr()
    assert "damaged" in err and "put aside" in err and "lists them again" in err
    assert len([line for line in out.splitlines() if "\t" in line]) == 4
    from klezguard.store.db import default_path

    assert list(default_path().parent.glob("klezguard.sqlite3.damaged-*"))
    assert main(["quarantine", "restore", *server_args(imap_server), "--all"]) == 0
    assert census(mailbox) == before  # Archive's message went back to Archive


def test_an_emptied_store_is_noticed_and_the_quarantine_rebuilt(imap_server, mailbox, monkeypatch, capsys):
    mailbox.multiappend("INBOX", THREATS[:2])
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert main(["scan", *server_args(imap_server), "--quarantine", "threat"]) == 1
    _cut_store(0.0)
    capsys.readouterr()
    assert main(["quarantine", "list", *server_args(imap_server)]) == 0
    out, err = capsys.readouterr()
    assert "emptied" in err and len([line for line in out.splitlines() if "\t" in line]) == 2


def test_a_store_damaged_while_in_use_is_called_damaged_not_a_full_disk(tmp_path):
    import sqlite3

    store = Store(tmp_path / "s.sqlite3")
    assert "damaged" in store._error(sqlite3.DatabaseError("database disk image is malformed")).what
    assert "disk is full" in store._error(sqlite3.OperationalError("database or disk is full")).what
