"""The memory of correspondents end to end: address books in every common format, the store, `check
--contacts/--history`, and `klezguard contacts list|import|forget`."""

import json

import pytest

from klezguard.application import contacts
from klezguard.application.check import files_context
from klezguard.cli import main
from klezguard.core.correspondents import Arrival, BookError, read_book
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.store.db import Store
from tests.mailfactory import AUTHSERV, build
from tests.rules.test_correspondents import BOTNET_HOP, mail

VCARD3 = b"""BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. J\xc3\xbcrgen M\xc3\xbcller\r\nN:M\xc3\xbcller;J\xc3\xbcrgen;;Dr.;\r
ORG:M\xc3\xbcller Stahl GmbH\r\nEMAIL;TYPE=WORK:j.mueller@mueller-stahl.de\r
EMAIL;TYPE=HOME:juergen@gmx.de\r\nEND:VCARD\r
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Address\r\nEND:VCARD\r\n"""
VCARD4 = b"""BEGIN:VCARD\nVERSION:4.0\nFN:Anna Weber\nN:Weber;Anna;;;\nEMAIL;TYPE=work:anna@weber-bau.de\nEND:VCARD\n"""
GOOGLE_CSV = (b"Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Organization 1 - Name\n"
              b"Gareth Lloyd,Gareth,Lloyd,* Work,gareth@lloyd-accounts.co.uk ::: g.lloyd@gmail.com,Lloyd Accounts\n")
OUTLOOK_CSV = ("First Name,Last Name,Company,E-mail Address,E-mail 2 Address\r\n"
               "Clara,Vogt,Vogt Design,clara@vogt-design.de,\r\n").encode("cp1252")
THUNDERBIRD_CSV = (b"First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email\n"
                   b"Peter,Brandt,Peter Brandt,,peter@brandt-holz.de,\n")


def test_vcard_3_and_4_are_read_with_every_name_and_address():
    entries = read_book(VCARD3, "book.vcf")
    assert len(entries) == 1  # a card with no address teaches nothing
    assert set(entries[0].addresses) == {"j.mueller@mueller-stahl.de", "juergen@gmx.de"}
    assert "Dr. Jürgen Müller" in entries[0].names and "Müller Stahl GmbH" in entries[0].names
    assert read_book(VCARD4)[0].addresses == ("anna@weber-bau.de",)


@pytest.mark.parametrize(("data", "address", "name"), [
    (GOOGLE_CSV, "g.lloyd@gmail.com", "Gareth Lloyd"),
    (OUTLOOK_CSV, "clara@vogt-design.de", "Clara Vogt"),
    (THUNDERBIRD_CSV, "peter@brandt-holz.de", "Peter Brandt"),
])
def test_csv_exports_of_google_outlook_and_thunderbird(data, address, name):
    entries = read_book(data, "contacts.csv")
    assert any(address in e.addresses and name in e.names for e in entries)


def test_a_file_without_addresses_says_so():
    with pytest.raises(BookError, match="no column of e-mail addresses"):
        read_book(b"Name,Phone\nAnna,123\n", "x.csv")


def seen(address="gareth@lloyd-accounts.co.uk", when=1_700_000_000.0) -> Arrival:
    return Arrival(address, "Gareth Lloyd", when, ("lloyd-accounts.co.uk",), True, "lloyd-accounts.co.uk",
                   "lloyd-accounts.co.uk", "outlook")


def test_the_store_learns_each_message_once_and_forgets_on_request():
    store = Store(":memory:")
    assert contacts.learn_judged(store, "a", [("<1@x>", seen()), ("<1@x>", seen()), ("<2@x>", None)]) == 1
    contacts.learn_judged(store, "a", [("<1@x>", seen())])  # a rescan teaches nothing again
    store.learn_written("a", [("gareth@lloyd-accounts.co.uk", "Gareth Lloyd", 1_690_000_000.0)])
    memory = store.contacts_memory("a")
    c = memory.get("gareth@lloyd-accounts.co.uk")
    assert c is not None and c.received == 1 and c.written == 1 and c.first == 1_690_000_000.0
    assert c.usual("dkim") is None  # one message is no habit
    assert memory.names() == {"gareth lloyd": frozenset({"gareth@lloyd-accounts.co.uk"})}
    assert store.contacts_memory("b").contacts == {}  # per account
    assert contacts.forget(store, "a", "Gareth@Lloyd-Accounts.co.uk")
    assert store.contacts_memory("a").contacts == {}
    store.learn_book("a", [("anna@weber-bau.de", ["Anna Weber"])])
    contacts.forget_all(store, "a")
    assert store.contacts_memory("a").contacts == {}


