"""Look-alike domains and brand names: each trick is found and explained, and the innocent look-alikes
(international names, a brand's own sub-domains and country domains, bakeries called Apple) stay quiet."""

import time

import pytest

from klezguard.core import lookalike
from klezguard.core.lookalike import brand_in_name, mixed_script, skeleton
from tests.mailfactory import OWN, auth, build, check, context

SUPPLIER = "timberworks-supplies.co.uk"


def raw(headers, body="Hello,\n\nplease see below.\n"):
    lines = [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sent_to(*addresses):
    """A sent folder with one message to each address: they become correspondents."""
    return [
        raw([("From", f"Owner <owner@{OWN}>"), ("To", a), ("Subject", "x"), ("Message-ID", f"<s{i}@{OWN}>")])
        for i, a in enumerate(addresses)
    ]


def ctx_with_supplier():
    return context(sent=sent_to(f"gareth@{SUPPLIER}", "tom@gmail.com", "ruth@okafor-accountancy.co.uk"))


def findings(result, rule):
    return [f for f in result.findings if f.rule == rule]


def one(result, rule):
    found = findings(result, rule)
    assert len(found) == 1, [(f.rule, f.title) for f in result.findings]
    return found[0]


KNOWN = lookalike.known_set(
    frozenset({"harbourline-joinery.co.uk"}),
    frozenset({SUPPLIER, "okafor-accountancy.co.uk", "gmail.com", "hotmail.co.uk", "xn--mnchen-3ya.de"}),
)


# --- the core check -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "target", "how", "words"),
    [
        ("paypaI.com", "paypal.com", "lookalike_letters", "capital I in place of a small l"),
        ("rnicrosoft.com", "microsoft.com", "lookalike_letters", "letters rn in place of the letter m"),
        ("\u0430pple.com", "apple.com", "lookalike_letters", "Cyrillic letter"),  # Cyrillic а
        ("xn--pypal-4ve.co.uk", "paypal.co.uk", "lookalike_letters", "Cyrillic letter"),
        ("xn--80ak6aa92e.com", "apple.com", "lookalike_letters", "Cyrillic"),  # аррӏе.com, all Cyrillic
        ("hrnrc.gov.uk", "hmrc.gov.uk", "lookalike_letters", "rn"),
        ("paypa1.com", "paypal.com", "lookalike_letters", "digit 1"),
        ("micosoft.com", "microsoft.com", "typo", "leaves out the letter r"),
        ("paypall.com", "paypal.com", "typo", "doubles the letter l"),
        ("micrsooft.com", "microsoft.com", "typo", "swaps"),
        ("pay-pal.com", "paypal.com", "hyphen", "adds a hyphen"),
        ("paypal.top", "paypal.com", "other_ending", "ends in .top"),
        ("paypalsecure.com", "paypal.com", "extra_words", '"secure"'),
        ("dhl-parcelservice.com", "dhl.com", "extra_words", "parcelservice"),
        ("apple-id-verify.com", "apple.com", "extra_words", '"verify"'),
        ("dhI-express.co.uk", "dhl.co.uk", "lookalike_letters", "express"),
        ("hmrc.gov.uk.refund-claim.top", "hmrc.gov.uk", "subdomain", "refund-claim.top"),
        ("timberworks-suppIies.co.uk", SUPPLIER, "lookalike_letters", "capital I"),
        ("timberworks-supplies.com", SUPPLIER, "other_ending", "instead of .co.uk"),
        ("timberworks-supplies-ltd.co.uk", SUPPLIER, "extra_words", '"ltd"'),
        ("harbourline-joinery.co", "harbourline-joinery.co.uk", "other_ending", ".co instead of .co.uk"),
        ("harbourline-joinery-uk.com", "harbourline-joinery.co.uk", "extra_words", '"uk"'),
        ("harb\u043eurline-joinery.co.uk", "harbourline-joinery.co.uk", "lookalike_letters", "Cyrillic"),
        ("okafor-acountancy.co.uk", "okafor-accountancy.co.uk", "typo", "leaves out"),
        ("gmai1.com", "gmail.com", "lookalike_letters", "digit 1"),
    ],
)
def test_lookalikes_are_found_and_explained(domain, target, how, words):
    match = KNOWN.check(domain)
    assert match is not None, domain
    assert match.target is not None and match.target.domain == target
    assert match.how == how
    assert words in match.detail


