"""The memory of correspondents on a real Dovecot: the scan learns from the Sent folder and from clean mail,
threats teach nothing, and the next scan catches the Klez pattern — the same findings `check` gives with the
same mail as files."""

import json

from klezguard.application.scan import Scanner
from klezguard.cli import main
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.store.db import Store
from tests.mailfactory import AUTHSERV, build
from tests.rules.test_correspondents import BOTNET_HOP, mail

KLEZ = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=90)
THREAT_FROM_KNOWN = build(from_="Gareth Lloyd <gareth@lloyd-accounts.co.uk>", subject="statement",
                          attachments=[("statement.pdf.exe", "application/octet-stream", b"MZ" + b"\0" * 200)])


def account(server) -> Account:
    return Account(server.user, ServerSettings(server.host, server.port, "plain", server.user),
                   allow_plain=True, trusted_authserv=[AUTHSERV])


def fill(imap, folder: str, messages: list[bytes]) -> None:
    if not imap.folder_exists(folder):
        imap.create_folder(folder)
    imap.select_folder(folder)
    uids = imap.search("ALL")
    if uids:
        imap.delete_messages(uids)
        imap.expunge()
    if messages:
        imap.multiappend(folder, messages)


def test_the_scan_learns_and_the_next_scan_catches_a_known_address_on_the_wrong_path(imap_server, imap, tmp_path,
                                                                                      capsys):
    sent = [build(from_=f"Owner <{imap_server.user}>", to="Gareth Lloyd <gareth@lloyd-accounts.co.uk>",
                  subject=f"Re: books {n}", message_id=f"<sent{n}@harbour-test.example>") for n in range(3)]
    history = [mail(n=n) for n in range(5)]
    fill(imap, "Sent", sent)
    fill(imap, "INBOX", [*history, THREAT_FROM_KNOWN])
    store = Store(tmp_path / "s.sqlite3")
    scanner = Scanner(imap, account(imap_server), store)
    scanner.index_sent()
    first = scanner.scan_folder("INBOX")
    assert [s.result.verdict for s in first.new].count("threat") == 1
    memory = store.contacts_memory(account(imap_server).key)
    gareth = memory.get("gareth@lloyd-accounts.co.uk")
    assert gareth is not None
    assert gareth.written == 3 and gareth.received == 5  # the threat taught nothing
    assert gareth.usual("dkim") == ("lloyd-accounts.co.uk", 5)

    scanner.scan_folder("INBOX")  # nothing new: nothing learnt twice
    assert store.contacts_memory(account(imap_server).key).get("gareth@lloyd-accounts.co.uk").received == 5

    imap.append("INBOX", KLEZ)
    imap.append("INBOX", mail(mailer="iPhone Mail (21A360)", n=91))  # the phone: fine
    second = Scanner(imap, account(imap_server), store).scan_folder("INBOX")
    by_subject = {s.message.message_id: s.result for s in second.new}
    klez = next(r for mid, r in by_subject.items() if "dsl-pool.example" in mid)
    phone = next(r for mid, r in by_subject.items() if "dsl-pool.example" not in mid)
    assert "sender.contact_wrong_path" in {f.rule for f in klez.findings}
    assert klez.verdict == "threat"
    assert phone.verdict == "clean"

    # the same mail as files gives the same findings
    for folder, messages in (("sent", sent), ("history", history), ("new", [KLEZ])):
        (tmp_path / folder).mkdir()
        for n, raw in enumerate(messages):
            (tmp_path / folder / f"{n}.eml").write_bytes(raw)
    main(["check", "--json", "--trusted-authserv", AUTHSERV, "--sent", str(tmp_path / "sent"),
          "--history", str(tmp_path / "history"), str(tmp_path / "new")])
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert sorted((f["rule"], f["severity"]) for f in row["findings"]) == sorted(
        (f.rule, f.severity) for f in klez.findings)
