"""The memory of correspondents and the rules that read it, each with the benign look-alikes it must let by:
two people sharing a first name, a contact writing from work and from the phone, a supplier who moved
provider and signs correctly, mailing lists carrying many names, a contact whose name is a common word."""

import pytest

from klezguard.core.correspondents import Memory, arrival, name_key
from klezguard.core.parse import from_bytes
from tests.mailfactory import AUTHSERV, auth, build, check, context

LLOYD = "Gareth Lloyd <gareth@lloyd-accounts.co.uk>"
USUAL_HOP = ("from mail.lloyd-accounts.co.uk (mail.lloyd-accounts.co.uk [192.0.2.10]) by mx.provider-test.example "
             "with ESMTPS id a1; Mon, 2 Nov 2026 10:00:00 +0000")
BOTNET_HOP = "from unknown (unknown [203.0.113.77]) by mx.provider-test.example with SMTP id b2; Mon, 2 Nov 2026"
NEW_PROVIDER_HOP = ("from mail-am6eur05.outbound.protection.outlook.com (mail-am6eur05.outbound.protection.outlook.com "
                    "[40.107.22.1]) by mx.provider-test.example with ESMTPS id c3; Mon, 2 Nov 2026")


def mail(from_=LLOYD, hop=USUAL_HOP, spf="pass", dkim="pass", dkim_domain="lloyd-accounts.co.uk",
         mailer="Microsoft Outlook 16.0", msgid_domain="lloyd-accounts.co.uk", n=0, subject="Invoice 2026-11",
         extra=(), **kw) -> bytes:
    domain = from_.rpartition("@")[2].rstrip(">")
    headers = [("Authentication-Results", auth(domain=domain, spf=spf, dkim=dkim, dkim_domain=dkim_domain,
                                               dmarc="pass" if dkim == "pass" else "fail")),
               ("Received", hop)]
    if mailer:
        headers.append(("X-Mailer", mailer))
    headers.extend(extra)
    return build(from_=from_, headers=headers, received=False, subject=subject,
                 message_id=f"<m{n}.{id(headers)}@{msgid_domain}>", **kw)


def learnt(*raws: bytes, memory: Memory | None = None) -> Memory:
    memory = memory or Memory()
    for n, raw in enumerate(raws):
        seen = arrival(from_bytes(raw), frozenset({AUTHSERV}), when=1_700_000_000 + n * 86400)
        assert seen is not None
        memory.learn(seen)
    return memory


def history(count=6) -> Memory:
    return learnt(*(mail(n=n) for n in range(count)))


def rules_of(raw: bytes, memory: Memory | None) -> dict[str, str]:
    result = check(raw, context(memory=memory))
    return {f.rule: f.severity for f in result.findings}


# --- known contact, wrong path ---------------------------------------------------------------------------


def test_a_known_address_arriving_through_a_hijacked_computer_unsigned_is_high():
    klez = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=99)
    found = rules_of(klez, history())
    assert found.get("sender.contact_wrong_path") == "high"
    result = check(klez, context(memory=history()))
    finding = next(f for f in result.findings if f.rule == "sender.contact_wrong_path")
    assert "signed by lloyd-accounts.co.uk" in finding.explanation  # what is usual
    assert "no name on the internet" in finding.explanation  # what changed
    assert result.verdict == "threat"


def test_a_signature_broken_once_on_the_usual_way_does_not_alarm():
    """A disclaimer gateway or a DNS hiccup: the same server, numbering and program, only no valid signature."""
    assert "sender.contact_wrong_path" not in rules_of(mail(dkim="fail", n=50), history())
    assert "sender.contact_wrong_path" not in rules_of(mail(dkim="temperror", mailer="Thunderbird 115", n=57),
                                                       history())


def test_unsigned_where_always_signed_from_another_program_is_medium():
    found = rules_of(mail(dkim="none", mailer="Foxmail 7.2", n=58), history())
    assert found.get("sender.contact_wrong_path") == "medium"


def test_the_usual_shared_server_but_another_customers_envelope_is_caught():
    """A contact who never signs, forged through the same shared host: only SPF tells, as it no longer passes
    for their domain."""
    unsigned = learnt(*(mail(dkim="none", n=n) for n in range(6)))
    forged = build(from_=LLOYD, received=False, message_id="<f1@lloyd-accounts.co.uk>", headers=[
        ("Authentication-Results", f"{AUTHSERV}; spf=pass smtp.mailfrom=other-customer.co.uk; dkim=none; "
                                   "dmarc=fail header.from=lloyd-accounts.co.uk"),
        ("Received", USUAL_HOP), ("X-Mailer", "Microsoft Outlook 16.0")])
    found = rules_of(forged, unsigned)
    assert found.get("sender.contact_wrong_path") == "medium"


