"""Recognising bounces, virus warnings, complaints and auto-replies, and what they say about the original.

The samples are hand-written in the formats servers and people really use. Every sample is about an
original message; `sample(name, **values)` fills in its Message-ID, From, recipient and subject, so the
backscatter rule tests can make the same notice for mail that was or was not sent.
"""

import base64

import pytest

from klezguard.core import bounces
from klezguard.core.parse import from_bytes, from_partial, partial_view
from tests.mailfactory import OWN, build

OWNER = f"owner@{OWN}"
ORIG_ID = "<fake-4711.klez@WIN-5E58A5>"
ORIG_TO = "amir827@far-away.example"
ORIG_SUBJECT = "questionnaire"
EXE = base64.encodebytes(b"MZ\x90\x00" + b"\x00" * 200).decode()

_RECEIVED = (
    "Received: from mx.far-away.example (mx.far-away.example [198.51.100.7]) by mx.provider-test.example\n"
    " with ESMTPS id 99; Mon, 2 Nov 2026 10:00:00 +0000\n"
)


def _returned_headers(orig_id, orig_from, orig_to, subject, extra=""):
    return (
        "Received: from unknown (HELO User) ([189.82.196.105])\n"
        "\tby mx.far-away.example with SMTP; Mon, 2 Nov 2026 09:40:00 +0000\n"
        f"{extra}"
        f"From: {orig_from}\n"
        f"To: {orig_to}\n"
        f"Subject: {subject}\n"
        "Date: Mon, 2 Nov 2026 09:38:00 +0000\n"
        f"Message-ID: {orig_id}\n"
        "MIME-Version: 1.0\n"
    )


