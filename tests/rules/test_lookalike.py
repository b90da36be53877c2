"""Look-alike domains and brand names: each trick is found and explained, and the innocent look-alikes
(international names, a brand's own sub-domains and country domains, other firms whose name is one letter
off a brand's, ordinary firms with a brand word in their name) stay quiet."""

import time

import pytest

from klezguard.core import lookalike
from klezguard.core.lookalike import brand_in_name, mixed_script, skeleton
from tests.mailfactory import OWN, auth, build, check, context

SUPPLIER = "oakridge-supplies.co.uk"
OWN_UK = "brightwater-joinery.co.uk"


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
    return context(sent=sent_to(f"gareth@{SUPPLIER}", "tom@gmail.com", "ruth@fenwick-accountancy.co.uk"))


def findings(result, rule):
    return [f for f in result.findings if f.rule == rule]


def one(result, rule):
    found = findings(result, rule)
    assert len(found) == 1, [(f.rule, f.title) for f in result.findings]
    return found[0]


def mine(result):
    """The findings of this module's two rules."""
    return [(f.rule, f.severity) for f in result.findings
            if f.rule in ("sender.lookalike_domain", "sender.brand_impersonation")]


KNOWN = lookalike.known_set(
    frozenset({OWN_UK}),
    frozenset({SUPPLIER, "fenwick-accountancy.co.uk", "gmail.com", "hotmail.co.uk", "xn--kln-sna.de"}),
)


# --- the core check -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "target", "how", "words"),
    [
        ("paypaI.com", "paypal.com", "lookalike_letters", "capital I in place of a small l"),
        ("rnicrosoft.com", "microsoft.com", "lookalike_letters", "letters rn in place of the letter m"),
        ("\u0430pple.com", "apple.com", "lookalike_letters", "Cyrillic letter"),  # Cyrillic а
        ("xn--mazon-3ve.de", "amazon.de", "lookalike_letters", "Cyrillic letter"),  # аmazon.de
        ("xn--80ak6aa92e.com", "apple.com", "lookalike_letters", "Cyrillic"),  # аррӏе.com, all Cyrillic
        ("rnonzo.com", "monzo.com", "lookalike_letters", "rn"),
        ("amaz0n.com", "amazon.com", "lookalike_letters", "digit 0"),
        ("micosoft.com", "microsoft.com", "typo", "leaves out the letter r"),
        ("paypall.com", "paypal.com", "typo", "doubles the letter l"),
        ("micrsooft.com", "microsoft.com", "typo", "swaps"),
        ("amazom.co.jp", "amazon.co.jp", "typo", "letter m in place"),  # Amazon has a .jp domain
        ("pay-pal.com", "paypal.com", "hyphen", "adds a hyphen"),
        ("gooogle-login.top", "google.com", "typo", 'adds "login" to the name google'),
        ("paypal.top", "paypal.com", "other_ending", "ends in .top"),
        ("paypalsecure.com", "paypal.com", "extra_words", '"secure"'),
        ("dhl-shipmentcenter.com", "dhl.com", "extra_words", "shipmentcenter"),
        ("apple-id-verify.com", "apple.com", "extra_words", '"verify"'),
        ("dhI-parcel.co.uk", "dhl.co.uk", "lookalike_letters", "parcel"),
        ("hmrc.gov.uk.tax-rebate.top", "hmrc.gov.uk", "subdomain", "tax-rebate.top"),
        ("paypal.secure-login.top", "paypal.com", "brand_subdomain", "secure-login.top"),
        ("www.paypal-secure.account-check.example", "paypal.com", "brand_subdomain", "account-check.example"),
        ("dhl.parcel-notice.top", "dhl.com", "brand_subdomain", "The name dhl is only put in front"),
        ("ups.delivery-notice.com", "ups.com", "brand_subdomain", "delivery-notice.com"),
        ("royalmail.redelivery-fee.top", "royalmail.com", "brand_subdomain", "redelivery-fee.top"),
        ("youtube.streaming-fans.example", "youtube.com", "brand_subdomain", "streaming-fans.example"),
        ("oakridge-suppIies.co.uk", SUPPLIER, "lookalike_letters", "capital I"),
        ("oakridge-supplies.com", SUPPLIER, "other_ending", "instead of .co.uk"),
        ("oakridge-supplies-ltd.co.uk", SUPPLIER, "extra_words", '"ltd"'),
        ("brightwater-joinery.co", OWN_UK, "other_ending", ".co instead of .co.uk"),
        ("brightwater-joinery-uk.com", OWN_UK, "extra_words", '"uk"'),
        ("xn--brightwater-jinery-p4o.co.uk", OWN_UK, "lookalike_letters", "Cyrillic"),
        ("fenwick-acountancy.co.uk", "fenwick-accountancy.co.uk", "typo", "leaves out"),
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
        "notify.dhl.de",
        "xn--kln-sna.de",  # köln.de, a correspondent
        "k\u00f6ln.de",
        "xn--bckerei-schmidt-0kb.de",  # bäckerei-schmidt.de: an international name, one script
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
        "yahoo-gardens.com",  # a brand's name with a word that is no service word
        "sparkasse-hannover.de",  # regional savings banks
        "dhl.okta.com",  # a customer's sub-domain at a sign-in service
        "paypay.ne.jp",  # a Japanese firm: no typo across a country's own registry
        "mail.paypay.ne.jp",
        "paypai.co.jp",  # not even one that reads alike, when the brand has no domain in that country
        "amazonpay.co.jp",  # a brand's other name (amazonpay.com) under a country's ending
        "sharepointonline.com",  # Microsoft's own
        "mail.hellosign.com",  # Dropbox Sign
        "meta.stackexchange.com",  # an ordinary word as anyone's sub-domain
        "zoom.northfield-college.ac.uk",
        "visa.globetrek-travel.co.uk",
        "dhl.kestrel-logistics.com",  # a three-letter name as a customer's sub-domain
        "paypal-fans.blog-host.example",  # the brand with words that are no service words
        OWN_UK,
        "mail." + OWN_UK,
        SUPPLIER,
        "fenwick-accountancy.co.uk",
        "gmial.com",  # too short for a typing slip to mean anything
        "kestrel.com",
        "gnu.org",
        "192.0.2.1",
        "localhost",
    ],
)
def test_innocent_domains_are_quiet(domain):
    assert KNOWN.check(domain) is None, KNOWN.check(domain)


