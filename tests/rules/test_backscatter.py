"""Backscatter: reactions to mail the user never sent are flagged; reactions to sent mail are not."""

import pytest

from tests.mailfactory import OWN, build, check, context
from tests.rules.test_bounces import _FOREIGN_VIRUS, ORIG_ID, ORIG_SUBJECT, ORIG_TO, OWNER, foreign_virus, sample

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
    "ooo_german": "backscatter.autoreply_for_unsent_mail",
    "mdn": "backscatter.autoreply_for_unsent_mail",
    "arf": "backscatter.abuse_report_for_unsent_mail",
}
# Samples that do not quote the original's Message-ID: judged by whom the original went to.
NO_ID = {"lotus", "virus_mailscanner", "virus_trend"}
# A bounce that names only a stranger as recipient, with no copy and no ID: a web shop's order mail to a
# mistyped customer address looks the same, so it is only a note.
LOW = {"lotus"}


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
    if name in LOW:
        assert finding.severity == "low" and not result.flagged
        assert "not in your sent mail" in finding.title
    else:
        assert finding.severity == "medium" and result.flagged
        assert "you never sent" in finding.title
    assert "We can't find that message in your sent mail" in finding.explanation
    assert f"in your name ({OWNER})" in finding.explanation
    # Both readings: a forger elsewhere (your computer is fine) or someone who knows your password.
    assert "someone knows your mail password" in finding.explanation
    assert "computer is fine" in finding.explanation
    if name not in ("dsn_global", "mdn"):
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
    assert "change your mail password" in finding.advice
    assert "protect your domain from fakes" in finding.advice and "SPF, DKIM and DMARC" in finding.advice


@pytest.mark.parametrize("name", sorted(RULE))
def test_notice_for_sent_mail_is_not_flagged(name):
    # The same notice about mail that IS in the sent folder (or, without an ID, went to a known contact).
    kwargs = {"orig_id": SENT_ID, "orig_to": CONTACT}
    raw = sample(name, **kwargs)
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


def test_id_of_a_single_computer_is_named():
    finding = backscatter(check(sample("dsn_postfix"), ctx_sent()))[0]
    assert "names a single computer (win-5e58a5)" in finding.explanation


def test_spam_complaint_without_reference_is_not_judged():
    # "Stop sending me spam, I never emailed you": what people also say about a newsletter.
    assert backscatter(check(sample("complaint_new"), ctx_sent())) == []


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


# --- mail that services send in your name ----------------------------------------------------------


