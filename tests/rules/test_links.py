"""Link rules: a link that shows one site and opens another, bare IP addresses, look-alike domains and
password forms are found; newsletters with click counters, safe-link rewriters and a router's address
in a technical mail stay quiet."""

import pytest

from klezguard.core import links
from klezguard.core.parse import from_bytes
from tests.mailfactory import auth, build, check, context

PAGE = "<html><body><p>Hello,</p>{}<p>Regards</p></body></html>"


def html_mail(anchor_html, from_="Service <service@notices.example.net>", **kw):
    return build(from_=from_, body="Hello,\n\nsee the HTML part.\n", html=PAGE.format(anchor_html), **kw)


def findings(result, rule):
    return [f for f in result.findings if f.rule == rule]


def one(result, rule):
    found = findings(result, rule)
    assert len(found) == 1, [(f.rule, f.title) for f in result.findings]
    return found[0]


# --- extraction ---------------------------------------------------------------------------------------
def test_scan_finds_anchors_forms_refresh_and_plain_addresses():
    html = (
        '<meta http-equiv="refresh" content="0; url=https://refresh.example.net/x">'
        '<a href="https://one.example.com/a?x=1&amp;y=2"><b>Visit</b> our&nbsp;shop</a>'
        "<A HREF='//two.example.org/'>www.two.example.org</A>"
        '<a href="mailto:someone@example.com">someone@example.com</a>'
        '<form action="https://collect.example.net/p" method="post"><input type="text" name="u">'
        '<input type = "password" name="p"></form>'
        "<!-- <a href='http://hidden.example.net/'>comment</a> -->"
        '<a href="https://unclosed.example.com/">no end'
    )
    msg = from_bytes(build(body="Plain: see https://plain.example.com/path, or www.www-only.example.com.", html=html))
    scan = links.scan(msg)
    got = {(link.kind, link.host, link.text) for link in scan.links}
    assert ("a", "one.example.com", "Visit our shop") in got
    assert ("a", "two.example.org", "www.two.example.org") in got
    assert ("meta", "refresh.example.net", "") in got
    assert ("form", "collect.example.net", "") in got
    assert ("text", "plain.example.com", "https://plain.example.com/path") in got
    assert ("text", "www.www-only.example.com", "www.www-only.example.com") in got
    assert ("a", "unclosed.example.com", "no end") in got
    assert not any(link.host == "hidden.example.net" for link in scan.links)
    assert any(link.url == "https://one.example.com/a?x=1&y=2" for link in scan.links)
    assert scan.password_fields == 1
    assert scan.password_forms == ["https://collect.example.net/p"]


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://www.paypal.com/signin", "www.paypal.com"),
        ("www.paypal.com", "www.paypal.com"),
        ("paypal.com", "paypal.com"),
        ("HTTP://PayPal.com", "paypal.com"),
        ("Read more", ""),
        ("Click here to sign in", ""),
        ("invoice.zip", ""),  # a file name, not a site
        ("rfnoc_image_core.sv", ""),
        ("someone@example.com", ""),
        ("version 1.2", ""),
        ("1.2.3.4", ""),
    ],
)
def test_shown_host(text, host):
    assert links.shown_host(text) == host


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("93.184.216.34", "93.184.216.34"),
        ("1572395042", "93.184.216.34"),  # one decimal number
        ("0x5db8d822", "93.184.216.34"),  # hex
        ("0135.0270.0330.042", "93.184.216.34"),  # octal
        ("93.12113954", "93.184.216.34"),  # short form
        ("[2001:db8::1]", "2001:db8::1"),
        ("example.com", None),
        ("1.2.3.4.5", None),
        ("999.1.1.1", None),
        ("4chan.org", None),
    ],
)
def test_ip_forms_browsers_accept(host, ip):
    found = links.ip_of(host)
    assert (str(found) if found else None) == ip


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.google.com/url?q=https://shop.example.com/x&sa=D", "shop.example.com"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Flive.conf.example%2F%3Ffbclid%3Dx", "live.conf.example"),
        ("https://urldefense.proofpoint.com/v2/url?u=https-3A__files.kstl.example_manual&d=x", "files.kstl.example"),
        ("https://urldefense.com/v3/__https:/kb.kestrel.example/page__;Iw!!abc", "kb.kestrel.example"),
        ("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.bank.example%2F&data=1",
         "www.bank.example"),
        ("https://url.za.m.mimecastprotect.com/s/H9mfC?domain=github.com", "github.com"),
    ],
)
def test_destinations_inside_redirects(url, host):
    assert host in links.embedded_hosts(url)


