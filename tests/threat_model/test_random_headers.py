"""Threats 1-4 at random: messages whose header bytes hypothesis makes up (line breaks, quotes, literal
syntax, IMAP commands, 8-bit bytes) are quarantined and restored on the real Dovecot; afterwards the
server has the same folders and every folder the same messages, and the journal has nothing unfinished."""

import imapclient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from klezguard.application.scan import Scanner
from klezguard.mail.quarantine import Quarantine
from tests.mailfactory import build
from tests.threat_model.conftest import QUARANTINE, account, census, open_client, reset

FRAGMENTS = [b"\r\n", b"\n", b"\r", b" ", b"Message-ID: ", b"DELETE Archive", b"A1 ", b"EXPUNGE", b"{5}", b"{5+}",
             b'"', b"\\", b"(", b")", b"*", b"%", b"<", b">", b"@", b"\xff", b"\xc3\xa9", b"\t", b"=?utf-8?b?", b"?="]
noise = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(min_size=1, max_size=12)), max_size=14).map(b"".join)


def message(message_id: bytes, subject: bytes, extra: bytes) -> bytes:
    raw = build(subject="SUBJECT", message_id="<ID@x>",
                attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])
    return (raw.replace(b"<ID@x>", message_id).replace(b"Subject: SUBJECT", b"Subject: " + subject)
            .replace(b"MIME-Version:", extra + b"\nMIME-Version:"))


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(message_id=noise, subject=noise, extra=noise)
def test_random_header_bytes_never_touch_other_mail(imap_server, imap, tmp_path_factory, message_id, subject, extra):
    from klezguard.store.db import Store

    reset(imap)
    imap.create_folder("Archive")
    imap.multiappend("Archive", [build(subject=f"Archived {n}") for n in range(3)])
    imap.append("INBOX", build(subject="Lunch"))
    try:
        imap.append("INBOX", message(message_id, subject, extra))
    except imapclient.exceptions.IMAPClientError:
        assume(False)  # the server refused to store it (a NUL byte, say): nothing to quarantine
    before = census(imap)
    folders = sorted(name for _f, _d, name in imap.list_folders())

    store = Store(tmp_path_factory.mktemp("store") / "s.sqlite3")
    client = open_client(imap_server)
    acct = account(imap_server)
    Scanner(client, acct, store).scan_folder("INBOX")
    quarantine = Quarantine(client, acct, store)
    for row in store.messages(folder="INBOX"):
        quarantine.move("INBOX", row.uidvalidity, row.uid)
    moved = census(imap, skip=())
    assert moved["INBOX"] == [] and len(moved[QUARANTINE]) == 2
    assert moved["Archive"] == before["Archive"]
    for entry in quarantine.entries():
        quarantine.restore(entry.id)
    client.logout()

    assert census(imap) == before
    assert sorted(name for _f, _d, name in imap.list_folders()) == sorted({*folders, QUARANTINE})
    assert not store.journal.entries(acct.key, ("moving", "restoring"))
    store.close()
