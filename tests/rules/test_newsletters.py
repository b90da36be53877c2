"""Newsletters and forwarders that look like tricks at first sight, each beside the trick it resembles.

Kinds, not single messages: an advert through a newsletter's click counter, a firm mailing from a mailing
domain of its own that links only to its site, an alias service that puts the first sender's address in
the name with the recipient's mailbox as a label.
"""

from tests.mailfactory import auth, build, check

OWNER = "Owner <owner@harbour-test.example>"


def _finding(result, rule):
    return next((f for f in result.findings if f.rule == rule), None)


# --- an advert through a click counter ----------------------------------------------------------------
def _advert(shown: str, href: str, from_="Dev Weekly <news@devweekly.example>"):
    html = f'<p>Our sponsor this week: <a href="{href}">{shown}</a></p>'
    return build(from_=from_, subject="Dev Weekly #212", html=html,
                 headers=[("List-Unsubscribe", "<mailto:leave@devweekly.example>")], received=False)


def test_an_unknown_site_shown_through_a_click_counter_is_a_small_sign():
    result = check(_advert("HostJ2EE.com", "http://lists.clickhost.example/t/12337/850395/30/181/"))
    found = _finding(result, "link.text_mismatch")
    assert result.verdict == "clean" and found is not None and found.severity == "low"
    assert "click counter" in found.explanation


def test_a_known_bank_shown_through_the_same_counter_stays_a_warning():
    result = check(_advert("www.paypal.com", "http://lists.devweekly.example/t/12337/850395/30/181/"))
    assert _finding(result, "link.text_mismatch").severity == "high"


def test_a_sign_in_address_shown_through_a_counter_stays_a_warning():
    result = check(_advert("www.mashreq-online.com/login", "http://email.mg.piman.example/c/eJws0MGOmzAYBOCnMTeQ"))
    assert _finding(result, "link.text_mismatch").severity == "medium"


def test_an_unknown_site_with_a_readable_path_elsewhere_stays_a_warning():
    result = check(_advert("HostJ2EE.com", "http://files-download.example/hostj2ee/invoice/open.php"))
    assert _finding(result, "link.text_mismatch").severity == "medium"


# --- a brand's own mailing domain ---------------------------------------------------------------------
def _brand_mail(from_: str, links: list[str], attachments=()):
    html = "<p>Fares from 9.99!</p>" + "".join(f'<p><a href="{u}">Book now</a></p>' for u in links)
    return build(from_=from_, subject="Sale: 48 hours only", html=html, attachments=attachments,
                 headers=[("List-Unsubscribe", "<https://www.ryanair.com/unsubscribe>")], received=False)


def test_a_brand_mailing_domain_that_links_only_to_the_brand_is_a_small_sign():
    result = check(_brand_mail("Ryanair <webster@ryanairmail.com>",
                               ["https://www.ryanair.com/gb/en/cheap-flights", "https://www.ryanair.com/"]))
    found = _finding(result, "sender.lookalike_domain")
    assert result.verdict == "clean" and found is not None and found.severity == "low"


def test_the_same_domain_sending_readers_to_its_own_pages_stays_a_warning():
    result = check(_brand_mail("Ryanair <webster@ryanairmail.com>",
                               ["https://ryanairmail.com/refund/claim", "https://www.ryanair.com/"]))
    assert result.verdict != "clean"


def test_the_same_domain_with_a_file_stays_a_warning():
    result = check(_brand_mail("Ryanair <webster@ryanairmail.com>", ["https://www.ryanair.com/"],
                               attachments=[("refund.html", "text/html", b"<form></form>")]))
    assert result.verdict != "clean"


def test_a_brand_name_through_a_mail_service_linking_only_to_the_brand_is_a_small_sign():
    raw = _brand_mail('"Tesco .ie" <tesco.ie@c7.reply.campaignhost.example>',
                      ["http://www.tesco.com/", "http://www.tesco.com/Register/"])
    found = _finding(check(raw), "sender.brand_impersonation")
    assert found is not None and found.severity == "low"


def test_a_brand_name_linking_elsewhere_stays_a_warning():
    raw = _brand_mail('"Tesco .ie" <tesco.ie@c7.reply.campaignhost.example>',
                      ["http://www.tesco.com/", "http://tesco-rewards.example/claim"])
    assert check(raw).verdict != "clean"


# --- an alias service labelling the first sender -------------------------------------------------------
def _alias(name: str, to: str = "mothlight@mailbox.example"):
    return build(from_=f'"{name}" <ticket_23aj49j1029@alias-relay.example>', to=to,
                 subject="AuthorTracker News", received=False)


def test_an_alias_label_with_your_own_mailbox_is_a_small_sign():
    found = _finding(check(_alias("news@publisher.example [mothlight/publisher]")),
                     "sender.name_shows_other_address")
    assert found is not None and found.severity == "low"


def test_an_address_in_the_name_without_that_label_stays_a_warning():
    found = _finding(check(_alias("service@paypal.com")), "sender.name_shows_other_address")
    assert found is not None and found.severity != "low"


def test_a_label_that_is_not_your_mailbox_stays_a_warning():
    found = _finding(check(_alias("service@paypal.com [secure/paypal]")), "sender.name_shows_other_address")
    assert found is not None and found.severity != "low"


def test_a_provider_confirmed_newsletter_showing_its_own_site_is_not_flagged():
    html = '<p><a href="https://click.devweekly.example/ls/click?upn=AAAABBBBCCCCDDDDEEEE">devweekly.example</a></p>'
    raw = build(from_="Dev Weekly <news@devweekly.example>", subject="Dev Weekly", html=html,
                headers=[("Authentication-Results", auth(domain="devweekly.example")),
                         ("List-Unsubscribe", "<mailto:leave@devweekly.example>")])
    assert check(raw).verdict == "clean"