# --- link.text_mismatch -----------------------------------------------------------------------------------------
def test_link_text_shows_a_bank_but_opens_another_site():
    mail = html_mail('<a href="http://evil.example.top/x">https://www.paypal.com/signin</a>')
    f = one(check(mail), "link.text_mismatch")
    assert f.severity == "high"
    assert f.title == "A link shows www.paypal.com but opens evil.example.top"
    assert "https://www.paypal.com/signin" in f.explanation and "http://evil.example.top/x" in f.explanation
    assert f.evidence == {
        "Shown text": "https://www.paypal.com/signin",
        "Real target": "http://evil.example.top/x",
        "Links like this": 1,
    }


def test_unknown_site_shown_over_another_is_medium_and_counted():
    mail = html_mail(
        '<a href="https://trust-unlock.top/a">https://walletcheck-demo.com/accounts</a>'
        '<a href="https://trust-unlock.top/b">walletcheck-demo.com</a>'
    )
    f = one(check(mail), "link.text_mismatch")
    assert f.severity == "medium"
    assert f.evidence["Links like this"] == 2
    assert "2 links like this" in f.explanation


def test_redirect_to_another_site_than_shown_is_caught():
    mail = html_mail('<a href="https://www.google.com/url?q=https://evil.example.top/login">www.paypal.com</a>')
    f = one(check(mail), "link.text_mismatch")
    assert "evil.example.top" in f.title
    assert "passes through www.google.com" in f.explanation


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="https://click.shop.example.co.uk/ls/click?upn=abc">Shop now</a>',  # a call to action
        '<a href="https://shop.us5.list-manage.com/track/click?u=1&id=2">www.partner.example.com</a>',
        '<a href="https://u123.ct.sendgrid.net/ls/click?upn=xyz">https://www.partner.example.com/</a>',
        # ActiveCampaign, Klaviyo and Zoho Campaigns click counters
        '<a href="https://shop.lt.acemlnb.com/Prod/link-tracker?redirectUrl=aHR0cHM&a=65">www.shop.example.co.uk</a>',
        '<a href="https://trk.klclick3.com/ls/click?upn=abc">https://www.shop.example.co.uk/</a>',
        '<a href="https://zc.maillist-manage.eu/click/1a2b3c">www.shop.example.co.uk</a>',
        '<a href="https://www.google.com/url?q=https://www.partner.example.com/&sa=D">www.partner.example.com</a>',
        '<a href="https://urldefense.com/v3/__https:/kb.partner.example.com/x__;!!a">https://kb.partner.example.com/x</a>',
        '<a href="https://www.paypal.co.uk/signin">www.paypal.com</a>',  # one brand, two countries
        '<a href="https://www.shop.example.co.uk/">shop.example.co.uk</a>',
        '<a href="https://shop.example.co.uk/">www.shop.example.co.uk</a>',
        '<a href="https://files.example.net/dl/42">invoice.zip</a>',
        '<a href="mailto:info@shop.example.co.uk">www.shop.example.co.uk</a>',
    ],
)
def test_newsletters_and_safe_rewriters_are_quiet(anchor):
    mail = html_mail(anchor, from_="Shop <news@shop.example.co.uk>")
    assert not findings(check(mail), "link.text_mismatch")


def test_sender_showing_its_own_site_through_another_counter_is_quiet():
    mail = html_mail('<a href="https://links.shopmail.example.net/c/abc">www.shop.example.co.uk</a>',
                     from_="Shop <news@shop.example.co.uk>")
    assert not findings(check(mail), "link.text_mismatch")