SAMPLES = {
    # RFC 3464, as Postfix writes it, with the whole returned message (which still carries an exe).
    "dsn_postfix": """Return-Path: <>
{received}From: MAILER-DAEMON@mx.far-away.example (Mail Delivery System)
To: {owner}
Subject: Undelivered Mail Returned to Sender
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <b1.1@mx.far-away.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.far-away.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{orig_to}>: host mx.far-away.example said: 550 5.1.1 <{orig_to}>: User unknown

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.far-away.example
Arrival-Date: Mon, 2 Nov 2026 09:59:00 +0000

Final-Recipient: rfc822; {orig_to}
Original-Recipient: rfc822;{orig_to}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.far-away.example
Diagnostic-Code: smtp; 550 5.1.1 <{orig_to}>: Recipient address rejected:
    User unknown in virtual mailbox table

--B1
Content-Type: message/rfc822

{returned}Content-Type: multipart/mixed; boundary="IN"

--IN
Content-Type: text/html; charset=us-ascii

<html><body>Klez.E is the most common world-wide spreading worm.</body></html>
--IN
Content-Type: audio/x-wav; name="game.exe"
Content-Transfer-Encoding: base64

{exe}
--IN--

--B1--
""",
    # RFC 3464 with only the returned headers, as Sendmail writes it.
    "dsn_sendmail_headers": """Return-Path: <>
{received}From: Mail Delivery Subsystem <MAILER-DAEMON@mail12.far-away.example>
To: <{owner}>
Subject: Returned mail: see transcript for details
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-Id: <200712232303.lBNN3rDp003436@mail12.far-away.example>
Auto-Submitted: auto-generated (failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="S1"

This is a MIME-encapsulated message

--S1

The original message was received at Mon, 2 Nov 2026 09:59:00 +0000
from 60-0-0-146.static.example.net [60.0.0.146]

   ----- The following addresses had permanent fatal errors -----
<{orig_to}>
    (reason: 553 5.3.0 <{orig_to}>... Unknown E-Mail Address)

   ----- Transcript of session follows -----
... while talking to mail.far-away.example.:
>>> DATA
<<< 553 5.3.0 <{orig_to}>... Unknown E-Mail Address
550 5.1.1 <{orig_to}>... User unknown

--
This message has been scanned for viruses and
dangerous content by MailScanner, and is
believed to be clean.

--S1
Content-Type: message/delivery-status

Reporting-MTA: dns; mail12.far-away.example
Arrival-Date: Mon, 2 Nov 2026 09:59:00 +0000

Final-Recipient: RFC822; {orig_to}
Action: failed
Status: 5.3.0
Diagnostic-Code: SMTP; 553 5.3.0 <{orig_to}>... Unknown E-Mail Address

--S1
Content-Type: text/rfc822-headers

{returned}X-Virus-Scanned: ClamAV on mail12.far-away.example
X-Virus-Status: Clean

--S1--
""",
    # RFC 6533 (internationalised) report, the original named only in the status fields.
    "dsn_global": """Return-Path: <>
{received}From: postmaster@far-away.example
To: {owner}
Subject: Delivery Status Notification (Failure)
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <g1@far-away.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=global-delivery-status; boundary="G1"

--G1
Content-Type: text/plain; charset=utf-8

Your message could not be delivered.

--G1
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.far-away.example
X-Original-Message-ID: {orig_id}

Final-Recipient: rfc822; {orig_to}
Action: failed
Status: 5.2.2

--G1--
""",
    "qmail": """Return-Path: <>
{received}From: MAILER-DAEMON@mx1.far-away.example
To: {owner}
Subject: failure notice
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <q1@mx1.far-away.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

Hi. This is the qmail-send program at mx1.far-away.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{orig_to}>:
550 5.1.1 <{orig_to}>: Recipient address rejected: User unknown

--- Below this line is a copy of the message.

{returned}
[body removed]
""",
    "exim": """Return-path: <>
{received}X-Failed-Recipients: {orig_to}
From: Mail Delivery System <Mailer-Daemon@smtp.far-away.example>
To: {owner}
Subject: Mail delivery failed: returning message to sender
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-Id: <E1x@smtp.far-away.example>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {orig_to}
    SMTP error from remote mail server after RCPT TO:<{orig_to}>:
    550 5.1.1 User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <{owner}>
{returned}
Hello
""",
    # Exchange without a returned copy: only In-Reply-To names the original.
    "exchange": """{received}From: Microsoft Outlook <postmaster@corp.far-away.example>
To: {owner}
Subject: Undeliverable: {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <x1@corp.far-away.example>
In-Reply-To: {orig_id}
References: {orig_id}
X-MS-Exchange-Message-Is-Ndr:
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=us-ascii

Delivery has failed to these recipients or groups:

{orig_to}
The email address you entered couldn't be found. Please check the recipient's email address and try again.

Diagnostic information for administrators:

Generating server: corp.far-away.example

{orig_to}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'
""",
    # Lotus Notes: names the subject and recipient only, no Message-ID.
    "lotus": """{received}From: Postmaster@far-away.example
To: {owner}
Subject: DELIVERY FAILURE: User amir827 ({orig_to}) not listed in Domino Directory
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <OF1@far-away.example>
Content-Type: text/plain; charset=us-ascii

Your message

  Subject: {subject}

was not delivered to:

  {orig_to}

because:

  User amir827 ({orig_to}) not listed in Domino Directory
""",
    "gmail_plain": """Return-Path: <>
{received}From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {owner}
X-Failed-Recipients: {orig_to}
Subject: Delivery Status Notification (Failure)
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <gm1@google.com>
Content-Type: text/plain; charset=ISO-8859-1

Delivery to the following recipient failed permanently:

     {orig_to}

Technical details of permanent failure:
The error that the other server returned was:
550 5.1.1 The email account that you tried to reach does not exist.

----- Original message -----

{returned}
Hi
""",
    "yahoo": """Return-Path: <>
{received}From: MAILER-DAEMON@yahoo.example
To: {owner}
Subject: Failure Notice
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <y1@yahoo.example>
Content-Type: text/plain; charset=us-ascii

Sorry, we were unable to deliver your message to the following address.

<{orig_to}>:
Remote host said: 554 delivery error: dd This user doesn't have a yahoo account [-5] - mta1.yahoo.example

--- Below this line is a copy of the message.

{returned}
""",
    "groupwise": """Return-Path: <>
{received}From: Mail Delivery System <postmaster@gw.far-away.example>
To: {owner}
Subject: Message status - undeliverable
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <gw1@gw.far-away.example>
Content-Type: text/plain; charset=us-ascii

The message that you sent was undeliverable to the following:
\t{orig_to} (user not found)

Possible Cause: The e-mail address may have been typed incorrectly.

Original message headers:

{returned}
""",
    # A scanner's notice in plain text, quoting only To / Subject / Date.
    "virus_mailscanner": """{received}From: MailScanner <postmaster@far-away.example>
To: {owner}
Subject: Warning: E-mail viruses detected
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <v1@far-away.example>
Auto-Submitted: auto-generated
Content-Type: text/plain; charset=us-ascii

Our virus detector has just been triggered by a message you sent:
  To: {orig_to}
  Subject: {subject}
  Date: Mon, 2 Nov 2026 09:38:00 +0000
Any infected parts of the message (setup.scr) have not been delivered.

This message is simply to warn you that your computer system may have a virus present and should be checked.

Virus: W32/Klez.H@mm
""",
    # amavisd-new's notice to the sender, as a delivery report.
    "virus_amavis": """Return-Path: <>
{received}From: Content-filter at far-away.example <postmaster@far-away.example>
To: <{owner}>
Subject: VIRUS (W32/Klez.H@mm) IN MAIL FROM YOU
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <VSa1@far-away.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="A1"

--A1
Content-Type: text/plain; charset=us-ascii

VIRUS ALERT

Our content checker found
    virus: W32/Klez.H@mm
in email presumably from you <{owner}>
to the following recipient:
-> {orig_to}

Delivery of the email was stopped!

--A1
Content-Type: message/delivery-status

Reporting-MTA: dns; far-away.example

Final-Recipient: rfc822; {orig_to}
Action: failed
Status: 5.7.0
Diagnostic-Code: smtp; 554 5.7.0 Reject, id=123 - INFECTED: W32/Klez.H@mm

--A1
Content-Type: text/rfc822-headers

{returned}
--A1--
""",
    "virus_trend": """{received}From: InterScan MSS <isvw@far-away.example>
To: {owner}
Subject: [Virus detected] {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <tr1@far-away.example>
Content-Type: text/plain; charset=us-ascii

InterScan has detected virus (WORM_KLEZ.H) in your email attachment.

Your message
  From: {orig_from}
  To: {orig_to}
  Subject: {subject}
was infected with WORM_KLEZ.H and was not delivered.
""",
    # The user's own provider stopped a virus sent TO the user: not backscatter.
    "virus_to_you": """{received}From: Content-filter at provider-test.example <virusalert@provider-test.example>
To: {owner}
Subject: VIRUS (W32/Klez.H@mm) IN MAIL TO YOU (from <tom@far-away.example>)
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <VR1@provider-test.example>
Auto-Submitted: auto-generated
Content-Type: text/plain; charset=us-ascii

A virus (W32/Klez.H@mm) was found in a message sent to you.
The message was quarantined.

Message-ID: {orig_id}
From: tom@far-away.example
Subject: {subject}
""",
    "complaint_reply": """{received}From: Ravi Schulz <ravi.schulz@far-away.example>
To: {owner}
Subject: Re: {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <c1@far-away.example>
In-Reply-To: {orig_id}
Content-Type: text/plain; charset=us-ascii

Why are you sending me viruses?? My antivirus caught an attachment called game.exe.
Please clean your computer!

Ravi
""",
    "complaint_new": """{received}From: Lars Turner <lars@far-away.example>
To: {owner}
Subject: Stop sending me spam
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <c2@far-away.example>
Content-Type: text/plain; charset=us-ascii

I have never emailed you before. Stop sending me this junk every day.
""",
    "ooo_german": """{received}From: Jürgen Maier <j.maier@far-away.example>
To: {owner}
Subject: Abwesenheitsnotiz: {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <o1@far-away.example>
In-Reply-To: {orig_id}
X-Autoreply: yes
Content-Type: text/plain; charset=utf-8

Ich bin bis zum 15. nicht im Büro.
""",
    "ooo_no_refs": """{received}From: Chloe Turner <chloe@far-away.example>
To: {owner}
Subject: Automatic reply: {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <o2@far-away.example>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=us-ascii

I am out of the office until Monday with limited access to email.
""",
    "mdn": """{received}From: Helen Ward <helen@far-away.example>
To: {owner}
Subject: Read: {subject}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <m1@far-away.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="M1"

--M1
Content-Type: text/plain; charset=us-ascii

Your message was read.
--M1
Content-Type: message/disposition-notification

Reporting-UA: far-away.example; Microsoft Outlook 16.0
Final-Recipient: rfc822;helen@far-away.example
Original-Message-ID: {orig_id}
Disposition: manual-action/MDN-sent-manually; displayed
--M1--
""",
    "arf": """{received}From: Abuse Desk <abuse@fbl.far-away.example>
To: {owner}
Subject: Abuse report: spam from {own}
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <a1@fbl.far-away.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

--F1
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP 189.165.58.225.
--F1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Example-FBL/1.0
Version: 1
Original-Mail-From: <{owner}>
Original-Rcpt-To: <{orig_to}>
Source-IP: 189.165.58.225

--F1
Content-Type: message/rfc822

{returned}Content-Type: text/plain

Best prices!
--F1--
""",
}