def test_typos_of_brands_tell_letters_that_read_alike():
    assert KNOWN.check("googie.com").slip == "similar"  # i for l reads the same
    assert KNOWN.check("revolt.com").slip == "omission"  # another firm's real name as often as not
    assert KNOWN.check("discard.com").slip == "replacement"


def test_links_leave_out_the_tricks_with_innocent_readings():
    assert KNOWN.check("oakridge-supplies.com", for_link=True) is None  # their .com web site
    assert KNOWN.check("oakridge-supplies-ltd.co.uk", for_link=True) is None
    assert KNOWN.check("netflix.shop", for_link=True) is None  # a brand's shop under a new ending
    assert KNOWN.check("oakridge-suppIies.co.uk", for_link=True).how == "lookalike_letters"
    assert KNOWN.check("paypal.secure-login.top", for_link=True).how == "brand_subdomain"
    assert KNOWN.check("royalmail.redelivery-fee.top", for_link=True).how == "brand_subdomain"
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
        ("HMRC - Tax Refund", "HMRC"),
        ("Barclays Business Service", "Barclays"),
        ("Apple Support", "Apple"),  # an alias of its own
        ("Chase Fraud Alert", "Chase"),  # an ordinary word with a word about your account
        ("Visa Secure", "Visa"),
        ("Ledger Wallet", "Ledger"),
        ("Windows Security", "Microsoft"),
        ("Hermes Parcel Tracking", "Evri"),  # a courier's word for a courier
        ("Halifax Online Banking", "Halifax"),
        ("ING Bank", "ING"),
        ("D P D Zustellung", "DPD"),  # spelled out
        ("La Poste - Votre colis", "La Poste"),
        ("Kaspersky\u2122", "Kaspersky"),
        ("Coinb\u0430se", "Coinbase"),  # Cyrillic а
        ("\u13de\u0435dg\u0435r", "Ledger"),  # an ordinary word, but written to fool: Cherokee Ꮮ, Cyrillic е
        ("iCloud", "Apple"),
        ("WellsFargo", "Wells Fargo"),
        ("Dropbox Sign", "Dropbox"),
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
        "Chase Support",  # support, team, office, ltd: what kind of firm, not which one
        "Visa",
        "Visa Services",  # a travel agent's visa desk
        "Square Support",
        "Express Windows Ltd",
        "Ledger Accounts Team",  # a bookkeeper
        "Citi Centre",
        "Zoom Delivery",
        "Halifax Office",
        "Norton Accounts",
        "Meta Team",
        "Hermes Delivery",
        "Sony Team",
        "AAA Accounts Team",
        "ING",
        "Ing. Jan Novak",
        "David Norton",
        "Your Bank",
        "PayPay",
        "Helen Ward (via Google Drive)",
        "Oakridge Accounts",
        "Stadt K\u00f6ln Ordnungsamt",
        "\u0410\u043d\u043d\u0430 \u0421\u043c\u0438\u0440\u043d\u043e\u0432\u0430",
        "\u738b\u4f1f",
        "Walmart Customer Care - You Won - Claim Now Today",
    ],
)
def test_ordinary_names_are_no_brand(name):
    assert brand_in_name(name) is None, name