def test_sender_showing_its_own_site_is_caught_when_the_provider_rejects_the_from():
    ar = auth(spf="fail", dkim="fail", dmarc="fail", domain="shop.example.co.uk")
    mail = html_mail('<a href="https://evil.example.top/c/abc">www.shop.example.co.uk</a>',
                     from_="Shop <news@shop.example.co.uk>", headers=[("Authentication-Results", ar)])
    assert findings(check(mail, context()), "link.text_mismatch")


def test_sender_counting_clicks_on_its_own_domain_is_quiet():
    ar = auth(domain="shop.example.co.uk")
    mail = html_mail('<a href="https://click.shop.example.co.uk/r/abc">www.partner.example.com</a>',
                     from_="Shop <news@shop.example.co.uk>", headers=[("Authentication-Results", ar)])
    assert not findings(check(mail), "link.text_mismatch")


# --- link.ip_address ------------------------------------------------------------------------------------------
def test_hidden_ip_link_is_medium():
    f = one(check(html_mail('<a href="http://93.184.216.34/login">Sign in</a>')), "link.ip_address")
    assert f.severity == "medium"
    assert f.title == "A link goes to the bare address 93.184.216.34"
    assert '"Sign in"' in f.explanation
    assert f.evidence["Real target"] == "http://93.184.216.34/login"


def test_disguised_number_form_is_high():
    f = one(check(html_mail('<a href="http://1572395042/x">Track parcel</a>')), "link.ip_address")
    assert f.severity == "high"
    assert "93.184.216.34" in f.title
    assert "rare form" in f.explanation


def test_ip_written_out_in_plain_text_is_low():
    f = one(check(build(body="The test page is at http://93.184.216.34:8080/status\n")), "link.ip_address")
    assert f.severity == "low"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("Open http://192.168.1.1/ to set up the router.\n", []),
        ("Use http://10.10.0.100 for the device.\n", []),
        ("Try http://127.0.0.1:8000/\n", []),
        ("Ours is on http://93.184.216.34:8080/ now.\n", [("List-Id", "<dev.lists.example.org>")]),
    ],
)
def test_private_addresses_and_list_discussions_are_quiet(body, headers):
    assert not findings(check(build(body=body, headers=headers)), "link.ip_address")


# --- link.lookalike_domain ------------------------------------------------------------------------------------------
def test_link_to_brand_lookalike():
    mail = html_mail('<a href="https://paypaI.com/login">Log in to your account</a>',
                     from_="Service <service@notices.example.net>")
    f = one(check(mail), "link.lookalike_domain")
    assert f.severity == "high"
    assert f.title == "A link goes to paypaI.com, made to look like paypal.com"
    assert "capital I" in f.explanation
    assert f.evidence["Shown text"] == "Log in to your account"
    assert f.evidence["Real target"] == "https://paypaI.com/login"


def test_link_to_lookalike_of_own_domain_in_punycode():
    ctx = context(own_domains=("brightwater-joinery.co.uk",))
    mail = build(body="Log in: https://xn--brightwter-joinery-xwo.co.uk/webmail\n")
    f = one(check(mail, ctx), "link.lookalike_domain")
    assert f.evidence["Domain (punycode)"] == "xn--brightwter-joinery-xwo.co.uk"
    assert "your own domain" in f.explanation


@pytest.mark.parametrize(
    ("from_", "body"),
    [
        ("PayPal <service@paypal.com>", "See https://www.paypal-offers.com/summer\n"),  # a brand's own campaign
        ("Anna <anna@weber-bau.example>", "Our site: https://www.paypal.com/ and https://www.dhl.de/\n"),
        ("Gareth <gareth@kestrel.example>", "Our stand: https://dhl.kestrel-logistics.com/\n"),  # a customer's host
        ("Revolt Studio <hello@revolt.com>", "Shop at https://revolt.com/new\n"),
        ("Ana <ana@example.org>", "See https://zoominfo.com/c/acme and https://www.hellosign.com/\n"),
        ("Ana <ana@example.org>", "Docs: https://paypay.ne.jp/help/\n"),
        ("Bakery <hi@applevalleybakery.com>", "Order at https://applevalleybakery.com/\n"),
        ("Lookalike <x@paypa1.com>", "Pay at https://paypa1.com/pay\n"),  # the sender's domain: sender rules
    ],
)
def test_links_to_real_or_own_sites_are_quiet(from_, body):
    assert not findings(check(build(from_=from_, body=body)), "link.lookalike_domain")