@pytest.mark.parametrize(
    "domain",
    [
        "paypal.com",
        "mail.paypal.co.uk",  # a brand's own sub-domain
        "paypal.de",  # brands own their name in most countries
        "notification.dhl.co.uk",
        "xn--mnchen-3ya.de",  # münchen.de, a correspondent
        "m\u00fcnchen.de",
        "xn--mller-holzbau-wob.de",  # müller-holzbau.de: an international name, one script
        "\u044f\u043d\u0434\u0435\u043a\u0441.\u0440\u0444",  # яндекс.рф
        "\u03b5\u03bb\u03bb\u03ac\u03b4\u03b1.gr",  # ελλάδα.gr
        "hotmail.com",  # a real provider is what it claims to be
        "hotmail.fr",
        "yahoo.co.uk",
        "apple-valley.com",  # an ordinary word in someone else's name
        "applevalleybakery.com",
        "ample.com",  # one letter off an ordinary word is another word
        "apply.com",
        "start-ups.com",
        "economic-outlook.com",
        "yahoo-example.com",  # a brand's name with a word that is no service word
        "sparkasse-koelnbonn.de",  # regional savings banks
        "dhl.okta.com",  # a customer's sub-domain at a sign-in service
        "harbourline-joinery.co.uk",
        "mail.harbourline-joinery.co.uk",
        SUPPLIER,
        "okafor-accountancy.co.uk",
        "gmial.com",  # too short for a typing slip to mean anything
        "ettus.com",
        "python.org",
        "192.0.2.1",
        "localhost",
    ],
)
def test_innocent_domains_are_quiet(domain):
    assert KNOWN.check(domain) is None, KNOWN.check(domain)


def test_links_leave_out_the_tricks_with_innocent_readings():
    assert KNOWN.check("timberworks-supplies.com", for_link=True) is None  # their .com web site
    assert KNOWN.check("timberworks-supplies-ltd.co.uk", for_link=True) is None
    assert KNOWN.check("youtube.sdra.io", for_link=True) is None  # a fan's sub-domain
    assert KNOWN.check("netflix.shop", for_link=True) is None  # a brand's shop under a new ending
    assert KNOWN.check("timberworks-suppIies.co.uk", for_link=True).how == "lookalike_letters"
    assert KNOWN.check("paypal.evil.example") is not None  # in a sender address it does count
    assert not KNOWN.check("paypal.evil.example").strong


def test_mixed_scripts_alone_are_suspicious_but_one_script_is_not():
    assert mixed_script("p\u0430ypal")  # Latin with a Cyrillic а
    assert mixed_script("\u13deedger")  # Cherokee Ꮮ with Latin
    assert not mixed_script("m\u00fcnchen")
    assert not mixed_script("\u044f\u043d\u0434\u0435\u043a\u0441")
    assert not mixed_script("\u65e5\u672cabc")  # Han with Latin is how Japanese names are written
    match = KNOWN.check("m\u0430il-box.ru")  # Cyrillic а, like nothing known
    assert match is not None and match.how == "mixed_script" and match.target is None


def test_skeleton_follows_uts39():
    assert skeleton("paypaI") == skeleton("paypal")
    assert skeleton("rn") == skeleton("m")
    assert skeleton("\u0440\u0430\u0443\u0440\u0430l") == skeleton("paypal")  # раураl
    assert skeleton("vv") == skeleton("w")
    assert skeleton("m\u00fcnchen") != skeleton("munchen")  # accents are real letters


def test_a_few_hundred_known_domains_stay_fast():
    correspondents = frozenset(f"supplier{i:03d}-trading.co.uk" for i in range(400))
    start = time.perf_counter()
    known = lookalike.known_set(frozenset({OWN}), correspondents)
    built = time.perf_counter() - start
    domains = [f"shop{i}.example.com" for i in range(300)] + ["supplier123-tradlng.co.uk"]
    start = time.perf_counter()
    results = [known.check(d) for d in domains]
    per_check = (time.perf_counter() - start) / len(domains)
    assert results[-1] is not None and results[-1].how == "typo"
    assert built < 2.0
    assert per_check < 0.002