def sample(
    name,
    orig_id=ORIG_ID,
    orig_from=None,
    orig_to=ORIG_TO,
    subject=ORIG_SUBJECT,
    action="failed",
    status="5.1.1",
    returned_extra="",
) -> bytes:
    orig_from = orig_from or f"Owner <{OWNER}>"
    returned = _returned_headers(orig_id, orig_from, orig_to, subject, returned_extra)
    text = SAMPLES[name].format(
        received=_RECEIVED,
        owner=OWNER,
        own=OWN,
        orig_id=orig_id,
        orig_from=orig_from,
        orig_to=orig_to,
        subject=subject,
        returned=returned,
        exe=EXE,
        action=action,
        status=status,
    )
    return text.replace("\n", "\r\n").encode("utf-8")


def both_views(raw: bytes):
    """The notice as read from the whole message and from the scanner's partial view."""
    full = bounces.analyse(from_bytes(raw))
    head, structure, fetched = partial_view(raw)
    partial = bounces.analyse(from_partial(head, structure, fetched, len(raw)))
    assert full == partial, "partial view reads the notice differently"
    return full


ORIG_KEY = ORIG_ID.strip("<>").lower()

# name: (kind, format, Message-ID found, original From found, subject found)
EXPECTED = {
    "dsn_postfix": (bounces.BOUNCE, "dsn/postfix", True, True, True),
    "dsn_sendmail_headers": (bounces.BOUNCE, "dsn/sendmail", True, True, True),
    "dsn_global": (bounces.BOUNCE, "dsn", True, False, False),
    "qmail": (bounces.BOUNCE, "qmail", True, True, True),
    "exim": (bounces.BOUNCE, "exim", True, True, True),
    "exchange": (bounces.BOUNCE, "exchange", True, False, True),
    "lotus": (bounces.BOUNCE, "lotus", False, False, True),
    "gmail_plain": (bounces.BOUNCE, "gmail", True, True, True),
    "yahoo": (bounces.BOUNCE, "yahoo", True, True, True),
    "groupwise": (bounces.BOUNCE, "groupwise", True, True, True),
    "virus_mailscanner": (bounces.VIRUS, "av", False, False, True),
    "virus_amavis": (bounces.VIRUS, "dsn", True, True, True),
    "virus_trend": (bounces.VIRUS, "av", False, True, True),
    "virus_to_you": (bounces.VIRUS, "av", True, True, True),
    "complaint_reply": (bounces.COMPLAINT, "strong", True, False, True),
    "complaint_new": (bounces.COMPLAINT, "spam", False, False, False),
    "ooo_german": (bounces.AUTOREPLY, "autoreply", True, False, True),
    "ooo_no_refs": (bounces.AUTOREPLY, "autoreply", False, False, True),
    "mdn": (bounces.RECEIPT, "mdn", True, False, False),
    "arf": (bounces.ABUSE_REPORT, "arf", True, True, True),
}