def reply_to(orig_id, body, subject="Re: June offers", from_="Graham Pike <g.pike@far-away.example>", auto=False):
    headers = [("In-Reply-To", orig_id), ("References", orig_id)]
    if auto:
        headers += [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    return build(from_=from_, subject=subject, body=body, headers=headers)


OOO = "Thank you for your email. I am on annual leave until 17 June and will reply when I return.\n"


def test_autoreply_to_mail_sent_from_a_service_sub_domain_is_low():
    # A web shop sends order mails from shop-mail.<your domain>: never in your sent mail.
    raw = reply_to(f"<0f1d-1187@shop-mail.{OWN}>", OOO, subject="Automatic reply: Order #1187 confirmed", auto=True)
    result = check(raw, ctx_sent())
    found = backscatter(result)
    assert [(f.rule, f.severity) for f in found] == [("backscatter.autoreply_for_unsent_mail", "low")]
    assert not result.flagged
    assert f"sent through shop-mail.{OWN}" in found[0].explanation
    assert found[0].evidence["Sent through"] == f"shop-mail.{OWN}"


def test_autoreply_to_a_newsletter_tools_mail_is_quiet():
    raw = reply_to("<a1b2c3.9f2c1a@mail213.atl61.mcsv.example>", OOO, subject="Automatic reply: June offers", auto=True)
    assert backscatter(check(raw, ctx_sent())) == []


def test_unsubscribe_reply_to_a_newsletter_is_quiet():
    body = "Why do you keep emailing me? I bought one chopping board two years ago. Please take me off your list.\n"
    assert backscatter(check(reply_to("<a1b2c3.9f2c1a@mail213.atl61.mcsv.example>", body), ctx_sent())) == []


def test_unsubscribe_reply_to_mail_from_your_own_domain_is_only_a_note():
    body = "Why do you keep emailing me? Please take me off your list.\n"
    result = check(reply_to(f"<wp-4711@{OWN}>", body), ctx_sent())
    found = backscatter(result)
    assert [f.severity for f in found] == ["low"] and not result.flagged
    assert "web shop, a newsletter tool or a web form" in found[0].explanation


def test_virus_complaint_about_a_services_mail_asks_for_a_look_and_names_the_service():
    # (issue 11: a person's "your mail had a virus" about mail not in the sent mail is at least suspicious;
    # the finding says which service sent it, so a user who sends newsletters through it knows what it is)
    body = "Your email contained a virus! My antivirus caught it.\n"
    result = check(reply_to("<a1b2c3.9f2c1a@mail213.atl61.mcsv.example>", body), ctx_sent())
    found = backscatter(result)
    assert [f.severity for f in found] == ["medium"] and result.flagged
    assert "sent through mcsv.example" in found[0].explanation


def test_bounce_of_a_copy_signed_by_a_mail_service_is_low():
    raw = sample(
        "dsn_postfix",
        orig_id="<order-1187.x@sendgrid-mail.example>",
        returned_extra="DKIM-Signature: v=1; a=rsa-sha256; d=sendgrid-mail.example; s=s1; bh=x; b=y\n",
    )
    found = backscatter(check(raw, ctx_sent()))
    assert [f.severity for f in found] == ["low"]
    assert found[0].evidence["Sent through"] == "sendgrid-mail.example"
    assert "not in your sent mail" in found[0].title


def test_bounce_of_an_unsigned_copy_with_your_address_stays_medium():
    # Sent from some computer with your address and no service's signature: a forgery, whatever its ID says.
    raw = sample("dsn_postfix", orig_id="<20261102.77AB@bulk-sender.example>")
    found = backscatter(check(raw, ctx_sent()))
    assert [f.severity for f in found] == ["medium"]
    assert "web shop" not in found[0].explanation


def test_bounce_without_copy_for_a_foreign_id_is_low():
    found = backscatter(check(sample("exchange", orig_id="<0f1d-1187@mail.shopify-like.example>"), ctx_sent()))
    assert [f.severity for f in found] == ["low"]
    assert "sent through shopify-like.example" in found[0].explanation


def test_bounce_without_copy_for_your_own_domain_names_the_innocent_case():
    found = backscatter(check(sample("exchange", orig_id=f"<9a8b7c6d@{OWN}>"), ctx_sent()))
    assert [f.severity for f in found] == ["medium"]
    assert "web shop, a newsletter tool or a web form" in found[0].explanation


# --- "your email has been hacked" --------------------------------------------------------------------


def hacked_complaint(from_="Kevin Dale <kevin@dale-roofing.example>", body=None):
    body = body or (
        f"Hi, I have never dealt with your company but I got an email from {OWNER} this morning with a zip "
        "called Invoice_88.zip. Looks dodgy - I think your email has been hacked.\nKevin\n"
    )
    return build(from_=from_, subject="weird attachment from your address?", body=body)


def test_hacked_complaint_without_reference():
    result = check(hacked_complaint(), ctx_sent())
    found = backscatter(result)
    assert [(f.rule, f.severity) for f in found] == [("backscatter.complaint_for_unsent_mail", "medium")]
    f = found[0]
    assert result.flagged
    assert "kevin@dale-roofing.example thinks your mail account was hacked" in f.explanation
    assert "someone knows your mail password" in f.explanation
    assert "change your mail password" in f.advice
    assert f.evidence["Original From"] == OWNER
    assert f.evidence["Never written to"] == "kevin@dale-roofing.example"


def test_hacked_complaint_from_a_contact_without_reference_is_not_judged():
    # A contact may mean mail you really sent; without a reference we cannot tell.
    assert backscatter(check(hacked_complaint(from_=f"Gareth <{CONTACT}>"), ctx_sent())) == []


def test_phishing_that_says_your_account_was_hacked_is_no_complaint():
    body = "Your email account has been compromised. Confirm your password within 24 hours.\n"
    raw = build(from_="Mail Admin <admin@mail-desk.example>", subject="Account hacked", body=body)
    assert backscatter(check(raw, ctx_sent())) == []


# --- other languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(_FOREIGN_VIRUS))
def test_virus_warning_in_other_languages_is_flagged(lang):
    result = check(foreign_virus(lang), ctx_sent())
    found = backscatter(result)
    assert [(f.rule, f.severity) for f in found] == [("backscatter.virus_warning_for_unsent_mail", "medium")]
    assert "a virus (W32/Klez.H@mm)" in found[0].explanation
    assert found[0].evidence["Never written to"] == ORIG_TO


@pytest.mark.parametrize("lang", sorted(_FOREIGN_VIRUS))
def test_virus_warning_in_other_languages_for_a_contact_is_quiet(lang):
    assert backscatter(check(foreign_virus(lang, to=CONTACT), ctx_sent())) == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("AW: questionnaire", "Warum schicken Sie mir Viren? Ihr Computer ist wohl infiziert."),
        ("RE: questionnaire", "Vous m'avez envoyé un virus ! Votre ordinateur est infecté."),
        ("R: questionnaire", "Mi hai mandato un virus, il tuo computer è infetto."),
        ("RE: questionnaire", "Me has enviado un virus. Creo que tu cuenta ha sido hackeada."),
        ("Antw: questionnaire", "U heeft me een virus gestuurd. Uw computer is besmet."),
        ("Odp: questionnaire", "Przysłał mi Pan wirusa! Pana komputer jest chyba zainfekowany."),
        ("Odp: questionnaire", "Ktoś używa Pana adresu, dostałem od Pana dziwny załącznik. Pana konto zostało "
                               "chyba zhakowane."),
        ("RE: questionnaire", "Você me enviou um vírus. O seu computador deve estar infectado."),
        ("RE: questionnaire", "O meu antivírus bloqueou o anexo da sua mensagem. A sua conta foi invadida?"),
    ],
)
def test_complaints_in_other_languages(subject, body):
    own_id = f"<3143641774.qlj578@{OWN}>"
    raw = reply_to(own_id, body + "\n", subject=subject, from_="Ravi Schulz <ravi@far-away.example>")
    found = backscatter(check(raw, ctx_sent()))
    assert [(f.rule, f.severity) for f in found] == [("backscatter.complaint_for_unsent_mail", "medium")]
    assert found[0].evidence["Original Subject"] == ORIG_SUBJECT
    # The same complaint about mail that is in the sent folder: nothing.
    raw = reply_to(SENT_ID, body + "\n", subject=subject, from_="Ravi Schulz <ravi@far-away.example>")
    assert backscatter(check(raw, ctx_sent())) == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Risposta automatica: questionnaire", "Sono fuori ufficio fino al 17 giugno."),
        ("Automatisch antwoord: questionnaire", "Ik ben afwezig tot 17 juni."),
        ("Respuesta automática: questionnaire", "Estoy fuera de la oficina hasta el lunes."),
    ],
)
def test_out_of_office_in_other_languages(subject, body):
    raw = reply_to(f"<9a8b7c6d@{OWN}>", body + "\n", subject=subject, auto=True)
    found = backscatter(check(raw, ctx_sent()))
    assert [(f.rule, f.severity) for f in found] == [("backscatter.autoreply_for_unsent_mail", "medium")]
    assert backscatter(check(reply_to(SENT_ID, body + "\n", subject=subject, auto=True), ctx_sent())) == []


