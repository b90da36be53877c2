"""Sender rules: every rule fires on its trick and stays quiet on the benign look-alikes."""

import re

import pytest

from tests.mailfactory import AUTHSERV, OWN, auth, build, check, context, rules

PUBLIC_HOP = (
    "from mail.sender.example (mail.sender.example [203.0.113.10]) by mx.provider-test.example "
    "with ESMTPS id abc123; Mon, 2 Nov 2026 10:00:00 +0000"
)


def mail(from_, *extra, ar=None, received=True, **kw):
    """build() with the provider's Authentication-Results (if given) on top, like a receiving server."""
    headers = list(extra)
    if ar is not None:
        headers.insert(0, ("Authentication-Results", ar))
    return build(from_=from_, headers=headers, received=received, **kw)


def raw(headers, body="Hello,\n\nplease see below.\n"):
    """A message with exactly these headers, top to bottom."""
    lines = [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sent_to(*addresses):
    """A sent folder holding one message to each address: they become correspondents."""
    return [
        raw([("From", f"Owner <owner@{OWN}>"), ("To", a), ("Subject", "x"), ("Message-ID", f"<s{i}@{OWN}>")])
        for i, a in enumerate(addresses)
    ]


def findings(result, rule):
    return [f for f in result.findings if f.rule == rule]


def one(result, rule):
    found = findings(result, rule)
    assert len(found) == 1, [f.rule for f in result.findings]
    return found[0]


# --- sender.name_shows_other_address -----------------------------------------------------------------

NAME = "sender.name_shows_other_address"


def test_name_with_other_address_fires():
    r = check(mail('"Anna Weber <anna@weber-bau.example>" <billing@secure-pay.example>'))
    f = one(r, NAME)
    assert f.severity == "medium"
    assert "anna@weber-bau.example" in f.title and "billing@secure-pay.example" in f.title
    assert "Anna Weber <anna@weber-bau.example>" in f.explanation
    assert "billing@secure-pay.example" in f.evidence["From"]
    assert r.verdict == "suspicious"


def test_name_with_own_address_is_high():
    r = check(mail(f'"accounts@{OWN} via Dropbox" <no-reply@share-docs.example>'))
    f = one(r, NAME)
    assert f.severity == "high"
    assert "own company" in f.explanation


def test_name_with_correspondent_address_is_high():
    ctx = context(sent=sent_to("mina@ndiaye-accounts.example"))
    r = check(mail('"Mina Ndiaye (mina@ndiaye-accounts.example)" <mina.x1@webmail-free.example>'), ctx)
    assert one(r, NAME).severity == "high"


def test_fullwidth_at_sign_is_read_as_address():
    r = check(mail('"service\uff20paypal.example" <notify@notify-hub.example>'))
    assert "service@paypal.example" in one(r, NAME).title


@pytest.mark.parametrize(
    "from_",
    [
        '"anna@weber-bau.example" <anna@weber-bau.example>',  # the name is the address itself
        '"ANNA@Weber-Bau.example" <anna@weber-bau.example>',
        '"anna@weber-bau.example" <anna@mail.weber-bau.example>',  # same organisation
        '"fooo@foo.example- private" <fooo@foo.example>',  # trailing junk after the address
        '"info@m\u00fcller-holzbau.example" <info@xn--mller-holzbau-wob.example>',  # IDN, two spellings
        "Anna Weber <anna@weber-bau.example>",
        '"Anna at weber-bau.example" <x@list.example>',  # Mailman writes "at", not "@"
    ],
)
def test_name_quiet_cases(from_):
    assert not findings(check(mail(from_)), NAME)


def test_google_groups_post_naming_the_poster_is_quiet():
    raw_mail = mail(
        "'ann@weber-bau.example' via Projects <projects@groups-host.example>",
        ("List-Id", "<projects.groups-host.example>"),
        ar=auth(domain="groups-host.example"),
    )
    assert not findings(check(raw_mail), NAME)


def test_own_web_form_naming_the_customer_is_quiet():
    raw_mail = mail(f'"customer@webmail-free.example" <form@{OWN}>', ar=auth(domain=OWN))
    assert not findings(check(raw_mail), NAME)


def test_sharing_service_with_matching_name_is_low():
    raw_mail = mail(
        '"lucy@lucy-design.example (via Google Drive)" <drive-shares-noreply@google.com>',
        ar=auth(domain="google.com"),
    )
    f = one(check(raw_mail), NAME)
    assert f.severity == "low"
    assert "Google Drive" in f.explanation


def test_sharing_service_name_on_other_domain_is_not_excused():
    raw_mail = mail(
        '"lucy@lucy-design.example via Dropbox" <no-reply@sharepoint-docs.example>',
        ar=auth(domain="sharepoint-docs.example"),
    )
    assert one(check(raw_mail), NAME).severity == "medium"


# --- sender.reply_to_elsewhere -------------------------------------------------------------------------

REPLY = "sender.reply_to_elsewhere"


def test_boss_fraud_reply_to_freemail_is_high():
    raw_mail = mail(
        f"Rita Moss <rita@{OWN}>",
        ("Reply-To", "mark.ellison.office@gmail.com"),
        ar=auth(spf="softfail", dkim="none", dmarc="fail", domain=OWN, mailfrom="x@alpha-group.example"),
    )
    r = check(raw_mail)
    f = one(r, REPLY)
    assert f.severity == "high"
    assert "mark.ellison.office@gmail.com" in f.title
    assert "boss fraud" in f.explanation
    assert f.evidence["Reply-To"] == "mark.ellison.office@gmail.com"
    assert r.verdict == "threat"


def test_known_supplier_with_lookalike_reply_domain_is_high():
    ctx = context(sent=sent_to("accounts@birchfield-supplies.example"))
    forged = mail(
        "Ivan Marsh <ivan@birchfield-supplies.example>",
        ("Reply-To", "ivan@birchfield-suppIies.example"),
        ar=auth(spf="pass", dkim="none", dmarc="fail", domain="birchfield-supplies.example", mailfrom="q.example"),
    )
    f = one(check(forged, ctx), REPLY)
    assert f.severity == "high"
    assert "made to look like" in f.explanation
    # Even from the confirmed supplier, a one-letter look-alike is worth a warning.
    confirmed = mail(
        "Ivan Marsh <ivan@birchfield-supplies.example>",
        ("Reply-To", "ivan@birchfield-suppIies.example"),
        ar=auth(domain="birchfield-supplies.example"),
    )
    assert one(check(confirmed, ctx), REPLY).severity == "medium"


def test_known_contact_unconfirmed_with_freemail_reply_is_high():
    ctx = context(sent=sent_to("clara@holtlettings.example"))
    raw_mail = mail(
        "Clara Holt <clara@holtlettings.example>",
        ("Reply-To", "clara.2f8@gmail.com"),
        ar=auth(spf="pass", dkim="none", dmarc="fail", domain="holtlettings.example", mailfrom="x@nova.example"),
    )
    f = one(check(raw_mail, ctx), REPLY)
    assert f.severity == "high"
    assert "free webmail" in f.explanation


def test_unknown_business_freemail_reply_unconfirmed_is_medium_else_low():
    unconfirmed = mail(
        "Billing <billing@shop.example>",
        ("Reply-To", "shop.billing@gmail.com"),
        ar=auth(spf="none", dkim="none", dmarc="none", domain="shop.example"),
    )
    assert one(check(unconfirmed), REPLY).severity == "medium"
    confirmed = mail(
        "Billing <billing@shop.example>", ("Reply-To", "shop.billing@gmail.com"), ar=auth(domain="shop.example")
    )
    assert one(check(confirmed), REPLY).severity == "low"


def test_newsletter_reply_to_support_company_is_quiet_when_confirmed():
    raw_mail = mail(
        "Trendline <news@trendline.example>",
        ("Reply-To", "help@trendline-support.example"),
        ("List-Unsubscribe", "<mailto:u@esp.example>"),
        ar=auth(domain="trendline.example"),
    )
    assert not findings(check(raw_mail), REPLY)
    plain = mail(
        "Trendline <news@trendline.example>",
        ("Reply-To", "help@ticket-desk.example"),
        ar=auth(domain="trendline.example"),
    )
    assert not findings(check(plain), REPLY)
    unchecked = mail("Trendline <news@trendline.example>", ("Reply-To", "help@ticket-desk.example"))
    assert one(check(unchecked), REPLY).severity == "low"


@pytest.mark.parametrize(
    ("from_", "reply_to", "to"),
    [
        ("Anna <anna@weber-bau.example>", "anna@office.weber-bau.example", f"owner@{OWN}"),  # same organisation
        ("Anna <anna@weber-bau.example>", f"sam@{OWN}", f"owner@{OWN}"),  # replies come to you
        ("Form <form@site.example>", "customer@gmail.com", "form@site.example"),  # a form mails itself
    ],
)
def test_reply_to_quiet_cases(from_, reply_to, to):
    assert not findings(check(mail(from_, ("Reply-To", reply_to), to=to)), REPLY)


def test_mailing_list_reply_to_list_is_quiet():
    raw_mail = mail(
        "Ravi <ravi@member.example>",
        ("Reply-To", "talk@lists.woodworkers.example"),
        ("List-Id", "Talk <talk.lists.woodworkers.example>"),
        ("Sender", "talk-bounces@lists.woodworkers.example"),
        ar=auth(
            dmarc="fail",
            domain="member.example",
            dkim_domain="lists.woodworkers.example",
            mailfrom="lists.woodworkers.example",
        ),
    )
    r = check(raw_mail)
    assert not [f for f in r.findings if f.category == "sender"]


def test_own_web_form_with_customer_reply_to_is_quiet():
    raw_mail = mail(f"Website <website@{OWN}>", ("Reply-To", "customer@gmail.com"), ar=auth(domain=OWN))
    assert not findings(check(raw_mail), REPLY)


def test_invoice_service_replying_to_known_supplier_is_quiet():
    ctx = context(sent=sent_to("accounts@birchfield-supplies.example"))
    raw_mail = mail(
        "Birchfield Supplies <messaging-service@post.invoicing.example>",
        ("Reply-To", "Birchfield Supplies <accounts@birchfield-supplies.example>"),
        ar=auth(domain="post.invoicing.example", mailfrom="bounce-1@ses.example"),
    )
    r = check(raw_mail, ctx)
    assert not [f for f in r.findings if f.category == "sender"]


# --- sender.envelope_elsewhere --------------------------------------------------------------------------

ENVELOPE = "sender.envelope_elsewhere"


def test_envelope_of_other_company_is_low_and_names_web_account():
    raw_mail = mail("DHL Express <service@dhl.example>", ("Return-Path", "<apache@shop.orbit.example>"))
    f = one(check(raw_mail), ENVELOPE)
    assert f.severity == "low"
    assert "orbit.example" in f.title and "dhl.example" in f.title
    assert "web server" in f.explanation
    assert f.evidence["Return-Path"] == "<apache@shop.orbit.example>"


@pytest.mark.parametrize(
    "return_path",
    [
        "<anna@weber-bau.example>",  # the same as From
        "<bounce@mail.weber-bau.example>",
        "<>",  # null sender
        "<SRS0=ab12=XY=weber-bau.example=anna@forwarder.example>",
        "<talk-bounces+owner=harbour-test.example@lists.example>",
        "<prvs=1234abcd=anna@relay.example>",
        "<btv1==123abc==anna@relay.example>",
        "<bounces+123-abc@em123.esp.example>",
        "<owner-talk@lists.example>",
        "<talk-request@lists.example>",
    ],
)
def test_envelope_quiet_cases(return_path):
    raw_mail = mail("Anna Weber <anna@weber-bau.example>", ("Return-Path", return_path))
    assert not findings(check(raw_mail), ENVELOPE)


def test_envelope_quiet_with_aligned_dkim():
    raw_mail = mail(
        "Timber Weekly <editor@timberweekly.example>",
        ("Return-Path", "<0102018e5066a0dd-000000@eu-west-1.mailservice.example>"),
        ar=auth(domain="timberweekly.example", mailfrom="eu-west-1.mailservice.example"),
    )
    assert not findings(check(raw_mail), ENVELOPE)


# --- sender.sent_on_behalf ------------------------------------------------------------------------------

BEHALF = "sender.sent_on_behalf"


def test_sender_of_other_company_is_explained():
    raw_mail = mail("HMRC <billing@hmrc.example>", ("Sender", "mailer@delta-group.example"))
    f = one(check(raw_mail), BEHALF)
    assert f.severity == "low"
    assert "mailer@delta-group.example" in f.title and "billing@hmrc.example" in f.title
    assert "often fine" in f.explanation


@pytest.mark.parametrize(
    ("sender", "ar"),
    [
        ("Office <assistant@holtlettings.example>", None),  # delegated, same organisation
        ("Invoices <send@invoice-tool.example>", auth(domain="holtlettings.example")),  # From confirmed
        ("RRGA-L@LIST.RTOWEST.EXAMPLE", None),  # a LISTSERV list without List-* headers
    ],
)
def test_sender_quiet_cases(sender, ar):
    raw_mail = mail("Clara Holt <clara@holtlettings.example>", ("Sender", sender), ar=ar)
    assert not findings(check(raw_mail), BEHALF)


# --- sender.not_confirmed -------------------------------------------------------------------------------

AUTH = "sender.not_confirmed"


def test_dmarc_fail_with_reject_policy_is_high():
    ar = (
        f"{AUTHSERV}; dkim=none; spf=pass smtp.mailfrom=noreply@relay-host.example;"
        " dmarc=fail (p=reject dis=reject) header.from=microsoft.example"
    )
    r = check(mail("Microsoft 365 <service@microsoft.example>", ar=ar))
    f = one(r, AUTH)
    assert f.severity == "high"
    assert "microsoft.example" in f.title
    assert "could not confirm that it really came from microsoft.example" in f.explanation
    assert "refuse" in f.explanation and "mail system of relay-host.example" in f.explanation
    assert f.advice.startswith("Treat it as fake")
    checks = f.evidence["Checks by your mail provider"]
    assert "SPF: pass for relay-host.example" in checks and "DMARC: fail (policy: reject)" in checks
    assert f.evidence["Authentication-Results (your provider)"] == [ar]
    assert r.verdict == "threat"


JARGON = ("SPF", "DKIM", "DMARC", "ARC", "p=", "policy:", "pass", "fail")


@pytest.mark.parametrize(
    ("from_", "ar", "severity"),
    [
        ("Bank <a@bank.example>", f"{AUTHSERV}; spf=fail smtp.mailfrom=bank.example; dmarc=fail (p=reject)", "high"),
        ("Shop <a@shop.example>", f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=a@shop.example", "medium"),
        (
            "Shop <a@shop.example>",
            f"{AUTHSERV}; spf=pass smtp.mailfrom=b@esp-mail.example; dkim=pass header.d=esp-mail.example; dmarc=none",
            "low",
        ),
    ],
)
def test_not_confirmed_explains_without_jargon(from_, ar, severity):
    f = one(check(mail(from_, ar=ar)), AUTH)
    assert f.severity == severity
    text = f"{f.title} {f.explanation} {f.advice}"
    for word in JARGON:
        assert not re.search(rf"\b{re.escape(word)}\b", text), word
    assert f.evidence["Checks by your mail provider"]


def test_outright_fail_with_p_none_is_medium_and_high_for_a_contact():
    ar = (
        f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=anna@yandex.example;"
        " dmarc=fail (p=none dis=none) header.from=yandex.example"
    )
    raw_mail = mail("Anna <anna@yandex.example>", ar=ar)
    f = one(check(raw_mail), AUTH)
    assert f.severity == "medium" and f.advice.startswith("Be careful")
    assert "Anyone can type" in f.explanation
    f = one(check(raw_mail, context(sent=sent_to("anna@yandex.example"))), AUTH)
    assert f.severity == "high"
    assert "You write to this sender" in f.explanation


def test_p_none_fail_without_outright_fail_is_low_also_for_a_contact():
    # A supplier whose web host is not in its own settings: soft fail, no signature, a policy that blocks nothing.
    ar = (
        f"{AUTHSERV}; spf=softfail smtp.mailfrom=tom@reeve-tools.example; dkim=none;"
        " dmarc=fail (p=none dis=none) header.from=reeve-tools.example"
    )
    raw_mail = mail("Tom Reeve <tom@reeve-tools.example>", ar=ar)
    for ctx in (context(), context(sent=sent_to("tom@reeve-tools.example"))):
        r = check(raw_mail, ctx)
        f = one(r, AUTH)
        assert f.severity == "low"
        assert "does not ask them to block" in f.explanation and "may well be real" in f.explanation
        assert "You write to this sender" not in f.explanation
        assert f.advice.startswith("This alone is no reason to worry")
        assert "Treat it as fake" not in f.advice
        assert r.verdict == "clean"


def test_p_none_fail_straight_from_a_home_computer_is_medium_and_high_for_a_contact():
    # The Klez way: a worm on someone's PC talks straight to your provider, using a contact's address.
    ar = (
        f"{AUTHSERV}; spf=softfail smtp.mailfrom=tom@reeve-tools.example; dkim=none;"
        " dmarc=fail (p=none dis=none) header.from=reeve-tools.example"
    )
    hop = (
        "from 49v6jaqs (host-201-181.cable.isp-test.example [201.181.179.59]) by mx.provider-test.example"
        " with ESMTPS id 7; Mon, 2 Nov 2026 10:00:00 +0000"
    )
    raw_mail = mail("Tom Reeve <tom@reeve-tools.example>", ("Received", hop), ar=ar, received=False)
    f = one(check(raw_mail), AUTH)
    assert f.severity == "medium"
    assert "home or office computer" in f.explanation and "may well be real" not in f.explanation
    assert f.evidence["Sent from"] == "49v6jaqs (host-201-181.cable.isp-test.example [201.181.179.59])"
    r = check(raw_mail, context(sent=sent_to("tom@reeve-tools.example")))
    assert one(r, AUTH).severity == "high" and r.verdict == "threat"


def test_unchecked_domain_straight_from_a_home_computer_is_medium():
    ar = (
        f"{AUTHSERV}; spf=none smtp.mailfrom=lars@bergbuild.example; dkim=none;"
        " dmarc=none header.from=bergbuild.example"
    )
    by = "by mx.provider-test.example with SMTP id 8; Mon, 2 Nov 2026 10:00:00 +0000"
    hop = f"from User (unknown [198.51.100.7]) {by}"
    raw_mail = mail("Lars Berg <lars@bergbuild.example>", ("Received", hop), ar=ar, received=False)
    assert one(check(raw_mail), AUTH).severity == "medium"
    # The same mail from a named mail server stays low.
    server = f"from mx.webhost.example (mx.webhost.example [198.51.100.7]) {by}"
    raw_mail = mail("Lars Berg <lars@bergbuild.example>", ("Received", server), ar=ar, received=False)
    assert one(check(raw_mail), AUTH).severity == "low"


def test_p_none_fail_when_only_another_domain_fails_is_low():
    ar = (
        f"{AUTHSERV}; spf=fail smtp.mailfrom=x@bulk-relay.example; dkim=none;"
        " dmarc=fail (p=none) header.from=reeve-tools.example"
    )
    assert one(check(mail("Tom <tom@reeve-tools.example>", ar=ar)), AUTH).severity == "low"


def test_freemail_fail_is_medium_even_with_p_none_and_high_for_a_contact():
    # Big webmail services sign everything they send: a gmail.com From without their signature is a fake.
    ar = (
        f"{AUTHSERV}; spf=softfail smtp.mailfrom=ben.carter@gmail.com; dkim=none;"
        " dmarc=fail (p=none dis=none) header.from=gmail.com"
    )
    raw_mail = mail("Ben Carter <ben.carter@gmail.com>", ar=ar)
    f = one(check(raw_mail), AUTH)
    assert f.severity == "medium" and "large mail service" in f.explanation
    assert one(check(raw_mail, context(sent=sent_to("ben.carter@gmail.com"))), AUTH).severity == "high"


def test_nothing_checked_is_low_also_for_contacts():
    ar = (
        f"{AUTHSERV}; dkim=none; spf=none smtp.mailfrom=lars@bergbuild.example;"
        " dmarc=none header.from=bergbuild.example"
    )
    raw_mail = mail("Lars Berg <lars@bergbuild.example>", ar=ar)
    f = one(check(raw_mail), AUTH)
    assert f.severity == "low"
    assert "has not set up the checks" in f.explanation
    f = one(check(raw_mail, context(sent=sent_to("lars@bergbuild.example"))), AUTH)
    assert f.severity == "low" and "You write to this sender" not in f.explanation


def test_calendar_invite_sent_by_a_service_for_a_contact_is_low_and_clean():
    ar = (
        f"{AUTHSERV}; spf=pass smtp.mailfrom=3xYz@calendar-server.bounces.google.com;"
        " dkim=pass header.d=studio-example.20230601.gappssmtp.com; dmarc=none header.from=studio.example"
    )
    raw_mail = mail(
        "Priya Shah <priya@studio.example>",
        ("Return-Path", "<3xYz@calendar-server.bounces.google.com>"),
        ar=ar,
        subject="Invitation: Site visit @ Thu 13 Jun 2024 10am",
    )
    r = check(raw_mail, context(sent=sent_to("priya@studio.example")))
    f = one(r, AUTH)
    assert f.severity == "low"
    assert "mail system of google.com" in f.explanation and "Calendars, newsletter tools" in f.explanation
    assert r.verdict == "clean"


def test_spf_hard_fail_of_the_from_domain_without_dmarc_is_medium_high_for_contact():
    ar = f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=a@shop.example"
    raw_mail = mail("Shop <a@shop.example>", ar=ar)
    assert one(check(raw_mail), AUTH).severity == "medium"
    assert one(check(raw_mail, context(sent=sent_to("a@shop.example"))), AUTH).severity == "high"


def test_spf_fail_of_another_domain_without_dmarc_is_low():
    ar = f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=x@other-host.example"
    assert one(check(mail("Shop <a@shop.example>", ar=ar)), AUTH).severity == "low"


def test_broken_signature_of_the_from_domain_counts_as_a_fail():
    ar = f"{AUTHSERV}; dkim=fail header.d=shop.example; spf=none smtp.mailfrom=shop.example"
    assert one(check(mail("Shop <a@shop.example>", ar=ar)), AUTH).severity == "medium"


def test_microsoft_composite_fail_counts_unless_the_domain_has_no_checks():
    base = "spf=none smtp.mailfrom=shop.example; dkim=none; dmarc=none header.from=shop.example"
    ctx = context(trusted=("mx.provider-test.example",))
    raw_mail = mail("Shop <a@shop.example>", ar=f"{base};compauth=fail reason=000")
    assert one(check(raw_mail, ctx), AUTH).severity == "medium"
    raw_mail = mail("Shop <a@shop.example>", ar=f"{base};compauth=fail reason=001")
    assert one(check(raw_mail, ctx), AUTH).severity == "low"


# Forwarded mail: the provider confirms the forwarding chain (ARC); the first forwarder's record says
# what the original looked like.

FWD_HOP = (
    "from out1.forward-mail.example (out1.forward-mail.example [198.51.100.20]) by mx.provider-test.example "
    "with ESMTPS id f1; Mon, 2 Nov 2026 10:00:00 +0000"
)


def forwarded(from_, ar, aar=None):
    headers = [("Authentication-Results", ar), ("Received", FWD_HOP)]
    if aar:
        headers.append(("ARC-Authentication-Results", aar))
    headers += [
        ("From", from_),
        ("To", f"owner@old-{OWN}"),
        ("Subject", "Re: VAT return"),
        ("Message-ID", "<f1@sender.example>"),
    ]
    return raw(headers)


ARC_FAILED_DMARC = (
    f"{AUTHSERV}; spf=pass smtp.mailfrom=SRS0=ab=cd=accounts.example=ruth@forward-mail.example;"
    " dkim=fail (body hash mismatch) header.d=accounts.example;"
    " dmarc=fail (p=reject sp=reject dis=none) header.from=accounts.example"
)


def test_forward_whose_first_hop_passed_is_quiet():
    # The provider's own summary of the chain (as Gmail and Microsoft write it) ...
    ar = ARC_FAILED_DMARC + "; arc=pass (i=1 spf=pass dkim=pass dmarc=pass)"
    raw_mail = forwarded("Ruth <ruth@accounts.example>", ar)
    assert not findings(check(raw_mail), AUTH)
    assert not findings(check(raw_mail, context(sent=sent_to("ruth@accounts.example"))), AUTH)
    # ... or the sealed record of the first forwarder.
    aar = (
        "i=1; mx.forward-mail.example; spf=pass smtp.mailfrom=accounts.example;"
        " dkim=pass header.d=accounts.example; dmarc=pass header.from=accounts.example"
    )
    assert not findings(check(forwarded("Ruth <ruth@accounts.example>", ARC_FAILED_DMARC + "; arc=pass", aar)), AUTH)


def test_forward_without_a_record_of_the_first_hop_drops_two_steps():
    ar = ARC_FAILED_DMARC + "; arc=pass"
    f = one(check(forwarded("Bank <alerts@accounts.example>", ar)), AUTH)
    assert f.severity == "low"
    assert "forwarding service" in f.explanation and "in order" in f.explanation
    assert f.advice.startswith("This alone is no reason to worry")
    assert "Anyone can type" not in f.explanation
    # A correspondent's mail through an intact forward: quiet.
    ctx = context(sent=sent_to("ruth@accounts.example"))
    assert not findings(check(forwarded("Ruth <ruth@accounts.example>", ar), ctx), AUTH)
    # Medium becomes quiet.
    medium = f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=a@shop.example; arc=pass"
    assert not findings(check(forwarded("Shop <a@shop.example>", medium)), AUTH)


def test_forward_whose_first_hop_also_failed_is_not_excused():
    aar = (
        "i=1; mx.forward-mail.example; spf=fail smtp.mailfrom=accounts.example; dkim=none;"
        " dmarc=fail header.from=accounts.example"
    )
    f = one(check(forwarded("Ruth <ruth@accounts.example>", ARC_FAILED_DMARC + "; arc=pass", aar)), AUTH)
    assert f.severity == "high"
    assert "could not confirm accounts.example either" in f.explanation
    assert "DMARC: fail" in f.evidence["Checks by the first forwarding server"]


def test_forward_the_provider_did_not_trust_is_not_excused():
    # Anyone can run a forwarder and seal a chain that says "it passed"; when the provider still applied
    # the From domain's policy (dis=quarantine), it did not believe that forwarder either.
    ar = (
        f"{AUTHSERV}; spf=pass smtp.mailfrom=x@sealer.example; dkim=none;"
        " dmarc=fail (p=quarantine dis=quarantine) header.from=accounts.example; arc=pass"
    )
    aar = "i=1; mx.sealer.example; spf=pass smtp.mailfrom=accounts.example; dmarc=pass header.from=accounts.example"
    ctx = context(sent=sent_to("ruth@accounts.example"))
    f = one(check(forwarded("Ruth <ruth@accounts.example>", ar, aar), ctx), AUTH)
    assert f.severity == "high" and "forwarding" not in f.explanation


def test_soft_fail_without_dmarc_is_low_and_says_why():
    ar = f"{AUTHSERV}; spf=softfail smtp.mailfrom=accounts@oak-timber.example; dkim=none; dmarc=none"
    f = one(check(mail("Accounts <accounts@oak-timber.example>", ar=ar)), AUTH)
    assert f.severity == "low" and "not on the list" in f.explanation


def test_record_of_a_broken_chain_is_ignored():
    aar = "i=1; mx.forward-mail.example; dmarc=pass header.from=accounts.example"
    for arc in ("arc=fail", "arc=none"):
        f = one(check(forwarded("Ruth <ruth@accounts.example>", f"{ARC_FAILED_DMARC}; {arc}", aar)), AUTH)
        assert f.severity == "high"
        assert "forwarding" not in f.explanation


@pytest.mark.parametrize(
    "ar",
    [
        auth(domain="weber-bau.example"),
        auth(spf="pass", dkim="none", dmarc=None, domain="weber-bau.example"),
        auth(spf="softfail", dkim="pass", dmarc=None, domain="weber-bau.example"),  # DKIM alone is enough
        auth(spf="fail", dkim="none", dmarc="fail", domain="weber-bau.example", authserv="mx.elsewhere.example"),
        "spf=fail smtp.mailfrom=x.example; dmarc=fail header.from=weber-bau.example;compauth=pass reason=109",
    ],
)
def test_not_confirmed_quiet_cases(ar):
    ctx = context(trusted=(AUTHSERV, "mx.provider-test.example"))
    assert not findings(check(mail("Anna <anna@weber-bau.example>", ar=ar), ctx), AUTH)


def test_forged_pass_below_the_entry_does_not_hide_the_fail():
    headers = [
        (
            "Authentication-Results",
            f"{AUTHSERV}; spf=fail smtp.mailfrom=bank.example; dmarc=fail (p=reject) header.from=bank.example",
        ),
        ("Received", PUBLIC_HOP),
        ("Authentication-Results", f"{AUTHSERV}; dmarc=pass header.from=bank.example"),
        ("From", "Bank <alerts@bank.example>"),
        ("To", f"owner@{OWN}"),
        ("Subject", "Verify"),
        ("Message-ID", "<1@bank.example>"),
    ]
    f = one(check(raw(headers)), AUTH)
    assert f.severity == "high"
    ignored = f.evidence["Authentication-Results (ignored: not written by your provider)"]
    assert ignored == [f"{AUTHSERV}; dmarc=pass header.from=bank.example"]


def test_mailing_list_post_breaking_dmarc_is_quiet():
    raw_mail = mail(
        "Nora <nora@sierra-trade.example>",
        ("List-Id", "<talk.lists.woodworkers.example>"),
        ("Return-Path", "<talk-bounces+owner=harbour-test.example@lists.woodworkers.example>"),
        ar=(
            f"{AUTHSERV}; dkim=pass header.d=lists.woodworkers.example; dkim=fail header.d=sierra-trade.example;"
            " spf=pass smtp.mailfrom=talk-bounces@lists.woodworkers.example;"
            " dmarc=fail (p=reject) header.from=sierra-trade.example"
        ),
    )
    assert not [f for f in check(raw_mail).findings if f.category == "sender"]


def test_fake_list_headers_without_list_signature_do_not_excuse():
    raw_mail = mail(
        "Bank <alerts@bank.example>",
        ("List-Unsubscribe", "<mailto:u@bank.example>"),
        ar=(
            f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=x@botnet.example;"
            " dmarc=fail (p=reject) header.from=bank.example"
        ),
    )
    assert one(check(raw_mail), AUTH).severity == "high"


def test_bounce_from_mailer_daemon_is_left_to_backscatter_rules():
    raw_mail = mail(
        "Mail Delivery System <MAILER-DAEMON@mx3.far-away.example>",
        ("Return-Path", "<>"),
        ar=f"{AUTHSERV}; dkim=none; spf=none smtp.helo=relay.other.example",
    )
    assert not findings(check(raw_mail), AUTH)


def test_own_website_form_with_visitor_from_is_quiet():
    raw_mail = mail(
        "Visitor <visitor@gmail.com>",
        ("Return-Path", f"<www-data@{OWN}>"),
        ar=f"{AUTHSERV}; dkim=none; spf=pass smtp.mailfrom=www-data@{OWN}; dmarc=fail (p=none) header.from=gmail.com",
    )
    r = check(raw_mail)
    assert not findings(r, AUTH)


# --- sender.own_domain_unconfirmed ----------------------------------------------------------------------

OWNRULE = "sender.own_domain_unconfirmed"


def test_own_domain_failing_checks_is_high():
    raw_mail = mail(
        f"Rita Moss <rita@{OWN}>",
        ar=f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=rita@{OWN}; dmarc=fail (p=none) header.from={OWN}",
    )
    r = check(raw_mail)
    f = one(r, OWNRULE)
    assert f.severity == "high"
    assert f"rita@{OWN}" in f.explanation and "DMARC" not in f.explanation
    assert "DMARC: fail" in f.evidence["Checks by your mail provider"]
    assert not findings(r, AUTH)  # one finding for one problem
    assert r.verdict == "threat"


def test_own_domain_without_any_pass_is_medium():
    raw_mail = mail(f"Sam <sam@{OWN}>", ar=f"{AUTHSERV}; dkim=none; spf=none smtp.mailfrom=sam@{OWN}")
    assert one(check(raw_mail), OWNRULE).severity == "medium"


def test_own_domain_confirmed_is_quiet():
    raw_mail = mail(f"Sam <sam@{OWN}>", to=f"Sam <sam@{OWN}>", ar=auth(domain=OWN))
    assert not [f for f in check(raw_mail).findings if f.category == "sender"]


def test_own_copy_of_sent_mail_is_quiet():
    sent = raw([("From", f"Sam <sam@{OWN}>"), ("To", "x@y.example"), ("Message-ID", "<mine-1@harbour-test.example>")])
    raw_mail = mail(
        f"Sam <sam@{OWN}>",
        ar=f"{AUTHSERV}; dkim=none; spf=none smtp.mailfrom=sam@{OWN}",
        message_id="<mine-1@harbour-test.example>",
    )
    assert not findings(check(raw_mail, context(sent=[sent])), OWNRULE)


def test_own_domain_without_results_from_outside_is_low_inside_is_quiet():
    outside = raw(
        [
            ("Received", PUBLIC_HOP),
            ("From", f"Rita <rita@{OWN}>"),
            ("To", f"sam@{OWN}"),
            ("Message-ID", "<1@x.example>"),
        ]
    )
    assert one(check(outside), OWNRULE).severity == "low"
    inside = raw(
        [
            (
                "Received",
                "from smtp.provider-test.example (smtp.provider-test.example [198.51.100.25]) by "
                "mx.provider-test.example; Mon, 2 Nov 2026 10:00:01 +0000",
            ),
            ("Received", "from [10.0.0.36] by smtp.provider-test.example; Mon, 2 Nov 2026 10:00:00 +0000"),
            ("From", f"Rita <rita@{OWN}>"),
            ("To", f"sam@{OWN}"),
            ("Message-ID", "<2@x.example>"),
        ]
    )
    assert not findings(check(inside), OWNRULE)


def test_own_post_returned_by_mailing_list_is_quiet():
    raw_mail = mail(
        f"Sam <sam@{OWN}>",
        ("List-Id", "<talk.lists.example>"),
        ("Reply-To", "talk@lists.example"),
        ("Return-Path", "<talk-bounces@lists.example>"),
        ar=f"{AUTHSERV}; dkim=pass header.d=lists.example; spf=pass smtp.mailfrom=talk-bounces@lists.example",
    )
    assert not [f for f in check(raw_mail).findings if f.category == "sender"]


# --- sender.provider_verdict ----------------------------------------------------------------------------

VERDICT = "sender.provider_verdict"


def test_spam_status_written_by_provider_is_reported():
    raw_mail = mail("Shop <a@shop.example>", ("X-Spam-Status", "Yes, score=12.3 required=5.0 tests=BAYES_99"))
    f = one(check(raw_mail), VERDICT)
    assert f.severity == "medium"
    assert "spam" in f.title
    assert "spam score of 12.3" in f.explanation and "from 5.0 up" in f.explanation
    assert "X-Spam" not in f.explanation
    assert f.evidence["Filter result"] == ["X-Spam-Status: score 12.3, limit 5.0"]
    assert f.evidence["X-Spam-Status"] == ["Yes, score=12.3 required=5.0 tests=BAYES_99"]


def test_spam_status_written_by_the_sender_is_ignored():
    headers = [
        ("Received", PUBLIC_HOP),
        ("X-Spam-Status", "Yes, score=12.3 required=5.0"),
        ("X-Spam-Flag", "YES"),
        ("From", "Shop <a@shop.example>"),
        ("Message-ID", "<1@shop.example>"),
    ]
    assert not findings(check(raw(headers)), VERDICT)


def test_microsoft_phishing_category_is_high():
    raw_mail = mail(
        "Bank <a@bank.example>",
        ("X-Forefront-Antispam-Report", "CIP:203.0.113.7;CTRY:;LANG:en;SCL:9;SRV:;IPV:NLI;SFV:SPM;CAT:PHSH;SFTY:9.25"),
    )
    f = one(check(raw_mail), VERDICT)
    assert f.severity == "high"
    assert "phishing" in f.title
    assert "marked this mail as phishing" in f.explanation and "passwords or money" in f.explanation
    assert "not had mail from this sender before" in f.explanation
    assert "CAT" not in f.explanation and "SCL" not in f.explanation
    assert f.evidence["Filter result"] == ["CAT:PHSH"]
    assert f.advice.startswith("Treat it as dangerous")


def test_microsoft_impersonation_safety_tip_is_high():
    raw_mail = mail("CEO <ceo@own-look.example>", ("X-Forefront-Antispam-Report", "SCL:1;SFTY:9.20;"))
    f = one(check(raw_mail), VERDICT)
    assert f.severity == "high" and "a fake of a person" in f.title


def test_first_contact_alone_is_low_and_clean_report_is_quiet():
    first = mail("New <n@new.example>", ("X-Forefront-Antispam-Report", "SCL:1;SFV:NSPM;SFTY:9.25;"))
    f = one(check(first), VERDICT)
    assert f.severity == "low" and "new sender" in f.title and "SFTY" not in f.explanation
    assert f.advice.startswith("This alone is no reason to worry")
    clean = mail("Old <o@old.example>", ("X-Forefront-Antispam-Report", "SCL:1;SFV:NSPM;CAT:NONE;"))
    assert not findings(check(clean), VERDICT)


def test_rspamd_result_is_read():
    spam = mail("S <s@s.example>", ("X-Spamd-Result", "default: True [16.20 / 15.00]; BAYES_SPAM(5.10)[99.9%]"))
    assert one(check(spam), VERDICT).severity == "medium"
    phished = mail(
        "S <s@s.example>", ("X-Spamd-Result", "default: False [4.00 / 15.00]; PHISHED_OPENPHISH(7.00)[x.example]")
    )
    f = one(check(phished), VERDICT)
    assert f.severity == "high" and "PHISHED" not in f.explanation and "phishing" in f.title
    assert f.evidence["Filter result"] == ["X-Spamd-Result: PHISHED_OPENPHISH"]
    virus = mail("S <s@s.example>", ("X-Spamd-Result", "default: True [20.00 / 15.00]; CLAM_VIRUS(9.00)[Win.Trojan]"))
    f = one(check(virus), VERDICT)
    assert f.severity == "high" and "harmful software" in f.title
    ham = mail("S <s@s.example>", ("X-Spamd-Result", "default: False [-1.00 / 15.00]; PHISHING(0.5)[a->b]"))
    assert not findings(check(ham), VERDICT)


def test_microsoft_scl_below_from_counts_when_microsoft_delivered():
    headers = [
        (
            "Received",
            "from AB1PR01MB1.eurprd01.prod.outlook.com (2603:10a6::1) by CD2PR01MB2.eurprd01.prod.outlook.com"
            " with HTTPS; Mon, 2 Nov 2026 10:00:03 +0000",
        ),
        (
            "Received",
            "from shop.example (203.0.113.7) by EF3EUR01FT001.mail.protection.outlook.com with SMTP;"
            " Mon, 2 Nov 2026 10:00:01 +0000",
        ),
        ("From", "Shop <a@shop.example>"),
        ("Message-ID", "<1@shop.example>"),
        ("X-MS-Exchange-Organization-SCL", "9"),
    ]
    f = one(check(raw(headers)), VERDICT)
    assert f.evidence["Filter result"] == ["SCL 9 of 9"] and "SCL" not in f.explanation
    # The same header on mail a non-Microsoft provider delivered was written by the sender.
    headers[0] = ("Received", PUBLIC_HOP.replace("mx.provider-test.example", "mx.other-isp.example"))
    headers[1] = ("Received", "from shop.example (203.0.113.7) by out.shop.example; Mon, 2 Nov 2026 10:00:00 +0000")
    assert not findings(check(raw(headers)), VERDICT)


# --- sender.from_unclear --------------------------------------------------------------------------------

UNCLEAR = "sender.from_unclear"


def test_two_from_lines_is_medium():
    headers = [
        ("Received", PUBLIC_HOP),
        ("From", "Bank <alerts@bank.example>"),
        ("From", "x@attacker.example"),
        ("Message-ID", "<1@attacker.example>"),
    ]
    f = one(check(raw(headers)), UNCLEAR)
    assert f.severity == "medium"
    assert "two separate From lines" in f.explanation
    assert "alerts@bank.example" in f.explanation and "x@attacker.example" in f.explanation


def test_several_authors_low_and_quiet_with_sender():
    several = mail("Ann <ann@a.example>, Bob <bob@b.example>")
    assert one(check(several), UNCLEAR).severity == "low"
    with_sender = mail("Ann <ann@a.example>, Bob <bob@b.example>", ("Sender", "ann@a.example"))
    assert not findings(check(with_sender), UNCLEAR)
    same_org = mail("Ann <ann@a.example>, Bob <bob@a.example>")
    assert not findings(check(same_org), UNCLEAR)


def test_missing_from_raises_nothing():
    headers = [("Received", PUBLIC_HOP), ("To", f"owner@{OWN}"), ("Message-ID", "<1@x.example>")]
    assert not [f for f in check(raw(headers)).findings if f.category == "sender"]


# --- sender.name_of_contact -----------------------------------------------------------------------------

CONTACT = "sender.name_of_contact"


def sent_named(*pairs):
    """A sent folder with one message to each (name, address)."""
    return [
        raw([("From", f"Sam Keller <sam@{OWN}>"), ("To", f"{n} <{a}>"), ("Message-ID", f"<n{i}@{OWN}>")])
        for i, (n, a) in enumerate(pairs)
    ]


def test_contact_name_on_freemail_address_fires():
    ctx = context(sent=sent_named(("Clara Holt", "clara.holt@holtlettings.example")))
    r = check(mail("Clara Holt <clara.holt@gmail.com>", ar=auth(domain="gmail.com")), ctx)
    f = one(r, CONTACT)
    assert f.severity == "medium"
    assert "Clara Holt" in f.title
    assert "clara.holt@holtlettings.example" in f.explanation and "clara.holt@gmail.com" in f.explanation
    assert "free webmail" in f.explanation
    assert r.verdict == "suspicious"


def test_own_name_on_freemail_is_high_and_name_order_does_not_matter():
    ctx = context(sent=sent_named(("Ivan Marsh", "ivan@birchfield.example")))
    r = check(mail('"Keller, Sam" <sam.keller.office@gmail.com>', ar=auth(domain="gmail.com")), ctx)
    f = one(r, CONTACT)
    assert f.severity == "high"
    assert "own company" in f.explanation


@pytest.mark.parametrize(
    ("from_", "extra"),
    [
        ("Clara Holt <clara.holt@holtlettings.example>", ()),  # the known address
        ("CLARA HOLT <clara.holt@holtlettings.example>", ()),
        ("Clara Holt <c.holt@mail.holtlettings.example>", ()),  # same firm, another address
        ("Clara Holt (via Google Drive) <drive-shares-noreply@google.com>", ()),  # a service naming her
        ("Clara Holt <messaging-service@post.invoicing.example>", (("Reply-To", "clara.holt@holtlettings.example"),)),
        ("Clara <clara@other.example>", ()),  # one word is no full name
        ("Customer Service <help@other.example>", ()),
    ],
)
def test_contact_name_quiet_cases(from_, extra):
    ctx = context(
        sent=sent_named(("Clara Holt", "clara.holt@holtlettings.example"), ("Customer Service", "help@shop.example"))
    )
    assert not findings(check(mail(from_, *extra, ar=auth(domain="x.example")), ctx), CONTACT)


def test_contact_name_on_confirmed_business_address_is_low():
    ctx = context(sent=sent_named(("Clara Holt", "clara.holt@holtlettings.example")))
    r = check(mail("Clara Holt <clara@newfirm.example>", ar=auth(domain="newfirm.example")), ctx)
    assert one(r, CONTACT).severity == "low"


def test_without_sent_mail_no_names_are_known():
    assert not findings(check(mail("Clara Holt <clara.holt@gmail.com>")), CONTACT)


def test_phish_with_list_unsubscribe_and_own_envelope_is_not_a_list():
    raw_mail = mail(
        "PayPal <service@paypal.example>",
        ("List-Unsubscribe", "<mailto:u@attacker.example>"),
        ("Return-Path", "<bounce@attacker.example>"),
        ar=(
            f"{AUTHSERV}; dkim=none; spf=pass smtp.mailfrom=bounce@attacker.example;"
            " dmarc=fail (p=reject) header.from=paypal.example"
        ),
    )
    assert one(check(raw_mail), AUTH).severity == "high"


def test_own_newsletter_through_unsigned_mail_service_is_medium():
    raw_mail = mail(
        f"Harbour News <news@{OWN}>",
        ("List-Unsubscribe", "<mailto:u@esp.example>"),
        ar=(
            f"{AUTHSERV}; dkim=pass header.d=esp.example; spf=pass smtp.mailfrom=b@esp.example;"
            f" dmarc=fail header.from={OWN}"
        ),
    )
    f = one(check(raw_mail), OWNRULE)
    assert f.severity == "medium"
    assert "mail service" in f.explanation


# --- texts ----------------------------------------------------------------------------------------------


def test_advice_for_each_severity_reads_at_grade_8():
    """tests/test_readability.py reads each rule's default advice; this reads the per-severity ones."""
    import textstat

    from klezguard.rules.registry import all_rules

    checked = 0
    for rule in all_rules().values():
        for severity, text in rule.advice_by_severity.items():
            assert severity in ("low", "medium", "high"), rule.id
            plain = re.sub(r"\{[^{}]+\}", "it", text)
            assert textstat.flesch_kincaid_grade(plain) <= 8.0, f"{rule.id}:{severity}: {text}"
            checked += 1
    assert checked >= 4


# --- free-mail list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["hotmail.com.au", "bigpond.com", "shaw.ca", "uol.com.br", "ziggo.nl", "outlook.de", "yahoo.co.in",
     "orange.fr", "t-online.de", "libero.it", "comcast.net", "xtra.co.nz", "naver.com", "mail.bigpond.com"],
)
def test_isp_and_webmail_mailboxes_worldwide_are_free_mail(domain):
    from klezguard.core.domains import is_freemail

    assert is_freemail(domain)