def test_every_sample_has_an_expectation():
    assert set(EXPECTED) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_recognises_format_and_original(name):
    kind, fmt, has_id, has_from, has_subject = EXPECTED[name]
    notice = both_views(sample(name))
    assert notice is not None
    assert (notice.kind, notice.fmt) == (kind, fmt)
    assert (ORIG_KEY in notice.candidate_ids) == has_id
    orig = notice.original
    if has_from:
        assert orig.from_addr is not None
        assert orig.from_addr.addr in (OWNER, "tom@far-away.example")
    else:
        assert orig.from_addr is None
    assert (orig.subject == ORIG_SUBJECT) == has_subject


@pytest.mark.parametrize(
    "name",
    [
        "dsn_postfix",
        "dsn_sendmail_headers",
        "dsn_global",
        "qmail",
        "exim",
        "exchange",
        "lotus",
        "gmail_plain",
        "yahoo",
        "groupwise",
        "virus_amavis",
    ],
)
def test_failed_recipient(name):
    assert ORIG_TO in both_views(sample(name)).failed_recipients


def test_delivery_status_fields():
    notice = both_views(sample("dsn_postfix"))
    assert notice.reporting_mta == "mx.far-away.example"
    assert notice.action == "failed" and notice.status == "5.1.1"
    assert notice.diagnostic.startswith("550 5.1.1 <amir827@far-away.example>: Recipient address rejected: User")
    assert notice.original.to == [ORIG_TO]
    assert notice.original.date == "Mon, 2 Nov 2026 09:38:00 +0000"
    assert notice.original.files == ["game.exe"]
    assert not notice.is_delay


