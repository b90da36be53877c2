"""Backscatter: reactions to mail the user never sent are flagged; reactions to sent mail are not."""

import pytest

from tests.mailfactory import OWN, build, check, context
from tests.rules.test_bounces import ORIG_ID, ORIG_SUBJECT, ORIG_TO, OWNER, sample

SENT_ID = "<sent-1.abc@harbour-test.example>"
CONTACT = "gareth@timber.example"
SENT = build(from_=f"Owner <{OWNER}>", to=f"Gareth <{CONTACT}>", subject="Quote", message_id=SENT_ID)

RULE = {
    "dsn_postfix": "backscatter.bounce_for_unsent_mail",
    "dsn_sendmail_headers": "backscatter.bounce_for_unsent_mail",
    "dsn_global": "backscatter.bounce_for_unsent_mail",
    "qmail": "backscatter.bounce_for_unsent_mail",
    "exim": "backscatter.bounce_for_unsent_mail",
    "exchange": "backscatter.bounce_for_unsent_mail",
    "lotus": "backscatter.bounce_for_unsent_mail",
    "gmail_plain": "backscatter.bounce_for_unsent_mail",
    "yahoo": "backscatter.bounce_for_unsent_mail",
    "groupwise": "backscatter.bounce_for_unsent_mail",
    "virus_mailscanner": "backscatter.virus_warning_for_unsent_mail",
    "virus_amavis": "backscatter.virus_warning_for_unsent_mail",
    "virus_trend": "backscatter.virus_warning_for_unsent_mail",
    "complaint_reply": "backscatter.complaint_for_unsent_mail",
    "complaint_new": "backscatter.complaint_for_unsent_mail",
    "ooo_german": "backscatter.autoreply_for_unsent_mail",
    "mdn": "backscatter.autoreply_for_unsent_mail",
    "arf": "backscatter.abuse_report_for_unsent_mail",
}
# Samples that do not quote the original's Message-ID: judged by whom the original went to.
NO_ID = {"lotus", "virus_mailscanner", "virus_trend", "complaint_new"}


def ctx_sent():
    return context(sent=[SENT])


def backscatter(result):
    return [f for f in result.findings if f.category == "backscatter"]


@pytest.mark.parametrize("name", sorted(RULE))
def test_notice_for_unsent_mail_is_flagged(name):
    result = check(sample(name), ctx_sent())
    found = backscatter(result)
    assert [f.rule for f in found] == [RULE[name]]
    finding = found[0]
    assert finding.severity == "medium"
    assert result.flagged
    assert "you never sent" in finding.title
    assert "not in your sent mail" in finding.explanation
    assert f"in your name ({OWNER})" in finding.explanation
    assert "probably fine" in finding.explanation
    if name not in ("complaint_new", "dsn_global", "mdn"):
        assert f'"{ORIG_SUBJECT}"' in finding.explanation
    if name.startswith(("dsn", "qmail", "exim", "exchange", "lotus", "gmail", "yahoo", "groupwise", "virus", "arf")):
        assert ORIG_TO in finding.explanation
    if name in NO_ID:
        assert "never written to" in finding.explanation
        assert "Never written to" in finding.evidence
    else:
        assert finding.evidence["Original Message-ID"][0] == ORIG_ID.lower()
        assert finding.evidence["In your sent mail"] == "no"
    assert "Do not" in finding.advice or "do not" in finding.advice
    assert "SPF, DKIM and DMARC" in finding.advice


@pytest.mark.parametrize("name", sorted(RULE))
def test_notice_for_sent_mail_is_not_flagged(name):
    # The same notice about mail that IS in the sent folder (or, without an ID, went to a known contact).
    kwargs = {"orig_id": SENT_ID, "orig_to": CONTACT}
    raw = sample(name, **kwargs)
    if name == "complaint_new":
        raw = raw.replace(b"lars@far-away.example", CONTACT.encode())
    assert backscatter(check(raw, ctx_sent())) == []


@pytest.mark.parametrize("name", sorted(RULE))
def test_silent_when_sent_mail_is_unknown(name):
    # Without the sent folder every verdict would be a guess: a real bounce is a normal part of mail.
    assert backscatter(check(sample(name), context())) == []


def test_bounce_evidence_names_server_status_and_returned_file():
    finding = backscatter(check(sample("dsn_postfix"), ctx_sent()))[0]
    assert "mx.far-away.example" in finding.explanation
    assert f'"{ORIG_SUBJECT}" to {ORIG_TO} could not be delivered' in finding.explanation
    assert "game.exe" in finding.explanation  # the returned copy still carries the worm
    ev = finding.evidence
    assert ev["Reporting server"] == "mx.far-away.example"
    assert ev["Original From"] == f"Owner <{OWNER}>"
    assert ev["Original To"] == ORIG_TO
    assert ev["Original Subject"] == ORIG_SUBJECT
    assert ev["Status"] == "5.1.1 (failed)"
    assert ev["Diagnostic"].startswith("550 5.1.1")
    assert ev["Returned files"] == ["game.exe"]