# --- link.password_form ---------------------------------------------------------------------------------------
def test_password_form_in_the_mail():
    mail = html_mail(
        '<form action="https://collect.example.top/p.php" method="post">'
        '<input type="email" name="e"><input type="password" name="p"><button>Sign in</button></form>'
    )
    f = one(check(mail), "link.password_form")
    assert f.severity == "high"
    assert "https://collect.example.top/p.php" in f.explanation
    assert f.evidence == {"Password fields": 1, "Form sends to": "https://collect.example.top/p.php"}


def test_search_form_is_quiet():
    mail = html_mail('<form action="https://shop.example.com/search"><input type="text" name="q"></form>')
    assert not findings(check(mail), "link.password_form")


def test_full_and_partial_view_agree_on_long_bodies():
    filler = "<p>" + "x" * 1000 + "</p>"
    html = PAGE.format(filler * 300 + '<a href="http://evil.example.top/">www.paypal.com</a>')
    result = check(build(body="see HTML\n", html=html))  # check() asserts the two views agree
    assert not findings(result, "link.text_mismatch")  # the link lies beyond what the scanner fetches


def test_site_name_before_an_at_sign_is_caught():
    mail = build(body="Confirm here: https://www.paypal.com@evil.example.top/confirm\n")
    f = one(check(mail), "link.text_mismatch")
    assert f.severity == "high"
    assert "www.paypal.com" in f.title and "evil.example.top" in f.title
    assert "user name" in f.explanation


def test_user_name_in_a_link_is_quiet_when_it_is_no_site():
    mail = build(body="Clone it: https://anna@git.example.com/repo.git\n")
    assert not findings(check(mail), "link.text_mismatch")


# --- newsletters through a click counter nobody listed --------------------------------------------------------
NEWS_AUTH = auth(dkim_domain="esp-unknown.example", mailfrom="bounce.esp-unknown.example", dmarc="none",
                 domain="shop.example.co.uk")
NEWS_LINK = '<a href="https://t.esp-unknown.example/c/8Hq2x">www.shop.example.co.uk</a>'


def test_newsletter_showing_its_own_site_through_an_unknown_counter_is_low():
    mail = html_mail(NEWS_LINK, from_="Shop <news@shop.example.co.uk>",
                     headers=[("Authentication-Results", NEWS_AUTH),
                              ("List-Unsubscribe", "<https://t.esp-unknown.example/unsub/1>")])
    f = one(check(mail), "link.text_mismatch")
    assert f.severity == "low"
    assert "newsletter that shows its own site, www.shop.example.co.uk" in f.explanation
    assert "type it into your browser" in f.advice


def test_the_same_link_without_newsletter_signs_stays_medium():
    mail = html_mail(NEWS_LINK, from_="Shop <news@shop.example.co.uk>",
                     headers=[("Authentication-Results", NEWS_AUTH)])
    assert one(check(mail), "link.text_mismatch").severity == "medium"


def test_a_newsletter_showing_a_known_brand_over_another_site_stays_high():
    mail = html_mail('<a href="https://t.esp-unknown.example/c/8Hq2x">www.paypal.com</a>',
                     from_="Shop <news@shop.example.co.uk>",
                     headers=[("Authentication-Results", NEWS_AUTH),
                              ("List-Unsubscribe", "<https://t.esp-unknown.example/unsub/1>")])
    assert one(check(mail), "link.text_mismatch").severity == "high"