def test_the_phone_instead_of_the_desktop_does_not_alarm():
    phone = mail(mailer="iPhone Mail (21A360)", n=51)
    assert "sender.contact_wrong_path" not in rules_of(phone, history())


def test_a_supplier_who_moved_provider_and_signs_correctly_does_not_alarm():
    moved = mail(hop=NEW_PROVIDER_HOP, msgid_domain="eurprd05.prod.outlook.com", mailer="Microsoft Outlook 16.0", n=52)
    assert "sender.contact_wrong_path" not in rules_of(moved, history())


def test_a_contact_who_never_signs_changing_program_only_does_not_alarm():
    unsigned = learnt(*(mail(dkim="none", n=n) for n in range(6)))
    assert "sender.contact_wrong_path" not in rules_of(mail(dkim="none", mailer="Thunderbird 115", n=53), unsigned)


def test_an_unsigned_contact_arriving_from_a_nameless_host_with_everything_changed_is_high():
    unsigned = learnt(*(mail(dkim="none", n=n) for n in range(6)))
    klez = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=54)
    assert rules_of(klez, unsigned).get("sender.contact_wrong_path") == "high"


def test_two_mails_are_no_habit():
    klez = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=55)
    assert "sender.contact_wrong_path" not in rules_of(klez, history(2))


def test_without_a_memory_the_rule_says_nothing():
    klez = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=56)
    assert "sender.contact_wrong_path" not in rules_of(klez, None)


# --- contact impersonation -----------------------------------------------------------------------------------


def book(*entries: tuple[str, str]) -> Memory:
    memory = Memory()
    for name, address in entries:
        memory.add_to_book(address, [name])
    return memory