def test_disguised_brand_names_are_marked_and_shown_as_written():
    claim = brand_in_name("\u13de\u0435dg\u0435r")
    assert claim.disguised
    assert claim.words == "\u13de\u0435dg\u0435r"  # what the reader sees, not an internal form
    assert brand_in_name("Pay\u200bPal").disguised
    assert brand_in_name("Pay\u200bPal").words == "PayPal"
    assert not brand_in_name("PayPal").disguised
    assert brand_in_name("D P D Zustellung").words == "D P D"
    assert brand_in_name("Soci\u00e9t\u00e9 G\u00e9n\u00e9rale").words == "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"


def test_brand_mentions():
    assert lookalike.mentions_brand("Royal Mail", "Pay the Royal Mail fee")
    assert lookalike.mentions_brand("Revolut", "Your revolut card")
    assert not lookalike.mentions_brand("Revolut", "Join the revolution")
    assert not lookalike.mentions_brand("Apple", "An apple a day")  # ordinary words do not count


# --- sender.lookalike_domain -----------------------------------------------------------------------------
def test_capital_i_for_small_l_is_named():
    f = one(check(build(from_="PayPal <service@paypaI.com>")), "sender.lookalike_domain")
    assert f.severity == "high"
    assert f.title == "paypaI.com is made to look like paypal.com"
    assert "service@paypaI.com" in f.explanation and "PayPal" in f.explanation
    assert "capital I in place of a small l" in f.explanation
    assert "anyone can buy" in f.explanation
    assert f.evidence["From"] == "PayPal <service@paypaI.com>"
    assert f.evidence["Looks like"] == "paypal.com"


def test_punycode_domain_is_shown_both_ways():
    f = one(check(build(from_="Amazon <security@xn--mazon-3ve.de>")), "sender.lookalike_domain")
    assert f.severity == "high"
    assert f.evidence["Domain"] == "\u0430mazon.de"
    assert f.evidence["Domain (punycode)"] == "xn--mazon-3ve.de"
    assert "xn--mazon-3ve.de" in f.explanation
    assert "Cyrillic" in f.explanation


def test_raw_utf8_homoglyph_of_own_domain():
    mail = raw(
        [
            ("From", "Brightwater Accounts <accounts@brightwater-j\u043einery.co.uk>"),
            ("To", f"dana@{OWN_UK}"),
            ("Subject", "Invoice"),
            ("Message-ID", "<a1@example.net>"),
        ]
    )
    f = one(check(mail, context(own_domains=(OWN_UK,))), "sender.lookalike_domain")
    assert f.severity == "high"
    assert "your own domain" in f.explanation