def test_delay_report():
    notice = both_views(sample("dsn_postfix", action="delayed", status="4.4.1"))
    assert notice.is_delay


def test_plain_text_details():
    qmail = both_views(sample("qmail"))
    assert qmail.reporting_mta == "mx1.far-away.example"
    assert qmail.diagnostic.startswith("550 5.1.1")
    exim = both_views(sample("exim"))
    assert exim.reporting_mta == "smtp.far-away.example"
    exchange = both_views(sample("exchange"))
    assert "RESOLVER.ADR.RecipientNotFound" in exchange.diagnostic
    assert exchange.original.subject == ORIG_SUBJECT  # from "Undeliverable: questionnaire"


def test_scanner_footer_is_not_a_virus_warning():
    # "scanned for viruses ... believed to be clean" and X-Virus-Status headers are not detections.
    notice = both_views(sample("dsn_sendmail_headers"))
    assert notice.kind == bounces.BOUNCE and notice.virus == ""


@pytest.mark.parametrize(
    ("name", "virus", "direction"),
    [
        ("virus_mailscanner", "W32/Klez.H@mm", "from_you"),
        ("virus_amavis", "W32/Klez.H@mm", "from_you"),
        ("virus_trend", "WORM_KLEZ.H", "from_you"),
        ("virus_to_you", "W32/Klez.H@mm", "to_you"),
    ],
)
def test_virus_name_and_direction(name, virus, direction):
    notice = both_views(sample(name))
    assert (notice.virus, notice.direction) == (virus, direction)


def test_mdn_and_arf_details():
    mdn = both_views(sample("mdn"))
    assert mdn.reporting_mta == "far-away.example"
    arf = both_views(sample("arf"))
    assert arf.action == "abuse" and arf.original.to == [ORIG_TO]
    assert arf.diagnostic == "source IP 189.165.58.225"


def test_returned_copy_signers():
    raw = sample(
        "dsn_postfix",
        returned_extra=f"DKIM-Signature: v=1; a=rsa-sha256; d={OWN}; s=nm1; bh=x; b=y\n"
        f"Received: from [192.168.1.5] (Authenticated sender: {OWNER})\n\tby smtp.provider-test.example\n",
    )
    assert both_views(raw).original.signers == [OWN, OWNER]


def test_message_id_in_plain_text_without_headers():
    raw = (
        b"Return-Path: <>\nFrom: MAILER-DAEMON@mx.far-away.example\nTo: owner@harbour-test.example\n"
        b"Subject: Undeliverable mail\n\nYour message could not be delivered.\n"
        b"The message-id of the message was <lost.1@WIN-1>.\n"
    )
    notice = both_views(raw)
    assert notice.kind == bounces.BOUNCE and notice.candidate_ids == ["lost.1@win-1"]


def test_broken_boundary_report_is_read_as_text():
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.far-away.example>\nTo: owner@harbour-test.example\n"
        b"Subject: Returned mail: Too many hops\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\n\tbo\n\n"
        b"--X\n\n   ----- Transcript of session follows -----\n554 Too many hops\n\n--X\n"
        b"Content-Type: text/rfc822-headers\n\nFrom: owner@harbour-test.example\nMessage-Id: <hop.1@server>\n\n--X--\n"
    )
    notice = both_views(raw)
    assert notice.kind == bounces.BOUNCE and notice.candidate_ids == ["hop.1@server"]


# --- not notices ------------------------------------------------------------------------------


def test_ordinary_mail_is_not_a_notice():
    assert both_views(build()) is None


def test_forwarded_bounce_is_not_a_notice():
    raw = build(
        from_=f"Lucy <lucy@{OWN}>",
        subject="Fwd: Undeliverable: questionnaire",
        body="FYI, this came back.\n\nDelivery has failed to these recipients or groups:\n\nbob@far.example\n",
    )
    assert both_views(raw) is None