@pytest.mark.parametrize("shown", ["Weber Bau GmbH", "Weber Bau", "weber bau gmbh", "WEBER BAU AG"])
def test_a_suppliers_name_on_a_free_mail_address_is_high(shown):
    memory = book(("Weber Bau GmbH", "buchhaltung@weber-bau.de"))
    fake = mail(from_=f"{shown} <weberbau.rechnung@gmail.com>", dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert rules_of(fake, memory).get("sender.name_of_contact") == "high"


@pytest.mark.parametrize("shown", ["Jurgen Muller", "Müller, Jürgen", "Dr. Jürgen Müller", "MULLER JURGEN"])
def test_accents_order_and_titles_do_not_hide_a_known_name(shown):
    memory = book(("Dr. Jürgen Müller", "j.mueller@mueller-stahl.de"))
    fake = mail(from_=f'"{shown}" <jm.office1977@gmail.com>', dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" in rules_of(fake, memory)


def test_two_people_sharing_a_first_name_are_two_people():
    memory = book(("Anna Weber", "anna@weber-bau.de"))
    other = mail(from_="Anna Schmidt <anna.schmidt@gmail.com>", dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" not in rules_of(other, memory)


def test_a_mailing_list_carrying_a_known_name_is_not_an_impersonation():
    memory = book(("Anna Weber", "anna@weber-bau.de"))
    listed = mail(from_="Anna Weber <bauforum@lists.handwerk.de>", dkim_domain="lists.handwerk.de",
                  msgid_domain="weber-bau.de",
                  extra=[("List-Id", "Bauforum <bauforum.lists.handwerk.de>"),
                           ("List-Post", "<mailto:bauforum@lists.handwerk.de>")])
    assert "sender.name_of_contact" not in rules_of(listed, memory)


@pytest.mark.parametrize("name", ["Orange", "Sales Team", "Customer Service", "Info"])
def test_a_contact_whose_name_is_a_common_word_names_nobody(name):
    memory = book((name, "hello@orange-print.de"))
    assert name_key(name) == ""
    other = mail(from_=f"{name} <offers@gmail.com>", dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" not in rules_of(other, memory)


def test_a_contact_writing_from_work_and_from_a_known_private_address_is_fine():
    memory = book(("Anna Weber", "anna@weber-bau.de"))
    memory.wrote_to("anna.weber.privat@gmail.com", "Anna")  # the user wrote there before
    private = mail(from_="Anna Weber <anna.weber.privat@gmail.com>", dkim_domain="gmail.com",
                   msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" not in rules_of(private, memory)


def test_a_name_heard_once_from_a_stranger_is_no_contact():
    memory = learnt(mail(from_="Peter Brandt <peter@brandt-holz.de>", dkim_domain="brandt-holz.de",
                         msgid_domain="brandt-holz.de"))
    fake = mail(from_="Peter Brandt <p.brandt@gmail.com>", dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" not in rules_of(fake, memory)


# --- a correspondent's domain, imitated ---------------------------------------------------------------------


@pytest.mark.parametrize("fake_domain", ["webre-bau.de", "weber-bau.com", "wеber-bau.de"])  # swap, TLD, Cyrillic е
def test_a_lookalike_of_a_domain_from_the_address_book_is_flagged(fake_domain):
    memory = book(("Weber Bau GmbH", "buchhaltung@weber-bau.de"))
    fake_domain = fake_domain.encode("idna").decode()  # as sent: punycode
    fake = mail(from_=f"Buchhaltung <rechnung@{fake_domain}>", dkim_domain=fake_domain, msgid_domain=fake_domain)
    assert "sender.lookalike_domain" in rules_of(fake, memory)


def test_the_real_domain_from_the_address_book_is_not_a_lookalike():
    memory = book(("Weber Bau GmbH", "buchhaltung@weber-bau.de"))
    real = mail(from_="Weber Bau GmbH <buchhaltung@weber-bau.de>", dkim_domain="weber-bau.de",
                msgid_domain="weber-bau.de")
    assert "sender.lookalike_domain" not in rules_of(real, memory)


# --- first contact: context only ------------------------------------------------------------------------------


def known_mailbox() -> Memory:
    return book(*((f"Person Number{n}", f"p{n}@firm{n}.de") for n in range(12)))


def test_first_contact_alone_never_makes_a_finding():
    hello = mail(from_="Clara Vogt <clara@vogt-design.de>", dkim_domain="vogt-design.de", msgid_domain="vogt-design.de")
    result = check(hello, context(memory=known_mailbox()))
    assert result.verdict == "clean"
    assert "sender.first_contact" not in {f.rule for f in result.findings}


def test_first_contact_adds_weight_to_another_warning():
    unconfirmed = mail(from_="Clara Vogt <clara@vogt-design.de>", spf="fail", dkim="fail", dkim_domain="vogt-design.de",
                       msgid_domain="vogt-design.de", extra=[("Reply-To", "clara.vogt.pay@gmail.com")])
    with_memory = check(unconfirmed, context(memory=known_mailbox()))
    without = check(unconfirmed, context())
    assert "sender.first_contact" in {f.rule for f in with_memory.findings}
    assert with_memory.score > without.score


def test_first_contact_needs_a_mailbox_the_memory_knows():
    unconfirmed = mail(from_="Clara Vogt <clara@vogt-design.de>", spf="fail", dkim="fail", dkim_domain="vogt-design.de",
                       msgid_domain="vogt-design.de", extra=[("Reply-To", "clara.vogt.pay@gmail.com")])
    assert "sender.first_contact" not in rules_of(unconfirmed, book(("Anna Weber", "anna@weber-bau.de")))


def test_a_known_name_from_a_firm_never_dealt_with_is_suspicious_and_says_it_may_be_a_namesake():
    memory = book(("Paolo Gatti", "paolo.gatti@gatti-trasporti.it"))
    fake = mail(from_="Paolo Gatti <paolo.gatti@gatti-logistica.com>", dkim_domain="gatti-logistica.com",
                msgid_domain="gatti-logistica.com")
    result = check(fake, context(memory=memory))
    finding = next(f for f in result.findings if f.rule == "sender.name_of_contact")
    assert finding.severity == "medium" and result.verdict == "suspicious"
    assert "new address" in finding.explanation or "private" in finding.explanation  # the innocent reading


def test_a_known_name_from_a_known_firm_is_a_low_note():
    memory = book(("Paolo Gatti", "paolo.gatti@gatti-trasporti.it"), ("Ufficio Gatti", "ufficio@gatti-trasporti.it"))
    memory.wrote_to("info@gatti-logistica.com", "Gatti Logistica")
    colleague = mail(from_="Paolo Gatti <p.gatti@gatti-logistica.com>", dkim_domain="gatti-logistica.com",
                     msgid_domain="gatti-logistica.com")
    assert rules_of(colleague, memory).get("sender.name_of_contact") == "low"


# --- what a review found an attacker could do (each must stay impossible) ------------------------------------


def test_a_strangers_free_mail_address_never_becomes_a_contact_by_writing_and_cannot_then_borrow_a_name():
    memory = book(("Weber Bau GmbH", "buchhaltung@weber-bau.de"))
    for n in range(3):  # three bland, clean mails over three weeks
        learnt(mail(from_="Max Power <weberbau.rechnung@gmail.com>", dkim_domain="gmail.com",
                    msgid_domain="mail.gmail.com", n=70 + n, subject=f"hello {n}"), memory=memory)
    stranger = memory.get("weberbau.rechnung@gmail.com")
    stranger.first, stranger.last = 1_700_000_000, 1_700_000_000 + 21 * 86400
    assert stranger.received == 3 and stranger.authenticated == 3 and not stranger.vouched
    fake = mail(from_="Weber Bau GmbH <weberbau.rechnung@gmail.com>", dkim_domain="gmail.com",
                msgid_domain="mail.gmail.com", n=80)
    assert rules_of(fake, memory).get("sender.name_of_contact") == "high"


def test_a_known_address_vouched_by_its_mail_cannot_take_another_known_name():
    memory = book(("Weber Bau GmbH", "buchhaltung@weber-bau.de"))
    peter = [mail(from_="Peter Brandt <peter@brandt-holz.de>", dkim_domain="brandt-holz.de",
                  msgid_domain="brandt-holz.de", n=90 + n) for n in range(3)]
    learnt(*peter, memory=memory)
    c = memory.get("peter@brandt-holz.de")
    c.first, c.last = 1_700_000_000, 1_700_000_000 + 21 * 86400
    assert c.vouched
    fake = mail(from_="Weber Bau GmbH <peter@brandt-holz.de>", dkim_domain="brandt-holz.de",
                msgid_domain="brandt-holz.de", n=95)
    assert "sender.name_of_contact" in rules_of(fake, memory)


def test_a_signature_by_another_tenant_of_the_same_platform_is_not_theirs():
    shared = learnt(*(mail(dkim_domain="lloyd-accounts-co-uk.20230601.gappssmtp.com", n=n) for n in range(5)))
    other = mail(dkim_domain="evil-example.20230601.gappssmtp.com", n=96)
    assert rules_of(other, shared).get("sender.contact_wrong_path") == "medium"


def test_a_list_header_added_by_the_forger_does_not_silence_the_wrong_path():
    klez = mail(hop=BOTNET_HOP, dkim="none", mailer="Foxmail 7.2", msgid_domain="dsl-pool.example", n=97,
                extra=[("List-Id", "<x.example>"), ("Precedence", "bulk")])
    assert rules_of(klez, history()).get("sender.contact_wrong_path") == "high"


def test_a_contact_signed_twice_has_a_usual_signature():
    twice = learnt(*(mail(n=n, extra=[("Authentication-Results",
                                        f"{AUTHSERV}; dkim=pass header.d=lloyd.onmicrosoft.com")]) for n in range(5)))
    assert twice.get("gareth@lloyd-accounts.co.uk").usual("dkim") is not None


@pytest.mark.parametrize("shown", ["Gareth Lloyd (CEO)", "Lloyd, Gareth | Lloyd Accounts", "Gаreth Lloyd"])
def test_extra_words_and_look_alike_letters_do_not_hide_a_known_name(shown):
    memory = book(("Gareth Lloyd", "gareth@lloyd-accounts.co.uk"))
    fake = mail(from_=f'"{shown}" <g.lloyd.office@gmail.com>', dkim_domain="gmail.com", msgid_domain="mail.gmail.com")
    assert "sender.name_of_contact" in rules_of(fake, memory)


def test_a_contact_sending_through_a_signing_service_is_not_an_impersonation():
    memory = book(("Gareth Lloyd", "gareth@lloyd-accounts.co.uk"))
    docusign = mail(from_="Gareth Lloyd via DocuSign <dse@docusign.net>", dkim_domain="docusign.net",
                    msgid_domain="docusign.net")
    assert "sender.name_of_contact" not in rules_of(docusign, memory)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Michael Braun", "Michał Braun", False), ("Günther Köhler", "Guenther Koehler", True),
    ("Günther Köhler", "Gunther Kohler", True), ("Don Johnson", "Johnson", False)])
def test_names_fold_only_where_people_write_them_so(a, b, same):
    from klezguard.core.correspondents import name_keys

    assert bool(set(name_keys(a)) & set(name_keys(b))) == same
    assert name_keys("Li Na") and name_keys("Don Johnson") == ("don johnson",)


@pytest.mark.parametrize(("hop", "host"), [
    ("from mail-ej1-f41.google.com (mail-ej1-f41.google.com. [209.85.218.41]) by mx.provider-test.example",
     "google.com"),
    ("from unknown (unknown [203.0.113.7]) by mx.provider-test.example", "unnamed"),
    ("from dsl-1.isp.example ([203.0.113.5]) by mx.provider-test.example", "unnamed"),
    ("from mail.sender.de (198.51.100.4) by mx.provider-test.example", ""),  # the name looked up is not written
])
def test_the_host_that_handed_the_mail_over_is_read_as_each_server_writes_it(hop, host):
    seen = arrival(from_bytes(mail(hop=hop + "; Mon, 2 Nov 2026 10:00:00 +0000")), frozenset({AUTHSERV}))
    assert seen is not None and seen.host == host


def test_a_service_name_does_not_cover_a_forgery_its_domain_refuses():
    memory = book(("Gareth Lloyd", "gareth@lloyd-accounts.co.uk"))
    forged = mail(from_="Gareth Lloyd via DocuSign <dse@docusign.net>", spf="fail", dkim="fail",
                  dkim_domain="docusign.net", msgid_domain="docusign.net")
    assert "sender.name_of_contact" in rules_of(forged, memory)