def test_other_ending_of_a_supplier_is_medium_with_innocent_reading():
    result = check(build(from_="Gareth <gareth@oakridge-supplies.com>"), ctx_with_supplier())
    f = one(result, "sender.lookalike_domain")
    assert f.severity == "medium"
    assert "people you write to" in f.explanation
    assert "more than one ending" in f.explanation
    assert "anyone can buy" not in f.explanation  # it may well be theirs


def test_own_domain_with_added_word_is_high():
    ctx = context(own_domains=("harbour-test-example.com",))
    f = one(check(build(from_="Mark <mark@harbour-test-example-uk.com>"), ctx), "sender.lookalike_domain")
    assert f.severity == "high"
    assert '"uk"' in f.explanation


def test_reply_to_lookalike_of_own_domain():
    ctx = context(own_domains=(OWN_UK,))
    mail = build(from_="Anna <anna@weber-bau.example>", headers=[("Reply-To", "dana@brightwater-joinery.co")])
    f = one(check(mail, ctx), "sender.lookalike_domain")
    assert "Reply-To" in f.explanation and "your answer would go there" in f.explanation
    assert f.evidence["Reply-To"] == "dana@brightwater-joinery.co"


@pytest.mark.parametrize(
    "from_",
    [
        "PayPal <service@mail.paypal.co.uk>",
        "DHL Express <notifications@notify.dhl.de>",
        "B\u00e4ckerei Schmidt <info@xn--bckerei-schmidt-0kb.de>",
        "Stadt K\u00f6ln <ordnungsamt@xn--kln-sna.de>",
        "Apple Valley Bakery <orders@applevalleybakery.com>",
        "Gareth <gareth@oakridge-supplies.co.uk>",
        "Tom <tom.baker@gmail.com>",
        "Sophie <sophie@hotmail.co.uk>",
    ],
)
def test_real_senders_are_no_lookalikes(from_):
    assert not findings(check(build(from_=from_), ctx_with_supplier()), "sender.lookalike_domain")


# Firms whose real name is close to a brand's, and brands' real sister domains.
@pytest.mark.parametrize(
    ("from_", "subject"),
    [
        ("PayPay <info@mail.paypay.ne.jp>", "\u3054\u5229\u7528\u660e\u7d30"),
        ("Revolt Studio <hello@revolt.com>", "Our spring collection"),
        ("Discard Records <news@discard.com>", "New releases"),
        ("ZoomInfo <news@zoominfo.com>", "Your weekly contacts"),
        ("Zoom Info Desk <desk@zoom-info.com>", "Opening hours"),
        ("VisaHQ <orders@visahq.com>", "Your visa application"),
        ("AppleCare Team <care@applecare.com>", "Your plan"),
        ("SharePoint Online <no-reply@sharepointonline.com>", "A folder was shared with you"),
        ("Dropbox Sign <noreply@mail.hellosign.com>", "Please sign the agreement"),
        ("Express Windows Ltd <sales@expresswindows-ltd.co.uk>", "Your quote"),
        ("Ledger Accounts Team <team@ledgeraccounts.co.uk>", "Your VAT return"),
        ("Visa Services <visas@globetrek-travel.co.uk>", "Your visa for India"),
        ("Meta Team <hello@meta-design-studio.com>", "Project update"),
        ("The UPS Store 4471 <store4471@theupsstore.com>", "A parcel is in your mailbox"),
        ("Netflix Tech Blog <blog@netflix-tech-blog.com>", "New post about Netflix encoding"),
    ],
)
def test_look_alike_but_innocent_senders_are_quiet(from_, subject):
    assert mine(check(build(from_=from_, subject=subject))) == [], from_


def test_typo_of_a_brand_counts_when_the_mail_claims_the_brand():
    f = one(check(build(from_="Revolut Security <alerts@revolutt.com>")), "sender.lookalike_domain")
    assert f.severity == "high"
    assert "revolut.com" in f.title
    result = check(build(from_="Card Team <alerts@revolutt.com>", subject="Your Revolut card is blocked"))
    assert one(result, "sender.lookalike_domain").severity == "medium"  # named in the subject only
    assert mine(check(build(from_="Card Team <alerts@revolutt.com>", subject="Hello"))) == []