@pytest.mark.parametrize("domain", ["shaw-tools.example", "bigpond-plumbing.com.au", "ziggo-bau.nl", "uol.example"])
def test_company_domains_are_not_free_mail(domain):
    from klezguard.core.domains import is_freemail

    assert not is_freemail(domain)


def test_reply_to_an_isp_mailbox_counts_as_free_mail():
    raw_mail = mail(
        "Accounts <accounts@supplier-firm.example>",
        ("Reply-To", "supplier.accounts@bigpond.com"),
        ar=auth(spf="pass", dkim="none", dmarc="fail", domain="supplier-firm.example", mailfrom="x@relay.example"),
    )
    f = one(check(raw_mail), REPLY)
    assert f.severity == "medium" and "free webmail" in f.explanation


def test_one_correspondent_at_an_isp_does_not_make_the_whole_isp_known():
    ar = (
        f"{AUTHSERV}; spf=fail smtp.mailfrom=%s; dkim=none;"
        " dmarc=fail (p=none dis=none) header.from=shaw.ca"
    )
    ctx = context(sent=sent_to("pat.lee@shaw.ca"))
    assert one(check(mail("Pat Lee <pat.lee@shaw.ca>", ar=ar % "pat.lee@shaw.ca"), ctx), AUTH).severity == "high"
    other = one(check(mail("Billing <billing4@shaw.ca>", ar=ar % "billing4@shaw.ca"), ctx), AUTH)
    assert other.severity == "medium" and "You write to this sender" not in other.explanation