def website_bounce(relay):
    # Your web shop on a hosting server sends an order mail to a mistyped address: unsigned, never in Sent.
    extra = f"Received: from {relay}\n\tby mx.far-away.example with ESMTP; Mon, 2 Nov 2026 09:40:00 +0000\n"
    raw = sample("dsn_postfix", orig_id=f"<wc-order-5521@www.{OWN}>", returned_extra=extra)
    # (the sample's own first Received line names a bot; drop it to keep only the web server's)
    return raw.replace(b"Received: from unknown (HELO User) ([189.82.196.105])\r\n", b"Received: from x\r\n"
                       b"\t(HELO web01.hosting.example) ([203.0.113.10])\r\n")


def test_bounce_of_your_websites_mail_is_low():
    found = backscatter(check(website_bounce("web01.hosting.example (web01.hosting.example [203.0.113.10])"),
                              ctx_sent()))
    assert [f.severity for f in found] == ["low"]
    assert f"sent through www.{OWN}" in found[0].explanation


@pytest.mark.parametrize(
    "relay", ["PC-USER (unknown [177.54.12.9])", f"host-9.dyn.example (HELO {OWN}) ([198.51.100.9])"]
)
def test_bounce_of_a_copy_from_a_bot_stays_medium_whatever_its_id(relay):
    found = backscatter(check(website_bounce(relay), ctx_sent()))
    assert [f.severity for f in found] == ["medium"]