# --- brand names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "brand"),
    [
        ("PayPal", "PayPal"),
        ("PAYPAL SERVICE", "PayPal"),
        ("Microsoft 365", "Microsoft"),
        ("Microsoft account team", "Microsoft"),
        ("DHL Express", "DHL"),
        ("DHL Express Kundenservice", "DHL"),
        ("HM Revenue & Customs", "HMRC"),
        ("HMRC | Notification", "HMRC"),
        ("Barclays Business Service", "Barclays"),
        ("Apple Support", "Apple"),  # an ordinary word with a service word
        ("Chase Support", "Chase"),
        ("ING Bank", "ING"),
        ("D P D Versand", "DPD"),  # spelled out
        ("LaPoste | Votre livraison", "La Poste"),
        ("Mcafee\u2122", "McAfee"),
        ("\u041cet\u0430m\u0430sk", "MetaMask"),  # Cyrillic М and а
        ("iCloud", "Apple"),
        ("StateFarm", "State Farm"),
    ],
)
def test_brand_names_are_recognised(name, brand):
    claim = brand_in_name(name)
    assert claim is not None, name
    assert claim.brand.name == brand


@pytest.mark.parametrize(
    "name",
    [
        "Apple",  # a bakery, a person
        "Apple Valley Bakery",
        "Chase",
        "Chase Miller",
        "Visa",
        "ING",
        "Ing. Jan Novak",
        "David Norton",
        "Your Bank",
        "Helen Ward (via Google Drive)",
        "Timberworks Accounts",
        "Stadt M\u00fcnchen Gewerbeamt",
        "\u0410\u043d\u043d\u0430 \u0421\u043c\u0438\u0440\u043d\u043e\u0432\u0430",
        "\u738b\u4f1f",
        "Costco Customer Support - Congratulations - Details Apply Here Today",
    ],
)
def test_ordinary_names_are_no_brand(name):
    assert brand_in_name(name) is None, name


def test_disguised_brand_names_are_marked():
    assert brand_in_name("\u041cet\u0430m\u0430sk").disguised
    assert brand_in_name("Pay\u200bPal").disguised
    assert not brand_in_name("PayPal").disguised


# --- sender.lookalike_domain -----------------------------------------------------------------------------
def test_capital_i_for_small_l_is_named():
    f = one(check(build(from_="PayPal <service@paypaI.com>")), "sender.lookalike_domain")
    assert f.severity == "high"
    assert f.title == "paypaI.com is made to look like paypal.com"
    assert "service@paypaI.com" in f.explanation and "PayPal" in f.explanation
    assert "capital I in place of a small l" in f.explanation
    assert f.evidence["From"] == "PayPal <service@paypaI.com>"
    assert f.evidence["Looks like"] == "paypal.com"


def test_punycode_domain_is_shown_both_ways():
    f = one(check(build(from_="PayPal <security@xn--pypal-4ve.co.uk>")), "sender.lookalike_domain")
    assert f.severity == "high"
    assert f.evidence["Domain"] == "p\u0430ypal.co.uk"
    assert f.evidence["Domain (punycode)"] == "xn--pypal-4ve.co.uk"
    assert "xn--pypal-4ve.co.uk" in f.explanation
    assert "Cyrillic" in f.explanation


def test_raw_utf8_homoglyph_of_own_domain():
    own = "harbourline-joinery.co.uk"
    mail = raw(
        [
            ("From", "Harbourline Accounts <accounts@harb\u043eurline-joinery.co.uk>"),
            ("To", f"dana@{own}"),
            ("Subject", "Invoice"),
            ("Message-ID", "<a1@example.net>"),
        ]
    )
    f = one(check(mail, context(own_domains=(own,))), "sender.lookalike_domain")
    assert f.severity == "high"
    assert "your own domain" in f.explanation


def test_other_ending_of_a_supplier_is_medium_with_innocent_reading():
    result = check(build(from_="Gareth <gareth@timberworks-supplies.com>"), ctx_with_supplier())
    f = one(result, "sender.lookalike_domain")
    assert f.severity == "medium"
    assert "people you write to" in f.explanation
    assert "more than one ending" in f.explanation


def test_own_domain_with_added_word_is_high():
    ctx = context(own_domains=("harbour-test-example.com",))
    f = one(check(build(from_="Mark <mark@harbour-test-example-uk.com>"), ctx), "sender.lookalike_domain")
    assert f.severity == "high"
    assert '"uk"' in f.explanation


def test_reply_to_lookalike_of_own_domain():
    ctx = context(own_domains=("harbourline-joinery.co.uk",))
    mail = build(from_="Anna <anna@weber-bau.example>", headers=[("Reply-To", "dana@harbourIine-joinery.co.uk")])
    f = one(check(mail, ctx), "sender.lookalike_domain")
    assert "Reply-To" in f.explanation and "your answer would go there" in f.explanation
    assert f.evidence["Reply-To"] == "dana@harbourIine-joinery.co.uk"