def test_typo_with_letters_that_read_alike_counts_without_a_claim():
    f = one(check(build(from_="Team <team@googie.com>")), "sender.lookalike_domain")
    assert f.severity == "medium"
    assert "small i in place of a small l" in f.explanation


def test_no_typo_across_a_country_registry_even_with_a_claim_of_other_words():
    assert mine(check(build(from_="PayPay Card <card@paypay-card.co.jp>"))) == []


def test_brand_name_in_front_of_a_domain_of_service_words():
    f = one(check(build(from_="DHL Express <noreply@dhl.parcel-notice.top>")), "sender.lookalike_domain")
    assert f.severity == "high"  # the name claims DHL too
    assert f.title == "dhl.parcel-notice.top is made to look like dhl.com"
    assert "The real domain is parcel-notice.top" in f.explanation
    assert "The name also says it is DHL" in f.explanation
    assert f.evidence["Trick"] == "brand subdomain"
    result = check(build(from_="UPS <notify@ups.delivery-notice.com>"))
    assert mine(result) == [("sender.lookalike_domain", "high")]  # reported once, not also as a brand name
    f = one(check(build(from_="Notice <noreply@paypal.secure-login.top>")), "sender.lookalike_domain")
    assert f.severity == "medium"


def test_brand_in_front_signed_by_the_brand_or_sent_by_a_mail_service():
    ar = auth(domain="paypal.mailer-example.net", dkim_domain="paypal.com")
    mail = build(from_="PayPal <news@paypal.mailer-example.net>", headers=[("Authentication-Results", ar)])
    assert mine(check(mail)) == []
    ar = auth(domain="paypal.mailer-example.net", dkim_domain="sendgrid.net", mailfrom="bounces.sendgrid.net")
    mail = build(from_="PayPal <news@paypal.mailer-example.net>", headers=[("Authentication-Results", ar)])
    f = one(check(mail), "sender.lookalike_domain")
    assert f.severity == "low"
    assert "mail service" in f.explanation
    # The same address with nothing confirmed: the old "any sub-domain is a mail service" excuse is gone.
    f = one(check(build(from_="PayPal <news@paypal.mailer-example.net>")), "sender.lookalike_domain")
    assert f.severity == "high"


# --- sender.brand_impersonation ------------------------------------------------------------------------------
def test_brand_name_from_a_foreign_domain():
    f = one(check(build(from_="PayPal Service <support@k7pq2zx9.example>")), "sender.brand_impersonation")
    assert f.severity == "medium"
    assert f.title == "The name says PayPal, but the mail is not from PayPal"
    assert '"PayPal Service"' in f.explanation and "support@k7pq2zx9.example" in f.explanation
    assert "paypal.com" in f.explanation
    assert f.evidence["Brand"] == "PayPal"
    assert f.evidence["Matched words"] == "PayPal Service"


def test_matched_words_are_shown_as_written():
    f = one(check(build(from_="Windows Security Team <alerts@k7pq2zx9.example>")), "sender.brand_impersonation")
    assert f.evidence["Matched words"] == "Windows"


def test_brand_name_from_webmail_is_high_even_if_you_write_to_webmail_users():
    result = check(build(from_="Microsoft Security Team <info@gmail.com>"), ctx_with_supplier())
    f = one(result, "sender.brand_impersonation")
    assert f.severity == "high"
    assert "free webmail" in f.explanation


def test_disguised_brand_name_is_high():
    f = one(check(build(from_="Coinb\u0430se <alerts@d.coursemail.example>")), "sender.brand_impersonation")
    assert f.severity == "high"
    assert "look-alike or hidden letters" in f.explanation
    assert f.evidence["Matched words"] == "Coinb\u0430se"


def test_brand_name_without_any_address():
    mail = raw([("From", '"FedEx Sendung" <>'), ("To", f"o@{OWN}"), ("Subject", "Paket"), ("Message-ID", "<x@y>")])
    f = one(check(mail), "sender.brand_impersonation")
    assert f.severity == "high"
    assert "no real sender address" in f.explanation


