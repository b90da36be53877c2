"""One message, one verdict: the project's own test messages (with their sent mail) through `klezguard check`
on files, through a local Maildir and through `klezguard scan` on Dovecot get the same verdict, the same
rule ids and the same severities.

The set: the demo mailbox, every bounce, virus warning, complaint, auto-reply and abuse report of the
backscatter tests, and a known correspondent's name on a new address (which needs the names from the
sent mail: the scan once never knew them).
"""

import io
import json
import mailbox
from pathlib import Path

import pytest

from klezguard.application.local import scan_mailbox
from klezguard.cli import main
from klezguard.mail.local import LocalMailbox, LocalSource
from klezguard.store.db import Store
from tests.mailfactory import build
from tests.rules import test_bounces

DEMO = Path(__file__).resolve().parents[2] / "klezguard" / "resources" / "demo"
OWN = "brightwater-bakery.com"
AUTHSERV = "mx.mailhost-demo.net"
QUARANTINE = "KlezGuard Quarantine"


def _demo() -> Path:
    return DEMO


def _auth(domain: str) -> str:
    return f"{AUTHSERV}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"


def messages() -> tuple[dict[str, bytes], list[bytes]]:
    """(inbox messages by file name, sent messages)."""
    demo = _demo()
    inbox = {p.name: p.read_bytes() for p in sorted((demo / "inbox").glob("*.eml"))}
    sent = [p.read_bytes() for p in sorted((demo / "sent").glob("*.eml"))]
    for n, name in enumerate(sorted(test_bounces.SAMPLES)):
        raw = test_bounces.sample(name).replace(test_bounces.OWN.encode(), OWN.encode())
        inbox[f"9{n:02d}-{name}.eml"] = raw.replace(b"Message-ID: <", f"Message-ID: <p{n}.".encode(), 1)
    sent.append(build(from_=f"Maya Baker <maya@{OWN}>", to="Clara Holt <clara.holt@holtlettings.example>",
                      subject="Shop lease", message_id=f"<lease-1@{OWN}>"))
    inbox["990-contact-name-on-freemail.eml"] = build(
        from_="Clara Holt <clara.holt@gmail.com>", to=f"Maya <maya@{OWN}>", subject="New bank details for the rent",
        message_id="<clara-new@gmail.example>", headers=[("Authentication-Results", _auth("gmail.com"))])
    return inbox, sent


def _key(verdict: str, findings: list[dict]) -> tuple:
    return verdict, sorted((f["rule"], f["severity"]) for f in findings)


def _by_id(lines: list[str]) -> dict[str, tuple]:
    rows = [json.loads(line) for line in lines if line.strip()]
    return {r["message_id"]: _key(r["verdict"], r["findings"]) for r in rows}


@pytest.fixture
def files(tmp_path):
    inbox, sent = messages()
    (tmp_path / "inbox").mkdir()
    (tmp_path / "sent").mkdir()
    for name, raw in inbox.items():
        (tmp_path / "inbox" / name).write_bytes(raw)
    for n, raw in enumerate(sent):
        (tmp_path / "sent" / f"{n:02d}.eml").write_bytes(raw)
    return tmp_path


def through_check(files, capsys) -> dict[str, tuple]:
    capsys.readouterr()
    main(["check", str(files / "inbox"), "--sent", str(files / "sent"), "--own-domain", OWN,
          "--trusted-authserv", AUTHSERV, "--json"])
    return _by_id(capsys.readouterr().out.splitlines())


def through_maildir(files, tmp_path) -> dict[str, tuple]:
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in messages()[0].values():
        folder.add(mailbox.MaildirMessage(raw))
    store = Store(tmp_path / "local.sqlite3")
    box = LocalMailbox(LocalSource("Parity", [str(tmp_path / "Maildir")], [str(files / "sent")], [OWN], [AUTHSERV],
                                   f"owner@{OWN}"), store, root=tmp_path / "copy")
    scan_mailbox(box, store)
    return {m.message_id: _key(m.verdict, store.findings(m.id)) for m in store.messages(account=box.key)}


def seed(imap) -> None:
    inbox, sent = messages()
    for folder in ("INBOX", "Sent"):
        imap.select_folder(folder)
        uids = imap.search("ALL")
        if uids:
            imap.delete_messages(uids)
            imap.expunge()
    if imap.folder_exists(QUARANTINE):
        imap.delete_folder(QUARANTINE)
    imap.multiappend("Sent", sent)
    imap.multiappend("INBOX", list(inbox.values()))


def add_account(imap_server, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
    assert main(["account", "add", imap_server.user, "--host", imap_server.host, "--port", str(imap_server.port),
                 "--security", "plain", "--trusted-authserv", AUTHSERV]) == 0


def through_scan(imap_server, capsys, monkeypatch) -> dict[str, tuple]:
    capsys.readouterr()
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    main(["scan", "--json"])
    return _by_id(capsys.readouterr().out.splitlines())


def test_check_a_local_maildir_and_imap_give_the_same_findings(imap_server, imap, files, tmp_path, capsys,
                                                               monkeypatch):
    seed(imap)
    add_account(imap_server, monkeypatch)
    checked = through_check(files, capsys)
    local = through_maildir(files, tmp_path)
    scanned = through_scan(imap_server, capsys, monkeypatch)
    assert len(checked) == len(messages()[0])
    assert local == checked
    assert scanned == checked
    # the set is worth comparing: it holds what the scan once missed
    rules = {rule for _verdict, found in checked.values() for rule, _severity in found}
    assert {"sender.name_of_contact", "backscatter.autoreply_for_unsent_mail", "sender.lookalike_domain",
            "backscatter.bounce_for_unsent_mail"} <= rules
    assert {v for v, _ in checked.values()} == {"clean", "suspicious", "threat"}