def test_virus_warning_names_the_virus():
    finding = backscatter(check(sample("virus_amavis"), ctx_sent()))[0]
    assert "a virus (W32/Klez.H@mm)" in finding.explanation
    assert finding.evidence["Virus"] == "W32/Klez.H@mm"


def test_delay_warning_says_more_may_follow():
    finding = backscatter(check(sample("dsn_postfix", action="delayed", status="4.4.1"), ctx_sent()))[0]
    assert "is delayed" in finding.explanation
    assert "delay warning" in finding.explanation


def test_success_report_for_unsent_mail():
    finding = backscatter(check(sample("dsn_postfix", action="delivered", status="2.0.0"), ctx_sent()))[0]
    assert f'"{ORIG_SUBJECT}" to {ORIG_TO} was delivered' in finding.explanation


def test_envelope_forgery_explains_why_the_bounce_came_to_you():
    # Spam with someone else's From but the user's address as the envelope sender.
    raw = sample("qmail", orig_from="Spam King <king@spam.example>")
    finding = backscatter(check(raw, ctx_sent()))[0]
    assert "king@spam.example as its sender" in finding.explanation
    assert f"in your name ({OWNER})" in finding.explanation


def test_read_receipt_note():
    finding = backscatter(check(sample("mdn"), ctx_sent()))[0]
    assert "read receipt" in finding.explanation


def test_references_to_sent_mail_anywhere_in_the_thread():
    raw = sample("complaint_reply").replace(
        b"In-Reply-To:", f"References: {SENT_ID} {ORIG_ID}\r\nIn-Reply-To:".encode()
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_virus_stopped_on_the_way_to_you_is_not_backscatter():
    assert backscatter(check(sample("virus_to_you"), ctx_sent())) == []


def test_copy_signed_by_your_own_server_is_yours():
    # Sent from a phone that keeps no copy: the returned message carries your own server's marks.
    raw = sample(
        "dsn_postfix",
        returned_extra=f"Received: from [10.0.0.5] (Authenticated sender: {OWNER})\n\tby smtp.provider-test.example\n",
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_postmaster_copy_is_not_backscatter():
    raw = sample("dsn_postfix").replace(
        b"Subject: Undelivered Mail Returned to Sender", b"Subject: Postmaster Copy: Undelivered Mail"
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_bounce_that_quotes_nothing_is_not_judged():
    raw = (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.far-away.example\r\nTo: owner@harbour-test.example\r\n"
        b"Subject: failure notice\r\n\r\nSorry, your message could not be delivered.\r\n"
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_autoreply_without_reference_is_only_a_note():
    # It may come from a help desk you contacted on the web: shown, but it does not flag the mail.
    result = check(sample("ooo_no_refs"), ctx_sent())
    found = backscatter(result)
    assert [(f.rule, f.severity) for f in found] == [("backscatter.autoreply_for_unsent_mail", "low")]
    assert "never written to chloe@far-away.example" in found[0].explanation


def test_autoreply_without_reference_from_a_contacts_firm_is_fine():
    raw = sample("ooo_no_refs").replace(b"chloe@far-away.example", b"office@timber.example")
    assert backscatter(check(raw, ctx_sent())) == []


def test_your_own_autoreply_is_not_backscatter():
    raw = sample("ooo_german").replace(b"j.maier@far-away.example", f"lucy@{OWN}".encode())
    assert backscatter(check(raw, ctx_sent())) == []


def test_normal_reply_in_thread_is_not_a_complaint():
    raw = build(
        from_=f"Gareth <{CONTACT}>",
        subject="Re: Quote",
        headers=[("In-Reply-To", SENT_ID)],
        body="Please stop sending me paper invoices, email is fine. Why are you sending me letters?\n",
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_reply_to_unknown_message_without_complaint_is_not_flagged():
    raw = build(subject="Re: questionnaire", headers=[("In-Reply-To", ORIG_ID)], body="Thanks, see you Monday.\n")
    assert backscatter(check(raw, ctx_sent())) == []


def test_mailing_list_post_about_viruses_is_not_a_complaint():
    raw = build(
        subject="Re: stop sending viruses",
        headers=[("List-Id", "<joiners.lists.example>"), ("In-Reply-To", ORIG_ID)],
        body="Your computer is infected, stop sending viruses to the list!\n",
    )
    assert backscatter(check(raw, ctx_sent())) == []


def test_ordinary_mail_gets_nothing():
    assert backscatter(check(build(), ctx_sent())) == []