def _encoded_name(text: str) -> str:
    import base64

    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def test_a_name_with_a_direction_override_is_flagged():
    raw = build(from_=f"{_encoded_name(chr(0x202E) + '<moc.lapyap@ecivres.ws>')} <x@evil.example>")
    result = check(raw)
    assert "sender.name_turns_text_around" in rules(result) and result.flagged


def test_right_to_left_names_and_emoji_without_overrides_are_not_flagged():
    for name in ("\u05d3\u05d5\u05d3 \u05db\u05d4\u05df\u200f", "\u0645\u062d\u0645\u062f \u0639\u0644\u064a",
                 "Anna \U0001f469\u200d\U0001f373 Weber", "Ren\u00e9e M\u00fcller"):
        result = check(build(from_=f"{_encoded_name(name)} <anna@weber-bau.example>"))
        assert "sender.name_turns_text_around" not in rules(result)


def test_italian_certified_mail_names_the_sender_in_the_name_and_is_not_a_trick():
    pec = [("Authentication-Results", auth(domain="pec.hostingvalle.it")), ("X-Trasporto", "posta-certificata")]
    raw = build(from_='"Per conto di: davide@pec.trasportimoretti.it" <posta-certificata@pec.hostingvalle.it>',
                headers=pec)
    found = {f.rule: f.severity for f in check(raw).findings}
    assert found.get("sender.name_shows_other_address") == "low"
    forged = build(from_='"Per conto di: davide@pec.trasportimoretti.it" <posta-certificata@pec.hostingvalle.it>',
                   headers=pec[:1])  # the same name without the PEC transport mark
    assert {f.rule: f.severity for f in check(forged).findings}.get("sender.name_shows_other_address") == "medium"