def test_reply_without_complaint_is_not_a_notice():
    raw = build(subject="Re: questionnaire", headers=[("In-Reply-To", ORIG_ID)], body="Thanks, got it!\n")
    assert both_views(raw) is None


def test_newsletter_about_viruses_is_not_a_notice():
    raw = build(
        from_="Security News <news@securityweekly.example>",
        subject="Virus alert: Klez is back",
        body="The Klez worm sends infected mail. Stop sending attachments you did not check!\n",
        headers=[("List-Unsubscribe", "<mailto:leave@securityweekly.example>"), ("Precedence", "bulk")],
    )
    assert both_views(raw) is None


def test_mailing_list_out_of_office_is_not_a_notice():
    raw = build(
        subject="Out of Office: [joiners] meeting",
        body="I am out of the office.\n",
        headers=[("List-Id", "<joiners.lists.example>"), ("In-Reply-To", ORIG_ID)],
    )
    assert both_views(raw) is None


def test_parcel_notification_is_not_a_bounce():
    raw = build(
        from_="Parcel Service <noreply@parcels.example>",
        subject="Your parcel could not be delivered",
        body="We tried to deliver your parcel today. Book a new date online.\n",
        headers=[("Auto-Submitted", "auto-generated")],
    )
    notice = both_views(raw)
    assert notice is None or not notice.candidate_ids and not notice.original_recipients


@pytest.mark.parametrize(
    "body",
    [
        "I think your computer has a virus.",
        "You sent me an infected attachment!",
        "Your email contained a virus.",
        "I received a virus from your address this morning.",
        "Your account has been hacked, I guess.",
        "My antivirus caught your attachment.",
        "I think your email has been hacked.",
        "Looks like your email account might have been compromised.",
        "You've been hacked, mate.",
        "Someone is using your email address to send junk.",
        # German, French, Italian, Spanish, Dutch
        "Ich glaube, Ihr E-Mail-Konto wurde gehackt.",
        "Sie haben mir einen Virus geschickt!",
        "Je pense que votre adresse e-mail a été piratée.",
        "Vous m'avez envoyé un virus.",
        "Credo che la tua casella di posta sia stata hackerata.",
        "Mi hai mandato un virus!",
        "Creo que tu cuenta de correo ha sido hackeada.",
        "Me has enviado un virus.",
        "Ik denk dat uw e-mailadres is gehackt.",
        "U heeft me een virus gestuurd.",
    ],
)
def test_complaint_wordings(body):
    raw = build(subject="Re: questionnaire", headers=[("In-Reply-To", ORIG_ID)], body=f"Hello,\n\n{body}\n\nTom\n")
    notice = both_views(raw)
    assert (notice.kind, notice.fmt) == (bounces.COMPLAINT, "strong")
    assert notice.candidate_ids == [ORIG_KEY] and notice.original.subject == ORIG_SUBJECT


def test_weak_complaint_needs_a_reference():
    raw = build(subject="Re: questionnaire", headers=[("In-Reply-To", ORIG_ID)], body="Who are you? Is it from you?\n")
    assert both_views(raw).fmt == "weak"


@pytest.mark.parametrize(
    ("from_", "subject", "body"),
    [
        (
            "Norton AntiVirus <postmaster@far-away.example>",
            "Norton AntiVirus detected a virus in a message you sent",
            "Norton AntiVirus found a virus in a message you sent.\n"
            "To: {to}\nSubject: {subject}\nVirus: W32.Klez.H@mm\n",
        ),
        (
            "ScanMail <smex@far-away.example>",
            "ScanMail Message: To Sender, virus found",
            "ScanMail for Microsoft Exchange has detected virus-infected attachment(s) in a message you sent.\n"
            "Recipient(s): {to}\nSubject: {subject}\nScanning result: WORM_KLEZ.H\n",
        ),
        (
            "Symantec Mail Security <SMSMSE@far-away.example>",
            "Symantec Mail Security replaced setup.scr",
            "Symantec Mail Security detected prohibited content in a message sent from your address (setup.scr).\n"
            "To: {to}\nSubject: {subject}\n",
        ),
        (
            "MAILER-DAEMON <MAILER-DAEMON@far-away.example>",
            "Returned due to virus; was: {subject}",
            "The message you sent contained a blocked file and was not delivered.\nTo: {to}\nSubject: {subject}\n",
        ),
    ],
)
def test_virus_warning_wordings(from_, subject, body):
    raw = build(
        from_=from_,
        subject=subject.format(subject=ORIG_SUBJECT),
        body=body.format(to=ORIG_TO, subject=ORIG_SUBJECT),
        headers=[("Auto-Submitted", "auto-generated")],
    )
    notice = both_views(raw)
    assert notice.kind == bounces.VIRUS and notice.direction == "from_you"
    assert ORIG_TO in notice.original_recipients and notice.original.subject == ORIG_SUBJECT


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: questionnaire",
        "Automatic reply: questionnaire",
        "[Auto-Reply] questionnaire",
        "Réponse automatique : questionnaire",
        "Abwesenheitsnotiz: questionnaire",
    ],
)
def test_out_of_office_subjects(subject):
    raw = build(subject=subject, headers=[("In-Reply-To", ORIG_ID)], body="I am out of the office until Monday.\n")
    notice = both_views(raw)
    assert notice.kind == bounces.AUTOREPLY and notice.candidate_ids == [ORIG_KEY]
    assert notice.original.subject == ORIG_SUBJECT


