"""Scanning a real Dovecot: same verdicts as on whole files, nothing marked read, incremental rescans."""

from pathlib import Path

import pytest

from klezguard.application.scan import Scanner
from klezguard.core.parse import from_bytes
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.rules.engine import evaluate
from klezguard.store.db import Store, Verdict

DEMO = Path(__file__).resolve().parents[2] / "klezguard" / "resources" / "demo"


@pytest.fixture
def mailbox(imap):
    """INBOX holds the demo inbox, Sent the demo sent mail; emptied afterwards."""
    inbox = sorted((DEMO / "inbox").glob("*.eml"))
    sent = sorted((DEMO / "sent").glob("*.eml"))
    for folder in ("INBOX", "Sent"):
        imap.select_folder(folder)
        uids = imap.search("ALL")
        if uids:
            imap.delete_messages(uids)
            imap.expunge()
    imap.multiappend("INBOX", [p.read_bytes() for p in inbox])
    imap.multiappend("Sent", [p.read_bytes() for p in sent], )
    return inbox


def account(server) -> Account:
    return Account(server.user, ServerSettings(server.host, server.port, "plain", server.user),
                   allow_plain=True, trusted_authserv=["mx.mailhost-demo.net"])


def test_first_scan_matches_whole_message_verdicts_and_keeps_mail_unread(imap_server, imap, mailbox, tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    scanner = Scanner(imap, account(imap_server), store)
    assert scanner.index_sent() == 8
    report = scanner.scan_folder("INBOX")
    assert len(report.new) == len(mailbox)
    ctx = scanner.context()
    assert ctx.sent_ids and len(ctx.sent_ids) == 8
    for scanned, path in zip(report.new, mailbox, strict=True):
        whole = evaluate(from_bytes(path.read_bytes()), ctx)
        assert [f.rule for f in scanned.result.findings] == [f.rule for f in whole.findings], path.name
        assert scanned.result.verdict == whole.verdict
    imap.select_folder("INBOX", readonly=True)
    flags = imap.get_flags(imap.search("ALL"))
    assert not any(b"\\Seen" in f for f in flags.values())
    total = sum(p.stat().st_size for p in mailbox)
    assert report.bytes_fetched < total * 1.1
    assert len(store.messages(account=imap_server.user)) == len(mailbox)


def test_rescan_is_incremental(imap_server, imap, mailbox, tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    scanner = Scanner(imap, account(imap_server), store)
    scanner.scan_folder("INBOX")
    assert scanner.scan_folder("INBOX").new == []
    imap.append("INBOX", mailbox[3].read_bytes())
    again = scanner.scan_folder("INBOX")
    assert len(again.new) == 1 and again.new[0].message.subject


def test_changed_uidvalidity_means_a_clean_rescan(imap_server, imap, mailbox, tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    scanner = Scanner(imap, account(imap_server), store)
    imap.create_folder("Archive")
    imap.multiappend("Archive", [p.read_bytes() for p in mailbox[:3]])
    assert len(scanner.scan_folder("Archive").new) == 3
    imap.select_folder("INBOX")
    imap.delete_folder("Archive")
    imap.create_folder("Archive")
    imap.multiappend("Archive", [p.read_bytes() for p in mailbox[3:5]])
    report = scanner.scan_folder("Archive")
    assert report.rescanned_from_scratch and len(report.new) == 2
    assert len(store.messages(folder="Archive")) == 2
    imap.delete_folder("Archive")


def test_stored_views_are_judged_again_without_the_server(imap_server, imap, mailbox, tmp_path):
    from klezguard.application.rejudge import rejudge_stale as rejudge

    store = Store(tmp_path / "s.sqlite3")
    scanner = Scanner(imap, account(imap_server), store)
    scanner.index_sent()
    first = {s.uid: s.result.verdict for s in scanner.scan_folder("INBOX").new}
    # pretend an older KlezGuard judged them, and wrongly
    store.set_verdicts([Verdict(m.id, "clean", 0.0, "", "[]", "0.0.1") for m in store.messages(folder="INBOX")])
    assert rejudge(store, imap_server.user, scanner.context()) == len(mailbox)
    assert {m.uid: m.verdict for m in store.messages(folder="INBOX")} == first
    assert rejudge(store, imap_server.user, scanner.context()) == 0


def test_judging_in_a_helper_process_gives_the_same_results(imap_server, imap, mailbox, tmp_path):
    from klezguard.application.judge import ProcessJudge

    judge = ProcessJudge()
    try:
        here = Scanner(imap, account(imap_server), Store(tmp_path / "a.sqlite3")).scan_folder("INBOX")
        there = Scanner(imap, account(imap_server), Store(tmp_path / "b.sqlite3"), judge=judge,
                        batch=7).scan_folder("INBOX")
    finally:
        judge.close()
    assert [(s.uid, s.result.verdict, [f.rule for f in s.result.findings]) for s in here.new] == \
           [(s.uid, s.result.verdict, [f.rule for f in s.result.findings]) for s in there.new]
    assert there.new[0].message.subject == here.new[0].message.subject


def test_scanning_in_a_helper_process(imap_server, imap, mailbox, tmp_path):
    from klezguard.application.scanprocess import ScanProcess
    from klezguard.errors import LoginFailed

    scans = ScanProcess()
    seen = []
    try:
        count, flagged, _notes = scans.scan(
            account(imap_server), imap_server.password, str(tmp_path / "s.sqlite3"),
            progress=lambda folder, done, total: seen.append((folder, done, total)))
        with pytest.raises(LoginFailed) as err:
            scans.scan(account(imap_server), "wrong", str(tmp_path / "s.sqlite3"))
    finally:
        scans.close()
    assert count == len(mailbox) and flagged and all(s.result.flagged for s in flagged)
    assert seen[-1] == ("INBOX", len(mailbox), len(mailbox))
    assert "did not accept" in err.value.text()
    assert len(Store(tmp_path / "s.sqlite3").messages(folder="INBOX")) == len(mailbox)


def test_the_store_keeps_findings_not_megabytes_of_archives(imap_server, imap, tmp_path):
    import io
    import os
    import zipfile

    from tests.mailfactory import build

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("photos.jpg", os.urandom(3_000_000))
        z.writestr("invoice.pdf.exe", b"MZ\x90\x00" + b"\x00" * 200)
    imap.select_folder("INBOX")
    old = imap.search("ALL")
    if old:
        imap.delete_messages(old)
        imap.expunge()
    imap.append("INBOX", build(subject="Photos", attachments=[("photos.zip", "application/zip", buf.getvalue())]))
    store = Store(tmp_path / "s.sqlite3")
    scanned = Scanner(imap, account(imap_server), store).scan_folder("INBOX").new
    assert "attachment.archive_program" in {f.rule for f in scanned[0].result.findings}
    view = store.view(store.messages()[0].id)
    assert sum(len(b) for b in view.fetched.values()) < 300_000  # the 3 MB archive is not kept


def test_a_big_folder_is_searched_in_pieces_with_uids_above_a_billion(imap_server, imap, tmp_path, monkeypatch):
    """A folder's UID SEARCH answer for 200,000 messages with 10-digit UIDs is over imaplib's line limit:
    the scanner asks for a piece of the folder at a time (here 10 messages a piece, UIDs from 10^9)."""
    import subprocess

    import klezguard.mail.fetcher as scanner_module
    from tests.mailfactory import build

    if imap.folder_exists("Big"):
        imap.delete_folder("Big")
    imap.create_folder("Big")
    subprocess.run(["doveadm", "-c", str(imap_server.base / "dovecot.conf"), "mailbox", "update", "-u",
                    imap_server.user, "--min-next-uid", "1000000000", "Big"], check=True, capture_output=True)
    imap.multiappend("Big", [build(subject=f"Note {n}") for n in range(45)])
    monkeypatch.setattr(scanner_module, "SEARCH_CHUNK", 10)
    store = Store(tmp_path / "s.sqlite3")
    report = Scanner(imap, account(imap_server), store, batch=7).scan_folder("Big")
    uids = sorted(s.uid for s in report.new)
    assert len(uids) == 45 and uids[0] >= 1_000_000_000
    imap.delete_folder("Big")