def test_removing_an_account_forgets_its_correspondents():
    store = Store(":memory:")
    store.learn_book("a", [("anna@weber-bau.de", ["Anna Weber"])])
    store.forget_account("a")
    assert store.contacts_memory("a").contacts == {}


def test_check_history_learns_only_from_clean_mail(tmp_path):
    hist = tmp_path / "history"
    hist.mkdir()
    for n in range(5):
        (hist / f"{n}.eml").write_bytes(mail(n=n))
    threat = build(from_="Gareth Lloyd <gareth@lloyd-accounts.co.uk>", subject="x",
                   attachments=[("invoice.pdf.exe", "application/octet-stream", b"MZ" + b"\0" * 100)])
    (hist / "threat.eml").write_bytes(threat)
    errors: list = []
    ctx = files_context([], [], [AUTHSERV], errors, history=[str(hist)])
    c = ctx.memory.get("gareth@lloyd-accounts.co.uk") if ctx.memory else None
    assert c is not None and c.received == 5
    assert c.usual("dkim") == ("lloyd-accounts.co.uk", 5)


def test_check_with_contacts_and_history_flags_the_klez_pattern_and_the_impersonation(tmp_path, capsys):
    hist, new = tmp_path / "history", tmp_path / "new"
    hist.mkdir()
    new.mkdir()
    for n in range(5):
        (hist / f"{n}.eml").write_bytes(mail(n=n))
    (new / "a-usual.eml").write_bytes(mail(n=10))
    (new / "b-klez.eml").write_bytes(mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2",
                                          msgid_domain="dsl-pool.example", n=11))
    (new / "c-fake.eml").write_bytes(mail(from_="Anna Weber <anna.weber.bau@gmail.com>", dkim_domain="gmail.com",
                                          msgid_domain="mail.gmail.com", n=12))
    book = tmp_path / "book.vcf"
    book.write_bytes(VCARD4)
    code = main(["check", "--json", "--trusted-authserv", AUTHSERV, "--contacts", str(book), "--history", str(hist),
                 str(new)])
    lines = capsys.readouterr().out.splitlines()
    rows = {json.loads(line)["source"].rsplit("/", 1)[1]: json.loads(line) for line in lines}
    assert code == 1
    assert rows["a-usual.eml"]["verdict"] == "clean"
    assert "sender.contact_wrong_path" in {f["rule"] for f in rows["b-klez.eml"]["findings"]}
    assert "sender.name_of_contact" in {f["rule"] for f in rows["c-fake.eml"]["findings"]}


def test_check_with_a_broken_address_book_exits_2_with_a_plain_message(tmp_path, capsys):
    book = tmp_path / "book.csv"
    book.write_bytes(b"Name,Phone\nAnna,123\n")
    (tmp_path / "a.eml").write_bytes(build())
    assert main(["check", "--contacts", str(book), str(tmp_path / "a.eml")]) == 2
    assert "no column of e-mail addresses" in capsys.readouterr().err


def test_the_contacts_command_imports_lists_and_forgets(tmp_path, capsys):
    AccountStore().put(Account("owner@harbour-test.example", ServerSettings("127.0.0.1", 993, "ssl")))
    book = tmp_path / "google.csv"
    book.write_bytes(GOOGLE_CSV)
    assert main(["contacts", "import", str(book)]) == 0
    assert "Imported 1 contacts with 2 addresses" in capsys.readouterr().out
    assert main(["contacts", "list"]) == 0
    listed = capsys.readouterr().out
    assert "g.lloyd@gmail.com" in listed and "Gareth Lloyd" in listed and "in your address book" in listed
    assert main(["contacts", "forget", "g.lloyd@gmail.com"]) == 0
    assert main(["contacts", "forget", "g.lloyd@gmail.com"]) == 2
    assert "not among your correspondents" in capsys.readouterr().err
    assert main(["contacts", "forget", "--all"]) == 0
    main(["contacts", "list"])
    assert "knows no correspondents" in capsys.readouterr().out
    assert main(["contacts", "import", str(tmp_path / "missing.vcf")]) == 2