@pytest.mark.parametrize(
    "from_",
    [
        "PayPal <service@mail.paypal.co.uk>",
        "DHL Express <notifications@notification.dhl.co.uk>",
        "Holzbau M\u00fcller <info@xn--mller-holzbau-wob.de>",
        "Stadt M\u00fcnchen <gewerbeamt@xn--mnchen-3ya.de>",
        "Apple Valley Bakery <orders@applevalleybakery.com>",
        "Gareth <gareth@timberworks-supplies.co.uk>",
        "Tom <tom.whitfield@gmail.com>",
        "Sophie <sophie@hotmail.co.uk>",
    ],
)
def test_real_senders_are_no_lookalikes(from_):
    assert not findings(check(build(from_=from_), ctx_with_supplier()), "sender.lookalike_domain")


# --- sender.brand_impersonation ------------------------------------------------------------------------------
def test_brand_name_from_a_foreign_domain():
    f = one(check(build(from_="PayPal Service <support@mz3ji94w.com>")), "sender.brand_impersonation")
    assert f.severity == "medium"
    assert f.title == "The name says PayPal, but the mail is not from PayPal"
    assert '"PayPal Service"' in f.explanation and "support@mz3ji94w.com" in f.explanation
    assert "paypal.com" in f.explanation
    assert f.evidence["Brand"] == "PayPal"


def test_brand_name_from_webmail_is_high_even_if_you_write_to_webmail_users():
    result = check(build(from_="Microsoft Security Team <info@gmail.com>"), ctx_with_supplier())
    f = one(result, "sender.brand_impersonation")
    assert f.severity == "high"
    assert "free webmail" in f.explanation


def test_disguised_brand_name_is_high():
    f = one(check(build(from_="\u041cet\u0430m\u0430sk <friends@d.kajabimail.example.net>")),
            "sender.brand_impersonation")
    assert f.severity == "high"
    assert "look-alike or hidden letters" in f.explanation


def test_brand_name_without_any_address():
    mail = raw([("From", '"Fedex pakket" <>'), ("To", f"o@{OWN}"), ("Subject", "Pakket"), ("Message-ID", "<x@y>")])
    f = one(check(mail), "sender.brand_impersonation")
    assert f.severity == "high"
    assert "no real sender address" in f.explanation


@pytest.mark.parametrize(
    ("from_", "headers"),
    [
        # the brand's own domain, sent through a mail service (Return-Path elsewhere)
        ("DHL Express <notifications@notification.dhl.co.uk>",
         [("Return-Path", "<0102018921af@eu-west-1.amazonses.com>")]),
        ("Microsoft 365 <notifications@accountprotection.microsoft.com>", []),
        ("HM Revenue & Customs <no-reply@notifications.hmrc.gov.uk>", []),
        ("Apple Valley Bakery <orders@applevalleybakery.com>", []),
        ("Chase Miller <chase.miller@example.com>", []),
        ("Helen Ward (via Google Drive) <drive-shares-dm-noreply@google.com>", []),
        # a mail server's virus notice signed with its product name
        ("McAfee Email Gateway <postmaster@mail.example.net>", [("Return-Path", "<>")]),
        ("Norton AntiVirus Gateway <av@mail.example.net>", [("Auto-Submitted", "auto-generated")]),
    ],
)
def test_genuine_brand_mail_and_ordinary_names_are_quiet(from_, headers):
    assert not findings(check(build(from_=from_, headers=headers)), "sender.brand_impersonation")


def test_brand_signed_mail_through_a_service_is_quiet():
    ar = auth(domain="esp-mailer.example", dkim_domain="paypal.com")
    mail = build(from_="PayPal <paypal@esp-mailer.example>", headers=[("Authentication-Results", ar)])
    assert not findings(check(mail), "sender.brand_impersonation")


def test_your_it_firm_may_sign_as_the_brand():
    ctx = context(sent=sent_to("help@it-partner.example.co.uk"))
    mail = build(from_="Microsoft 365 Support <help@it-partner.example.co.uk>")
    assert not findings(check(mail, ctx), "sender.brand_impersonation")
    assert findings(check(mail), "sender.brand_impersonation")


def test_brand_lookalike_domain_is_reported_once():
    result = check(build(from_="PayPal <service@paypaI.com>"))
    assert findings(result, "sender.lookalike_domain")
    assert not findings(result, "sender.brand_impersonation")


def test_mail_service_sending_name_is_only_low():
    f = one(check(build(from_="Discover Card <newsflash@discover.qrs1.example.net>")), "sender.brand_impersonation")
    assert f.severity == "low"