def test_a_newsletter_whose_link_carries_another_site_is_not_excused():
    link = '<a href="https://t.esp-unknown.example/c?u=https%3A%2F%2Fevil.example.top%2Flogin">www.shop.example.co.uk</a>'
    mail = html_mail(link, from_="Shop <news@shop.example.co.uk>",
                     headers=[("Authentication-Results", NEWS_AUTH),
                              ("List-Unsubscribe", "<https://t.esp-unknown.example/unsub/1>")])
    f = one(check(mail), "link.text_mismatch")
    assert f.severity == "medium"
    assert "evil.example.top" in f.title


# --- brand names put in front of other domains, in links ----------------------------------------------------------
def test_link_with_a_brand_in_front_of_another_domain_is_medium():
    mail = html_mail('<a href="https://royalmail.redelivery-fee.top/rebook">Re-book delivery</a>',
                     from_="Parcel Team <notice@parcel-update.example>")
    f = one(check(mail), "link.lookalike_domain")
    assert f.severity == "medium"
    assert f.title == "A link goes to royalmail.redelivery-fee.top, made to look like royalmail.com"
    assert "The real domain is redelivery-fee.top" in f.explanation
    assert f.evidence["Trick"] == "brand subdomain"


def test_link_with_a_brand_in_front_is_high_when_the_mail_claims_the_brand():
    mail = html_mail('<a href="https://royalmail.redelivery-fee.top/rebook">Pay the Royal Mail fee</a>',
                     from_="Parcel Team <notice@parcel-update.example>")
    f = one(check(mail), "link.lookalike_domain")
    assert f.severity == "high"
    assert "says it is from Royal Mail" in f.explanation
    mail = build(from_="PayPal <service@k7pq2zx9.example>",
                 body="Confirm your details: https://paypal.secure-login.top/confirm\n")
    assert one(check(mail), "link.lookalike_domain").severity == "high"


def test_address_shared_openly_in_a_list_discussion_is_low():
    mail = build(from_="Kim <kim@uni.example.edu>", headers=[("List-Id", "<users.lists.example.org>")],
                 body="The talks are streamed at https://youtube.streaming-fans.example/live today.\n")
    f = one(check(mail), "link.lookalike_domain")
    assert f.severity == "low"
    assert "mailing list" in f.explanation


def test_typo_link_counts_only_when_the_mail_names_the_brand():
    quiet = build(from_="Ana <ana@example.org>", body="New shop: https://revolutt.com/shop\n")
    assert not findings(check(quiet), "link.lookalike_domain")
    named = build(from_="Ana <ana@example.org>", subject="Your Revolut card",
                  body="Unlock it at https://revolutt.com/unlock\n")
    assert one(check(named), "link.lookalike_domain").severity == "medium"
    mail = html_mail('<a href="https://revolutt.com/unlock">Unlock your Revolut card</a>')
    assert one(check(mail), "link.lookalike_domain").severity == "high"


def test_link_with_a_brand_among_other_words_counts_only_when_named():
    quiet = html_mail('<a href="https://netflix-account-hold.top/">View your account</a>')
    assert not findings(check(quiet), "link.lookalike_domain")
    shown = html_mail('<a href="https://netflix-account-hold.top/">https://netflix-account-hold.top/</a>')
    assert not findings(check(shown), "link.lookalike_domain")  # the address itself names nothing
    named = html_mail('<a href="https://netflix-account-hold.top/">View your Netflix account</a>')
    f = one(check(named), "link.lookalike_domain")
    assert f.severity == "medium"
    assert 'adds "account", "hold" to the name netflix' in f.explanation



# --- issue 11: a bare address is weighed by what the mail wants there ------------------------------------
def test_an_old_newsletter_linking_to_a_bare_address_is_a_small_sign():
    mail = html_mail('<p>This week in the shop: <a href="http://93.184.216.34/specials/index.html">see the '
                     "specials</a></p>")
    assert one(check(mail), "link.ip_address").severity == "low"


def test_a_bare_address_written_out_to_verify_a_mailbox_is_a_warning():
    mail = build(subject="Mailbox quota exceeded",
                 body="Your mailbox is full. Verify your account within 24 hours at http://93.184.216.34/owa/ or it "
                      "will be closed.\n")
    found = one(check(mail), "link.ip_address")
    assert found.severity == "medium" and "sign in" in found.explanation