@pytest.mark.parametrize(
    "body",
    [
        "You sent me a virus yesterday! Please clean your computer.",
        "Warum schicken Sie mir Viren? Ihr Computer ist wohl infiziert.",
        "Przysłał mi Pan wirusa! Pana komputer jest chyba zainfekowany.",
        "Você me enviou um vírus. O seu computador deve estar infectado.",
    ],
)
def test_a_complaint_referring_to_mail_made_elsewhere_asks_for_a_look(body):
    """The reference names a message made on another firm's server (a stranger forged the From, or a tool
    sent it): not in the sent mail, so the person's complaint is at least suspicious."""
    raw = reply_to("<20261201.88213.abc@mail.random-host.example>", body + "\n",
                   from_="Ravi Schulz <ravi@far-away.example>")
    found = backscatter(check(raw, ctx_sent()))
    assert [(f.rule, f.severity) for f in found] == [("backscatter.complaint_for_unsent_mail", "medium")]


@pytest.mark.parametrize(
    "body",
    [
        "Przestańcie do mnie pisać, kim Pan jest?",
        "Parem de me enviar estas mensagens, quem é você?",
        "Thanks, we enjoyed the visit. The virus scanner on our side is new, so the file took a while.",
    ],
)
def test_an_unsubscribe_or_a_passing_mention_about_mail_made_elsewhere_is_quiet(body):
    raw = reply_to("<20261201.88213.abc@mail.random-host.example>", body + "\n",
                   from_="Ravi Schulz <ravi@far-away.example>")
    assert [f.severity for f in backscatter(check(raw, ctx_sent()))] in ([], ["low"])


# --- issue 11: kinds written apart from the rules ------------------------------------------------------
def _challenge(body, subject='Please confirm your message: "Your parcel delivery failed"', null=True):
    headers = [("Auto-Submitted", "auto-replied")]
    if null:
        headers.append(("Return-Path", "<>"))
    return build(from_="MailSentinel Verification <verify@mailsentinel.example>", subject=subject, body=body,
                 headers=headers)


CHALLENGE_EN = ("Your message to anna@smallharbour.example has been held.\n\nSubject: Your parcel delivery failed\n\n"
                "Anna uses MailSentinel to block spam. If you sent this message, please confirm you are a real "
                "person: https://verify.mailsentinel.example/c/9qs7cfg3rocyaueazfewd3\n")
CHALLENGE_DE = ('Guten Tag,\n\nIhre E-Mail an info@weingut.example mit dem Betreff\n\n   "Rechnung Nr. 4402 - Zahlung '
                'überfällig"\n\nwurde von unserem Spamschutz zurückgehalten. Um die Zustellung zu bestätigen, '
                'antworten Sie bitte auf diese Nachricht.\n\nBestätigungscode: 4P6RJT7G\n')


@pytest.mark.parametrize(("body", "held"), [(CHALLENGE_EN, "Your parcel delivery failed"),
                                             (CHALLENGE_DE, "Rechnung Nr. 4402 - Zahlung überfällig")])
def test_a_challenge_for_mail_you_never_sent_warns_against_its_confirm_link(body, held):
    found = backscatter(check(_challenge(body, subject="Bestätigung erforderlich" if "Guten" in body else
                                         'Please confirm your message: "Your parcel delivery failed"'), ctx_sent()))
    assert [f.severity for f in found] == ["medium"]
    assert f'called "{held}"' in found[0].explanation  # the held mail's subject, not the notice's own
    assert "Do not click its confirm link" in found[0].advice