def test_security_newsletter_from_a_scanner_vendor_is_not_a_notice():
    raw = build(
        from_="Virus Bulletin <news@virusbulletin.example>", subject="Virus alert: W32/Klez.H@mm spreads",
        body="A virus was found in many mail systems. Your email may be at risk.\nTo: all readers\n",
        headers=[("List-Unsubscribe", "<mailto:leave@virusbulletin.example>"), ("Auto-Submitted", "auto-generated")],
    )
    assert both_views(raw) is None


@pytest.mark.parametrize(
    "body",
    [
        "Please stop sending me these emails.",
        "Why do you keep sending me this?",
        "I never signed up for this. Remove me from your list.",
        "Bitte entfernen Sie mich aus Ihrem Verteiler.",
        "Arrêtez de m'envoyer ces messages.",
        "Cancellatemi dalla lista, grazie.",
        "Dejen de enviarme correos, por favor.",
        "Hou op met mailen, ik ken u niet.",
    ],
)
def test_weak_complaints_in_several_languages(body):
    # What people also say to a newsletter: only "weak", never a strong complaint.
    raw = build(subject="Re: questionnaire", headers=[("In-Reply-To", ORIG_ID)], body=f"{body}\n")
    notice = both_views(raw)
    assert (notice.kind, notice.fmt) == (bounces.COMPLAINT, "weak") and not notice.hacked


def test_hacked_complaint_without_reference_names_your_address():
    raw = build(
        from_="Kevin Dale <kevin@dale-roofing.example>",
        subject="odd mail from your address?",
        body=f"Hi, I have never dealt with you but got a mail from {OWNER} with Invoice_88.zip.\n"
        "I think your email has been hacked.\nKevin\n",
    )
    notice = both_views(raw)
    assert (notice.kind, notice.fmt, notice.hacked) == (bounces.COMPLAINT, "strong", True)
    assert notice.original.from_addr.addr == OWNER and notice.candidate_ids == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # Phishing says the same words, but not that a mail came from you.
        ("Security alert", "Your email account has been compromised. Verify your password here today.\n"),
        ("Hello", "Has your email been hacked? Most people never find out. Read our guide.\n"),
        # A signature line about virus checks.
        ("Lunch", "See you at noon.\n--\nThis email has been checked for viruses by Avast.\n"),
    ],
)
def test_hacked_words_without_a_mail_from_you_are_no_complaint(subject, body):
    assert both_views(build(subject=subject, body=body)) is None


def test_newsletter_about_hacked_accounts_is_no_complaint():
    raw = build(
        from_="Safety Tips <news@tips.example>", subject="Is your email hacked?",
        body=f"Your email may have been hacked if friends get mail from {OWNER} you never sent.\n",
        headers=[("List-Unsubscribe", "<mailto:leave@tips.example>")],
    )
    assert both_views(raw) is None


# --- notices in other languages --------------------------------------------------------------------