def test_bounces_auto_replies_and_newsletters_teach_nothing(tmp_path):
    hist = tmp_path / "history"
    hist.mkdir()
    bounce = build(from_="Mail Delivery System <MAILER-DAEMON@mx.lloyd-accounts.co.uk>", subject="Undelivered Mail",
                   headers=[("Return-Path", "<>"), ("Auto-Submitted", "auto-replied")])
    away = build(from_="Gareth Lloyd <gareth@lloyd-accounts.co.uk>", subject="Out of office",
                 headers=[("Auto-Submitted", "auto-replied")])
    news = build(from_="Lloyd News <news@lloyd-accounts.co.uk>", subject="Tax tips",
                 headers=[("List-Unsubscribe", "<mailto:unsub@lloyd-accounts.co.uk>")])
    robot = build(from_="Jo Whitfield via FileShare <no-reply@fileshare.example>", subject="Jo shared a file")
    for n, raw in enumerate((bounce, away, news, robot)):
        (hist / f"{n}.eml").write_bytes(raw)
    ctx = files_context([], [], [AUTHSERV], [], history=[str(hist)])
    assert ctx.memory is not None and ctx.memory.contacts == {}


def test_check_says_a_backscatter_wave_once(tmp_path, capsys):
    from tests.rules import test_bounces

    sent = tmp_path / "sent"
    sent.mkdir()
    (sent / "s.eml").write_bytes(build(from_="Owner <owner@harbour-test.example>", subject="x",
                                       message_id="<real-1@harbour-test.example>"))
    names = sorted(test_bounces.SAMPLES)
    for n, name in enumerate(names):
        (tmp_path / f"{n}.eml").write_bytes(test_bounces.sample(name))
    main(["check", "--sent", str(sent), "--own-domain", "harbour-test.example", str(tmp_path / "0.eml"),
          *(str(tmp_path / f"{n}.eml") for n in range(1, len(names)))])
    err = capsys.readouterr().err
    assert err.count("Someone is sending mail in your name") == 1
    main(["check", *(str(tmp_path / f"{n}.eml") for n in range(len(names)))])  # without the sent mail
    assert "Someone is sending mail in your name" not in capsys.readouterr().err


def test_forgetting_a_correspondent_forgets_the_sent_folders_word_for_them_too():
    from klezguard.core.context import SentIndex

    store = Store(":memory:")
    sent = SentIndex()
    sent.add(build(from_="Owner <owner@harbour-test.example>", to="Gareth Lloyd <gareth@lloyd-accounts.co.uk>"))
    store.add_sent("a", sent)
    assert "gareth@lloyd-accounts.co.uk" in store.sent_index("a").recipients
    assert contacts.forget(store, "a", "gareth@lloyd-accounts.co.uk")
    index = store.sent_index("a")
    assert "gareth@lloyd-accounts.co.uk" not in index.recipients and not index.names
    assert index.message_ids  # what was sent stays known: bounces are still told apart


def test_a_sent_folder_read_again_counts_nobody_twice():
    from klezguard.core.context import SentIndex

    store = Store(":memory:")
    raw = build(from_="Owner <owner@harbour-test.example>", to="Gareth Lloyd <gareth@lloyd-accounts.co.uk>",
                message_id="<s1@harbour-test.example>")
    for _ in range(2):  # a new UIDVALIDITY: the whole folder is read again
        sent = SentIndex()
        sent.add(raw)
        store.add_sent("a", sent)
    assert store.contacts_memory("a").get("gareth@lloyd-accounts.co.uk").written == 1


def test_odd_address_books_are_read_as_far_as_they_can_be():
    broken_card = b"BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nEMAIL:broken@x.example\nEND:VCALENDAR\n"
    good = b"BEGIN:VCARD\nVERSION:3.0\nFN:Anna Weber\nEMAIL:mailto:Anna@Weber-Bau.de\nEND:VCARD\n"
    assert [e.addresses for e in read_book(broken_card + good, "b.vcf")] == [("anna@weber-bau.de",)]
    french = "Prénom,Nom,Adresse de messagerie\nClara,Vogt,clara@vogt-design.de\n".encode("cp1252")
    assert read_book(french, "f.csv")[0].addresses == ("clara@vogt-design.de",)
    notes = ("Name,E-mail Address,Notes\nPeter Brandt,peter@brandt-holz.de,\"" + "x" * 200_000 + "\"\n").encode()
    assert read_book(notes, "n.csv")[0].addresses == ("peter@brandt-holz.de",)
    utf16 = "Name,E-mail Address\nAnna Weber,anna@weber-bau.de\n".encode("utf-16-le")
    assert read_book(utf16, "u.csv")[0].addresses == ("anna@weber-bau.de",)
    nul = b"Name,E-mail Address\nX,bad\x00@x.example\n"
    assert read_book(nul, "z.csv") == []