def test_a_challenge_for_mail_you_did_send_is_quiet():
    body = (f"Your message to {CONTACT} has been held.\n\nSubject: {ORIG_SUBJECT}\n\n"
            "If you sent this message, please confirm you are a real person: https://verify.example/c/1\n")
    found = backscatter(check(build(from_=f"Filter <verify@{CONTACT.split('@')[1]}>", to=f"Owner <owner@{OWN}>",
                                    subject="Please confirm your message", body=body,
                                    headers=[("Auto-Submitted", "auto-replied")]), ctx_sent()))
    assert found == []


def test_an_admins_note_about_an_infected_mail_from_your_address_is_medium():
    body = ("Hello,\n\nI'm the IT administrator at Harbour Freight. Our mail gateway quarantined a message sent "
            f"from your address (owner@{OWN}) to our accounts team, attachment \"Remittance.xlsm\". "
            "The attachment contained W97M/Downloader.gen. If you didn't send it, your address is being spoofed.\n")
    raw = build(from_="Mark Ellison <m.ellison@harbourfreight.example>", subject="Infected attachment received "
                "from your address", body=body)
    found = backscatter(check(raw, ctx_sent()))
    assert [(f.rule, f.severity) for f in found] == [("backscatter.complaint_for_unsent_mail", "medium")]


def test_a_spam_complaint_about_mail_made_in_your_own_domain_is_medium_but_an_unsubscribe_is_a_note():
    spam = "Wilt u alstublieft stoppen met het sturen van spam? Ik ben nooit klant bij jullie geweest.\n"
    found = backscatter(check(reply_to(f"<5a37465eb703694f@{OWN}>", spam), ctx_sent()))
    assert [f.severity for f in found] == ["medium"]
    unsubscribe = "Why do you keep emailing me? Please take me off your list.\n"
    assert [f.severity for f in backscatter(check(reply_to(f"<5a37465eb703694f@{OWN}>", unsubscribe),
                                                  ctx_sent()))] == ["low"]


def test_a_complaint_whose_lines_wrap_mid_sentence_is_still_read():
    body = ("Dzień dobry,\notrzymaliśmy od Państwa wiadomość z plikiem .iso. Nigdy nie współpracowaliśmy, a nasz "
            "program antywirusowy\nzablokował załącznik. Prawdopodobnie ktoś się\npodszywa pod Państwa adres.\n")
    raw = reply_to(f"<7f6e5d4c3b2a1908@{OWN}>", body, subject="Odp: Faktura VAT 04/2026 - wirus",
                   from_="Agnieszka Nowak <biuro@meble-nowak.example>")
    assert [f.severity for f in backscatter(check(raw, ctx_sent()))] == ["medium"]


def test_a_polish_bounce_and_an_italian_challenge_are_recognised():
    bounce = build(from_="Serwer Poczty <MAILER-DAEMON@poczta.example>", subject="Zwrot: wiadomość niedostarczona",
                   body="Nie udało się dostarczyć Twojej wiadomości do następujących adresatów:\n\n"
                        "  anna@poczta.example\n"
                        f"\nNagłówki oryginalnej wiadomości:\n\nFrom: Owner <owner@{OWN}>\nTo: anna@poczta.example\n"
                        f"Subject: Twoja paczka czeka\nMessage-ID: <xq7m2k9w.4402917@{OWN}>\n",
                   headers=[("Return-Path", "<>")])
    assert [f.rule for f in backscatter(check(bounce, ctx_sent()))] == ["backscatter.bounce_for_unsent_mail"]
    challenge = _challenge("Gentile mittente,\n\nil suo messaggio indirizzato a f.baroni@edilizia.example con "
                           'oggetto\n"Pagamento ricevuto" è stato trattenuto dal nostro sistema antispam.\n\nPer '
                           "confermare di essere il mittente, risponda a questa mail.\n",
                           subject="[Conferma mittente] Pagamento ricevuto", null=False)
    found = backscatter(check(challenge, ctx_sent()))
    assert [f.severity for f in found] == ["medium"] and "Do not click its confirm link" in found[0].advice