_FOREIGN_VIRUS = {
    "de": (
        "Virus gefunden in Ihrer Nachricht",
        "Sehr geehrte Damen und Herren,\n\nin einer Nachricht von {owner} an {to} wurde ein Virus gefunden.\n\n"
        "Virus: W32/Klez.H@mm\nBetreff: {subject}\nDatum: 02.11.2026\n\nDie Nachricht wurde nicht zugestellt.\n",
    ),
    "fr": (
        "Virus détecté dans votre message",
        "Bonjour,\n\nUn virus a été détecté dans votre message.\n\nDe : {owner}\nÀ : {to}\nObjet : {subject}\n"
        "Virus : W32/Klez.H@mm\n\nLe message n'a pas été remis.\n",
    ),
    "it": (
        "Virus rilevato nel suo messaggio",
        "Gentile utente,\n\nnel suo messaggio è stato rilevato un virus.\n\nDa: {owner}\nA: {to}\n"
        "Oggetto: {subject}\nVirus: W32/Klez.H@mm\n",
    ),
    "es": (
        "Virus detectado en su mensaje",
        "Estimado usuario,\n\nse ha detectado un virus en su mensaje.\n\nDe: {owner}\nPara: {to}\n"
        "Asunto: {subject}\nVirus: W32/Klez.H@mm\n",
    ),
    "nl": (
        "Virus gevonden in uw bericht",
        "Beste,\n\nin uw bericht is een virus gevonden.\n\nVan: {owner}\nAan: {to}\nOnderwerp: {subject}\n"
        "Virus: W32/Klez.H@mm\n",
    ),
}


def foreign_virus(lang, owner=OWNER, to=ORIG_TO):
    subject, body = _FOREIGN_VIRUS[lang]
    return build(
        from_="MailScanner <mailscanner@far-away.example>",
        subject=subject,
        body=body.format(owner=owner, to=to, subject=ORIG_SUBJECT),
        headers=[("Auto-Submitted", "auto-generated")],
    )


@pytest.mark.parametrize("lang", sorted(_FOREIGN_VIRUS))
def test_virus_warning_in_other_languages(lang):
    notice = both_views(foreign_virus(lang))
    assert (notice.kind, notice.direction) == (bounces.VIRUS, "from_you")
    assert notice.virus == "W32/Klez.H@mm"
    assert notice.original.from_addr.addr == OWNER
    assert ORIG_TO in notice.original_recipients
    if lang != "de":
        assert notice.original.subject == ORIG_SUBJECT


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("VIRUS in einer an Sie gerichteten Nachricht", "In einer an Sie gerichteten Nachricht wurde ein Virus "
         "gefunden."),
        ("Virus détecté", "Un virus a été détecté dans un message qui vous était destiné."),
    ],
)
def test_virus_stopped_on_the_way_to_you_in_other_languages(subject, body):
    raw = build(from_="MailScanner <mailscanner@provider-test.example>", subject=subject, body=body + "\n",
                headers=[("Auto-Submitted", "auto-generated")])
    assert both_views(raw).direction == "to_you"


def test_german_bounce_quotes_fields_in_german():
    raw = (
        f"Return-Path: <>\nFrom: Mail-Zustellsystem <postmaster@far-away.example>\nTo: {OWNER}\n"
        f"Subject: Unzustellbar: {ORIG_SUBJECT}\nContent-Type: text/plain; charset=utf-8\n\n"
        "Ihre Nachricht konnte nicht zugestellt werden.\n\n"
        f"-----Ursprüngliche Nachricht-----\nVon: Owner <{OWNER}>\nAn: {ORIG_TO}\nBetreff: {ORIG_SUBJECT}\n"
        f"Gesendet: Montag, 2. November 2026 09:38\nMessage-ID: {ORIG_ID}\n"
    ).encode()
    notice = both_views(raw)
    assert notice.kind == bounces.BOUNCE and notice.candidate_ids == [ORIG_KEY]
    assert notice.original.from_addr.addr == OWNER and notice.original.to == [ORIG_TO]
    assert notice.original.subject == ORIG_SUBJECT and notice.original.date.startswith("Montag")


def test_signers_of_a_text_copy():
    raw = sample(
        "exim",
        returned_extra="DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n\td=mailgun.example; s=k1; bh=x; b=y\n",
    )
    assert both_views(raw).original.signers == ["mailgun.example"]


def test_relay_names_of_the_returned_copy():
    assert both_views(sample("dsn_postfix")).original.relays == ["user"]  # "(HELO User)"
    exim = sample("exim", returned_extra="Received: from [177.54.12.9] (helo=PC-USER)\n\tby smtp.far-away.example\n")
    assert "pc-user" in both_views(exim).original.relays