@pytest.mark.parametrize(
    ("from_", "headers"),
    [
        # the brand's own domain, sent through a mail service (Return-Path elsewhere)
        ("DHL Express <notifications@notify.dhl.de>", [("Return-Path", "<0102018921af@eu-west-1.amazonses.com>")]),
        ("Microsoft 365 <notifications@account.microsoft.com>", []),
        ("HM Revenue & Customs <no-reply@notify.hmrc.gov.uk>", []),
        ("Apple Valley Bakery <orders@applevalleybakery.com>", []),
        ("Chase Miller <chase.miller@example.com>", []),
        ("Helen Ward (via Google Drive) <drive-shares-noreply@google.com>", []),
        # its name in another country, confirmed by your provider
        ("Amazon Pay <no-reply@amazonpay.in>", [("Authentication-Results", auth(domain="amazonpay.in"))]),
        # a mail server's virus notice signed with its product name
        ("McAfee Email Gateway <postmaster@mail.example.net>", [("Return-Path", "<>")]),
        ("Norton AntiVirus Gateway <av@mail.example.net>", [("Auto-Submitted", "auto-generated")]),
    ],
)
def test_genuine_brand_mail_and_ordinary_names_are_quiet(from_, headers):
    assert not findings(check(build(from_=from_, headers=headers)), "sender.brand_impersonation")


def test_brand_name_in_another_country_needs_confirmation():
    f = one(check(build(from_="Mercado Pago <no-reply@mercadopago.bo>")), "sender.brand_impersonation")
    assert f.severity == "medium"
    ar = auth(spf="fail", dkim="none", dmarc="fail", domain="mercadopago.bo")
    mail = build(from_="Mercado Pago <no-reply@mercadopago.bo>", headers=[("Authentication-Results", ar)])
    assert findings(check(mail), "sender.brand_impersonation")


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


def test_brand_name_in_front_of_another_domain_is_medium_unless_a_mail_service_sent_it():
    mail = build(from_="Discover Card <newsflash@discover.mailer-example.net>")
    f = one(check(mail), "sender.brand_impersonation")
    assert f.severity == "medium"
    assert "in front of a domain that is not theirs" in f.explanation
    ar = auth(domain="discover.mailer-example.net", dkim_domain="mcsv.net", mailfrom="bounce.mcsv.net")
    mail = build(from_="Discover Card <newsflash@discover.mailer-example.net>",
                 headers=[("Authentication-Results", ar)])
    f = one(check(mail), "sender.brand_impersonation")
    assert f.severity == "low"
    assert "mail service" in f.explanation


def test_brand_word_among_other_words_counts_only_when_the_mail_names_the_brand():
    assert KNOWN.brand_in_host("netflix-tech-blog.com") is None  # no service word beside it
    match = KNOWN.brand_in_host("dpd-delivery-slot.top")
    assert match is not None and match.how == "brand_words" and match.brand == "DPD"
    assert mine(check(build(from_="Delivery <info@dpd-delivery-slot.top>", subject="Hello"))) == []
    result = check(build(from_="Delivery <info@dpd-delivery-slot.top>", subject="Your DPD parcel"))
    f = one(result, "sender.lookalike_domain")
    assert f.severity == "medium"
    assert 'adds "delivery", "slot" to the name dpd' in f.explanation


def test_an_ordinary_brand_word_counts_when_the_address_names_it_too():
    assert brand_in_name("Zoom") is None
    assert brand_in_name("Zoom", "zoom.meeting-invite.top").brand.name == "Zoom"
    f = one(check(build(from_="Zoom <no-reply@zoom.meeting-invite.top>")), "sender.lookalike_domain")
    assert f.severity == "high"


def test_a_mail_service_does_not_excuse_a_name_made_of_service_words():
    ar = auth(domain="dhl.parcel-notice-center.com", dkim_domain="sendgrid.net", mailfrom="bounces.sendgrid.net",
              dmarc="none")
    mail = build(from_="DHL Express <noreply@dhl.parcel-notice-center.com>", headers=[("Authentication-Results", ar)])
    assert one(check(mail), "sender.lookalike_domain").severity == "high"

