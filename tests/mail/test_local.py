"""Local mail as an account: the demo mailbox on a working copy, quarantine and restore as file moves."""

import mailbox
from pathlib import Path

from klezguard.application.local import scan_mailbox
from klezguard.mail.local import QUARANTINE, LocalMailbox, LocalSource, demo_source
from klezguard.store.db import Store
from tests.mailfactory import build


def test_demo_scan_quarantine_and_restore(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    box = LocalMailbox(demo_source(), store, root=tmp_path / "copy")
    scanned = scan_mailbox(box, store)
    assert len(scanned) == len(list((Path(demo_source().inbox[0])).glob("*.eml")))
    assert scan_mailbox(box, store) == []  # nothing new the second time
    threat = next(s for s in scanned if s.result.verdict == "threat")
    entry = box.move("INBOX", threat.uidvalidity, threat.uid)
    assert entry.state == "quarantined"
    assert [m.subject for m in store.messages(account=box.key, folder=QUARANTINE)] == [threat.message.subject]
    assert len(box._box(QUARANTINE).keys()) == 1
    back = box.restore(entry.id)
    assert back.state == "restored"
    assert len(box._box(QUARANTINE).keys()) == 0
    assert threat.message.subject in [m.subject for m in store.messages(account=box.key, folder="INBOX")]
    assert box.raw("INBOX", back.source_uid).startswith(b"")


def test_the_users_own_files_are_never_changed(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    original = build(subject="Mine", attachments=[("a.pdf.exe", "application/octet-stream", b"MZ" + b"\0" * 50)])
    (folder / "a.eml").write_bytes(original)
    store = Store(tmp_path / "s.sqlite3")
    box = LocalMailbox(LocalSource("Mine", [str(folder)], [], [], []), store, root=tmp_path / "copy")
    (scanned,) = scan_mailbox(box, store)
    box.move("INBOX", scanned.uidvalidity, scanned.uid)
    assert (folder / "a.eml").read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == ["a.eml"]


def test_maildir_flags_are_read_on_every_python(tmp_path):
    """The flags of the user's Maildir reach the working copy and the store (Maildir.get_flags, which
    exists only from Python 3.13, is not used)."""
    source = tmp_path / "Maildir"
    md = mailbox.Maildir(source, create=True)
    seen = mailbox.MaildirMessage(build(subject="Read already"))
    seen.set_flags("SF")
    seen.set_subdir("cur")
    md.add(seen)
    md.add(mailbox.MaildirMessage(build(subject="Unread")))
    store = Store(tmp_path / "s.sqlite3")
    box = LocalMailbox(LocalSource("Mine", [str(source)], [], [], []), store, root=tmp_path / "copy")
    scanned = {s.message.subject: set(s.flags) for s in scan_mailbox(box, store)}
    assert scanned == {"Read already": {"\\Seen", "\\Flagged"}, "Unread": set()}
    stored = {m.subject: set(m.flags.split()) for m in store.messages(account=box.key)}
    assert stored == scanned
