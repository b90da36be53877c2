"""Authentication-Results and other provider headers count only where the user's provider wrote them."""

from klezguard.core import authresults
from klezguard.core.parse import from_bytes

TRUSTED = frozenset({"mx1.provider-test.example"})

DELIVERY = (
    "Received",
    "from mx1.provider-test.example by imap.provider-test.example with LMTP; Mon, 2 Nov 2026 10:00:02 +0000",
)
ENTRY = (
    "Received",
    "from mail.sender.example (mail.sender.example [203.0.113.9]) by mx1.provider-test.example "
    "with ESMTPS id 1; Mon, 2 Nov 2026 10:00:01 +0000",
)
SENDER_HOP = (
    "Received",
    "from [10.0.0.5] by mail.sender.example with ESMTPSA id 2; Mon, 2 Nov 2026 10:00:00 +0000",
)
BODY_HEADERS = [
    ("From", "Anna <anna@sender.example>"),
    ("To", "owner@harbour-test.example"),
    ("Subject", "Hi"),
    ("Message-ID", "<1@sender.example>"),
]


def raw(headers, body="Hi\n"):
    """A message with exactly these headers, top to bottom."""
    lines = [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def msg(headers):
    return from_bytes(raw(headers))


# --- parse_header -----------------------------------------------------------------------------------


def test_parse_header_reads_id_methods_and_domains():
    authserv, results = authresults.parse_header(
        " mx.google.com; dkim=pass header.i=@example.com header.s=s1 header.b=abc;"
        " spf=pass (google.com: domain of a@example.com designates 192.0.2.1 as permitted sender)"
        " smtp.mailfrom=a@example.com; dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=example.com"
    )
    assert authserv == "mx.google.com"
    assert [(r.method, r.result, r.domain) for r in results] == [
        ("dkim", "pass", "example.com"),
        ("spf", "pass", "example.com"),
        ("dmarc", "fail", "example.com"),
    ]
    dmarc = results[2]
    assert dmarc.policy == "reject"
    assert dmarc.disposition == "quarantine"
    assert "p=REJECT" in dmarc.comment


def test_parse_header_microsoft_without_authserv_id():
    authserv, results = authresults.parse_header(
        "spf=none (sender IP is 203.0.113.7) smtp.mailfrom=bulk.example; dkim=none (message not signed)"
        " header.d=none;dmarc=fail action=oreject header.from=bank.example;compauth=fail reason=000"
    )
    assert authserv == ""
    by_method = {r.method: r for r in results}
    assert by_method["dmarc"].policy == "reject"
    assert by_method["dkim"].domain == ""  # header.d=none is no domain
    assert by_method["compauth"].result == "fail"
    assert by_method["compauth"].props["reason"] == "000"


def test_parse_header_semicolon_in_comment_and_quotes():
    _, results = authresults.parse_header(
        "mx.example; spf=pass (a; b) smtp.mailfrom=x@ok.example;"
        ' dkim=fail ("body hash; did not verify") header.d=ok.example'
    )
    assert [(r.method, r.result) for r in results] == [("spf", "pass"), ("dkim", "fail")]


def test_legacy_smtp_mail_key_names_the_domain():
    _, results = authresults.parse_header("mx.google.com; spf=pass smtp.mail=someone@somewhere.example")
    assert results[0].domain == "somewhere.example"


# --- read: whom to trust ------------------------------------------------------------------------------


def test_trusted_header_above_entry_counts():
    m = msg(
        [
            DELIVERY,
            ("Authentication-Results", "mx1.provider-test.example; spf=pass smtp.mailfrom=sender.example; dkim=none"),
            ENTRY,
            *BODY_HEADERS,
        ]
    )
    ar = authresults.read(m, TRUSTED)
    assert ar.found and ar.authserv_id == "mx1.provider-test.example"
    assert ar.aligned_pass("sender.example")
    assert ar.aligned_pass("mail.sender.example")  # relaxed alignment: same organisation
    assert not ar.aligned_pass("other.example")


def test_forged_trusted_header_below_entry_is_ignored():
    forged = "mx1.provider-test.example; dmarc=pass header.from=bank.example; dkim=pass header.d=bank.example"
    m = msg(
        [
            DELIVERY,
            ("Authentication-Results", "mx1.provider-test.example; spf=fail smtp.mailfrom=bank.example; dmarc=fail"),
            ENTRY,
            ("Authentication-Results", forged),
            SENDER_HOP,
            ("From", "Bank <alerts@bank.example>"),
        ]
    )
    ar = authresults.read(m, TRUSTED)
    assert ar.found
    assert ar.dmarc == "fail"
    assert not ar.aligned_pass("bank.example")
    assert forged in ar.ignored


def test_only_forged_header_means_nothing_found():
    m = msg(
        [
            DELIVERY,
            ENTRY,
            ("Authentication-Results", "mx1.provider-test.example; dmarc=pass header.from=bank.example"),
            ("From", "Bank <alerts@bank.example>"),
        ]
    )
    ar = authresults.read(m, TRUSTED)
    assert not ar.found
    assert len(ar.ignored) == 1


def test_untrusted_authserv_is_ignored():
    m = msg([DELIVERY, ("Authentication-Results", "mx.elsewhere.example; dmarc=pass"), ENTRY, *BODY_HEADERS])
    assert not authresults.read(m, TRUSTED).found


def test_without_configuration_the_topmost_provider_counts():
    m = msg(
        [
            DELIVERY,
            ("Authentication-Results", "mx1.provider-test.example; dkim=pass header.d=sender.example"),
            ENTRY,
            ("Authentication-Results", "mx9.sender.example; dmarc=pass header.from=bank.example"),
            *BODY_HEADERS,
        ]
    )
    ar = authresults.read(m, frozenset())
    assert ar.found and ar.passed("dkim") == ["sender.example"]
    assert len(ar.ignored) == 1


def test_microsoft_hosts_are_one_provider():
    m = msg(
        [
            (
                "Received",
                "from AB1PR01MB1.eurprd01.prod.outlook.com (2603:10a6::1) by CD2PR01MB2.eurprd01.prod.outlook.com"
                " with HTTPS; Mon, 2 Nov 2026 10:00:03 +0000",
            ),
            (
                "Received",
                "from EF3EUR01FT001.eop-eur01.prod.protection.outlook.com (2603:10a6::2) by"
                " AB1PR01MB1.outlook.office365.com with SMTP; Mon, 2 Nov 2026 10:00:02 +0000",
            ),
            (
                "Authentication-Results",
                "spf=fail (sender IP is 203.0.113.7) smtp.mailfrom=bank.example;"
                " dmarc=fail action=oreject header.from=bank.example;compauth=fail reason=000",
            ),
            (
                "Received",
                "from bank.example (203.0.113.7) by EF3EUR01FT001.mail.protection.outlook.com"
                " with SMTP; Mon, 2 Nov 2026 10:00:01 +0000",
            ),
            ("From", "Bank <alerts@bank.example>"),
            ("X-MS-Exchange-Organization-SCL", "9"),
            ("X-Forefront-Antispam-Report", "CIP:203.0.113.7;CAT:PHSH;SFTY:9.19;SCL:9"),
        ]
    )
    provider, end = authresults.provider_zone(m)
    assert provider == "outlook.com" and end == 4
    ar = authresults.read(m, frozenset())
    assert ar.found and ar.dmarc == "fail" and ar.dmarc_policy == "reject"
    # Microsoft strips or renames these headers on mail from outside, so they count below the entry too.
    assert authresults.provider_values(m, "x-ms-exchange-organization-scl") == ["9"]
    assert authresults.provider_written(m, 6)


def test_provider_written_follows_the_entry_line():
    m = msg(
        [
            DELIVERY,
            ("X-Spam-Status", "Yes, score=9.1 required=5.0"),
            ENTRY,
            ("X-Spam-Status", "No, score=-5 required=5.0"),
            SENDER_HOP,
            *BODY_HEADERS,
        ]
    )
    assert authresults.provider_written(m, 1, TRUSTED)
    assert authresults.provider_written(m, 2, TRUSTED)  # the entry line itself
    assert not authresults.provider_written(m, 3, TRUSTED)
    assert authresults.provider_values(m, "x-spam-status", TRUSTED) == ["Yes, score=9.1 required=5.0"]
    assert authresults.came_from_outside(m, TRUSTED)


def test_mail_that_stayed_inside_did_not_come_from_outside():
    m = msg(
        [
            DELIVERY,
            (
                "Received",
                "from smtp.provider-test.example (smtp.provider-test.example [198.51.100.25]) by "
                "mx1.provider-test.example; Mon, 2 Nov 2026 10:00:01 +0000",
            ),
            (
                "Received",
                "from [10.0.0.36] by smtp.provider-test.example (Authenticated sender: lucy@own.example);"
                " Mon, 2 Nov 2026 10:00:00 +0000",
            ),
            *BODY_HEADERS,
        ]
    )
    assert not authresults.came_from_outside(m, TRUSTED)
    assert authresults.provider_zone(m, TRUSTED) == ("provider-test.example", 3)


def test_no_received_lines_no_zone():
    m = msg([("Authentication-Results", "mx1.provider-test.example; dmarc=pass"), *BODY_HEADERS])
    assert authresults.provider_zone(m) == ("", 0)
    assert not authresults.provider_written(m, 0)
    # Configured ids and no Received line at all (a local copy): the configured header is taken.
    assert authresults.read(m, TRUSTED).found
    assert not authresults.read(m, frozenset()).found


def test_results_are_cached_per_trusted_ids():
    m = msg([DELIVERY, ("Authentication-Results", "mx1.provider-test.example; dmarc=pass"), ENTRY, *BODY_HEADERS])
    assert authresults.read(m, TRUSTED) is authresults.read(m, TRUSTED)
    assert authresults.read(m, TRUSTED) is not authresults.read(m, frozenset())


def test_name_key_compares_full_personal_names_only():
    from klezguard.core.correspondents import name_key

    assert name_key("Ivan Marsh") == name_key("MARSH, Ivan") == name_key(" ivan  marsh ")
    assert name_key("J\u00fcrgen Vogt") == name_key("j\u00fcrgen vogt")
    assert name_key("Clara") == ""
    assert name_key("Customer Service") == name_key("Accounts Team") == ""
    assert name_key("anna@weber-bau.example") == ""


# --- arc_origin: what the first forwarder found ------------------------------------------------------


def forwarded_msg(provider_ar, *aar):
    return msg(
        [
            DELIVERY,
            ("Authentication-Results", provider_ar),
            ENTRY,
            *[("ARC-Authentication-Results", v) for v in aar],
            *BODY_HEADERS,
        ]
    )


def origin(m):
    return [(r.method, r.result, r.domain) for r in authresults.arc_origin(m, authresults.read(m, TRUSTED))]


def test_arc_origin_reads_the_sealed_record_of_the_first_hop():
    m = forwarded_msg(
        "mx1.provider-test.example; dmarc=fail header.from=sender.example; arc=pass (i=2)",
        "i=2; mx.second.example; spf=pass smtp.mailfrom=second.example; dmarc=fail header.from=sender.example",
        "i=1; mx.first.example 1; spf=pass smtp.mailfrom=sender.example;\r\n dkim=pass header.d=sender.example;"
        " dmarc=pass action=none header.from=sender.example; arc=none",
    )
    assert origin(m) == [
        ("spf", "pass", "sender.example"),
        ("dkim", "pass", "sender.example"),
        ("dmarc", "pass", "sender.example"),
    ]


def test_arc_origin_falls_back_to_the_providers_summary():
    gmail_style = (
        "mx1.provider-test.example; arc=pass (i=1 spf=pass spfdomain=sender.example dkim=pass"
        " dkdomain=sender.example dmarc=pass fromdomain=sender.example); dmarc=fail header.from=sender.example"
    )
    assert origin(forwarded_msg(gmail_style)) == [
        ("spf", "pass", "sender.example"),
        ("dkim", "pass", "sender.example"),
        ("dmarc", "pass", "sender.example"),
    ]
    short = "mx1.provider-test.example; arc=pass (i=1 spf=pass dkim=pass dmarc=pass)"
    assert [r[:2] for r in origin(forwarded_msg(short))] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass")]
    # Microsoft's coded summary says nothing we can read: no record rather than a wrong one.
    ms = (
        "mx1.provider-test.example; arc=pass (0 oda=1 ltdi=1 spf=[1,1,smtp.mailfrom=a.example]"
        " dmarc=[1,1,header.from=a.example])"
    )
    assert origin(forwarded_msg(ms)) == []


def test_arc_origin_is_empty_unless_the_provider_confirmed_the_chain():
    aar = "i=1; mx.first.example; dmarc=pass header.from=sender.example"
    for provider_ar in (
        "mx1.provider-test.example; arc=fail (i=1 dmarc=pass); dmarc=fail header.from=sender.example",
        "mx1.provider-test.example; arc=none; dmarc=fail header.from=sender.example",
        "mx1.provider-test.example; dmarc=fail header.from=sender.example",
    ):
        assert origin(forwarded_msg(provider_ar, aar)) == []
    # An arc=pass that the sender wrote below the entry line counts for nothing either.
    m = msg(
        [
            DELIVERY,
            ENTRY,
            ("Authentication-Results", "mx1.provider-test.example; arc=pass"),
            ("ARC-Authentication-Results", aar),
            *BODY_HEADERS,
        ]
    )
    assert origin(m) == []


# --- sent_from_computer: straight from a home or office line -------------------------------------------


def arrived(entry_text):
    return msg([DELIVERY, ("Received", entry_text), *BODY_HEADERS])


def computer(entry_text):
    return authresults.sent_from_computer(arrived(entry_text), TRUSTED)


BY = "by mx1.provider-test.example (Postfix) with ESMTP id 1; Mon, 2 Nov 2026 10:00:01 +0000"


def test_worm_style_hops_are_recognised():
    # A bare word as greeting (what Klez and spam programs send) ...
    assert computer(f"from WIN-BC729635FF1 (ip177-225-214.pool.example.es [177.225.214.75]) {BY}")
    assert computer(f"from User (unknown [198.51.100.7]) {BY}")
    # ... an address as greeting with no name behind it ...
    assert computer(f"from [198.51.100.7] (unknown [198.51.100.7]) {BY}")
    # ... or a borrowed server name from an ISP's pool of home lines.
    found = computer(f"from bank.example (ppp-117-96.dialup.isp.example.eg [117.96.174.36]) {BY}")
    assert found == "bank.example (ppp-117-96.dialup.isp.example.eg [117.96.174.36])"
    # Exim writes the greeting apart.
    assert computer(f"from dsl-186-6-115.dynamic.isp.example.br ([186.6.115.221] helo=User) {BY}")


def test_mail_servers_and_logged_in_users_are_not_computers():
    # A named server (a web host, a firm's own server, a big provider).
    assert not computer(f"from cpanel12.webhost.example (cpanel12.webhost.example [203.0.113.45]) {BY}")
    assert not computer(f"from mail.firm.example (unknown [203.0.113.46]) {BY}")
    assert not computer(f"from mail-wr1-f44.google.com (mail-wr1-f44.google.com. [209.85.221.44]) {BY}")
    # A firm's server on a line whose name is made from its address, greeting with the line's own name.
    assert not computer(f"from static-203-0-113-9.isp.example (static-203-0-113-9.isp.example [203.0.113.9]) {BY}")
    # Yahoo's and qmail's way of writing the greeting.
    assert not computer(
        "from 127.0.0.1 (EHLO news.shop.example) (74.206.28.55) by mta1007.mail.provider-test.example with SMTP;"
        " Mon, 2 Nov 2026 10:00:01 +0000"
    )
    # A person's mail program logging in to send (their provider's submission server).
    assert not computer(
        "from [192.168.1.20] (dsl-5-6-7-8.dyn.isp.example [5.6.7.8]) by mx1.provider-test.example"
        " with ESMTPSA id 2; Mon, 2 Nov 2026 10:00:01 +0000"
    )
    # Inside a network.
    assert not computer(f"from User (unknown [10.1.2.3]) {BY}")
