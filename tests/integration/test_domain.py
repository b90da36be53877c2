"""The domain check against a real DNS server (dnsmasq on 127.0.0.1): each test zone gets the right verdict
and steps; a slow server still answers, a dead one, SERVFAIL and NXDOMAIN give a clear message; the
`klezguard domain` command's output and exit status."""

import json
import subprocess
import sys
import time

import pytest

from klezguard.application.domain import DAY, DomainMemory, check_domain, check_due, own_domains
from klezguard.core.domainadvice import FREEMAIL, PROTECTED, UNCHECKED, WEAK, detect_provider
from klezguard.core.domaincheck import DomainUnreadable, parse_nameserver, valid_domain
from klezguard.mail.accounts import Account, ServerSettings
from tests.integration import dnsserver


def check(server, domain, **kw):
    return check_domain(domain, server.address, timeout=1.0, lifetime=2.0, **kw)


def steps_text(verdict):
    return " ".join(s.text for s in verdict.steps)


def record(verdict, where):
    return next(s.record for s in verdict.steps if s.where == where and s.record)


def test_no_spf_and_no_dmarc_is_weak_with_records_to_add(dns_server):
    v = check(dns_server, "nospf.test", report_to="anna@nospf.test")
    assert v.outcome == WEAK
    assert v.headline.startswith("Anyone can send mail that looks like it comes from nospf.test")
    assert any("no SPF record" in p for p in v.problems)
    assert any("no DMARC record" in p for p in v.problems)
    assert record(v, "nospf.test") == "v=spf1 mx ~all"  # a provider we don't know: its own mail servers
    assert record(v, "_dmarc.nospf.test") == "v=DMARC1; p=quarantine; rua=mailto:anna@nospf.test"
    assert "Add this SPF record" in steps_text(v) and "Add this DMARC record" in steps_text(v)


def test_spf_over_ten_lookups_is_weak(dns_server):
    v = check(dns_server, "toomany.test")
    assert v.outcome == WEAK
    assert v.facts["spf"]["lookups"] == 11
    assert any("11 look-ups, but the limit is 10" in p for p in v.problems)
    assert "Take services you no longer use out of the SPF record" in steps_text(v)


def test_plus_all_is_weak_even_with_dmarc_reject(dns_server):
    v = check(dns_server, "plusall.test")
    assert v.outcome == WEAK
    assert v.facts["spf"]["all"] == "pass"
    assert any("+all" in p and "every server in the world" in p for p in v.problems)
    assert record(v, "plusall.test") == "v=spf1 mx ~all"
    assert "Replace the SPF record" in steps_text(v)


def test_dmarc_p_none_is_weak_and_the_fix_keeps_the_report_address(dns_server):
    v = check(dns_server, "pnone.test")
    assert v.outcome == WEAK
    assert v.provider == "IONOS"
    assert any("p=none" in p and "still deliver" in p for p in v.problems)
    assert record(v, "_dmarc.pnone.test") == "v=DMARC1; p=quarantine; rua=mailto:reports@pnone.test"
    assert "change p=quarantine to p=reject" in steps_text(v)
    assert any("DKIM keys found: s1-ionos" in n for n in v.notes)


def test_reject_with_strict_alignment_on_microsoft_365_is_protected(dns_server):
    v = check(dns_server, "reject.test")
    assert v.outcome == PROTECTED, v.problems
    assert v.headline == "Mail servers can spot fakes from reject.test and turn them away."
    assert v.provider == "Microsoft 365"
    assert v.problems == [] and v.steps == []
    assert v.facts["dmarc"]["adkim"] == "s" and v.facts["dmarc"]["aspf"] == "s"
    assert any("strict" in n for n in v.notes)
    assert any("selector1, selector2" in n for n in v.notes)
    assert any("dmarc@reject.test" in n for n in v.notes)


def test_a_sub_domain_is_covered_by_its_parents_dmarc(dns_server):
    v = check(dns_server, "shop.reject.test")
    assert v.outcome == PROTECTED
    assert v.facts["dmarc"]["location"] == "reject.test"
    assert any("The DMARC record of reject.test covers this name too" in n for n in v.notes)


def test_google_workspace_with_quarantine_is_protected(dns_server):
    v = check(dns_server, "gsuite.test")
    assert v.outcome == PROTECTED
    assert v.provider == "Google Workspace"


def test_broken_records_are_weak_and_say_the_mistake(dns_server):
    v = check(dns_server, "broken.test")
    assert v.outcome == WEAK
    assert any("SPF record has a mistake" in p and "192.0.2.300" in p for p in v.problems)
    assert any("DMARC record has a mistake" in p and "rejct" in p for p in v.problems)
    assert "Replace the SPF record" in steps_text(v) and "Replace the DMARC record" in steps_text(v)


def test_a_domain_with_no_mx_and_no_records_is_told_how_to_lock_it(dns_server):
    v = check(dns_server, "nomx.test")
    assert v.outcome == WEAK
    assert any("takes no mail" in n for n in v.notes)
    assert record(v, "nomx.test") == "v=spf1 -all"
    assert record(v, "_dmarc.nomx.test") == "v=DMARC1; p=reject"
    assert not any("DKIM" in n for n in v.notes)


def test_a_locked_parked_domain_is_protected(dns_server):
    assert check(dns_server, "parked.test").outcome == PROTECTED


def test_a_missing_microsoft_dkim_key_makes_it_weak_with_the_portal_steps(dns_server):
    """reject.test's keys looked up under names Microsoft does not use: as if DKIM were off there."""
    from klezguard.core import domainadvice
    from klezguard.core.domaincheck import make_resolver, read_domain

    facts = read_domain("reject.test", make_resolver(dns_server.address, 1, 2))
    facts.dkim = [domainadvice.read_dkim(make_resolver(dns_server.address, 1, 2), "reject.test", "nope")]
    v = domainadvice.judge(facts)
    assert v.outcome == WEAK
    assert v.headline == "Most fakes from reject.test are turned away, but one part is missing."
    assert "Microsoft Defender portal" in steps_text(v)


def test_selectors_seen_in_mail_are_looked_up(dns_server):
    v = check(dns_server, "nospf.test", selectors=["k1"])
    assert [d["selector"] for d in v.facts["dkim"]][0] == "k1"


def test_nxdomain_is_a_clear_message(dns_server):
    v = check(dns_server, "missing.test")
    assert v.outcome == UNCHECKED and v.reason == "nxdomain"
    assert v.problems == ["This domain does not exist. Check how it is spelled."]


def test_a_slow_server_still_gets_an_answer(dns_server):
    relay = dnsserver.SlowRelay(dns_server.port, delay=0.15)
    try:
        v = check_domain("reject.test", relay.address, timeout=1.0, lifetime=2.0)
    finally:
        relay.stop()
    assert v.outcome == PROTECTED


def test_a_server_too_slow_for_the_timeout_cannot_be_checked(dns_server):
    relay = dnsserver.SlowRelay(dns_server.port, delay=1.5)
    started = time.monotonic()
    try:
        v = check_domain("reject.test", relay.address, timeout=0.4, lifetime=0.8)
    finally:
        relay.stop()
    assert v.outcome == UNCHECKED and v.reason == "timeout"
    assert "did not answer in time" in v.problems[0]
    assert time.monotonic() - started < 3


def test_a_dead_server_cannot_be_checked_and_says_so():
    hole = dnsserver.BlackHole()
    try:
        v = check_domain("reject.test", hole.address, timeout=0.3, lifetime=0.6)
    finally:
        hole.stop()
    assert v.outcome == UNCHECKED and v.reason == "timeout"
    assert v.headline == "We could not check reject.test."
    assert "try again later" in v.problems[0]


def test_a_port_nobody_listens_on_cannot_be_checked():
    v = check_domain("reject.test", f"127.0.0.1:{dnsserver.free_port()}", timeout=0.3, lifetime=0.6)
    assert v.outcome == UNCHECKED and v.reason == "timeout"


def test_servfail_is_a_clear_message():
    server = dnsserver.BlackHole(servfail=True)
    try:
        v = check_domain("reject.test", server.address, timeout=0.5, lifetime=1.0)
    finally:
        server.stop()
    assert v.outcome == UNCHECKED and v.reason == "servfail"
    assert "had a problem" in v.problems[0]


def test_free_mail_gets_the_short_answer_without_any_lookup():
    v = check_domain("anna@gmail.com", "127.0.0.1:9")  # nothing listens: it must not ask
    assert v.outcome == FREEMAIL
    assert v.headline == "gmail.com is not yours to fix."
    assert "two-step sign-in" in steps_text(v)


def test_bad_input_is_told_apart():
    with pytest.raises(DomainUnreadable):
        valid_domain("not a domain")
    assert valid_domain("Anna@Weber-Bau.DE.") == "weber-bau.de"
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:53") == ("::1", 53)
    with pytest.raises(ValueError):
        parse_nameserver("ns.example:53")
    assert check_domain("not a domain", "127.0.0.1:9").reason == "invalid"


def test_provider_detection_from_mx_and_spf():
    assert detect_provider(["weberbau-de.mail.protection.outlook.com"], []).name == "Microsoft 365"
    assert detect_provider(["smtpin.rzone.de"], []).name == "Strato"
    assert detect_provider(["mx1.mail.ovh.net"], []).name == "OVHcloud"
    assert detect_provider(["mail.example.net"], ["_spf.google.com"]).name == "Google Workspace"
    assert detect_provider(["mail.example.net"], ["spf.example.net"]) is None


def test_own_domains_and_the_daily_memory(dns_server):
    accounts = [Account(email=e, server=ServerSettings(host="imap.example")) for e in
                ("anna@reject.test", "bob@reject.test", "me@nospf.test")]
    domains = own_domains(accounts)
    assert domains == [("reject.test", "anna@reject.test"), ("nospf.test", "me@nospf.test")]
    memory = DomainMemory()
    done = check_due(domains, memory, dns_server.address)
    assert [v.domain for v in done] == ["reject.test", "nospf.test"]
    assert DomainMemory().last("reject.test").outcome == PROTECTED  # kept on disk
    assert check_due(domains, memory, dns_server.address) == []  # not again the same day
    tomorrow = time.time() + DAY + 1
    assert [v.domain for v in check_due(domains, memory, dns_server.address, now=tomorrow)] == \
        ["reject.test", "nospf.test"]


def test_a_failed_check_does_not_wipe_out_the_last_answer(dns_server):
    memory = DomainMemory()
    memory.remember(check(dns_server, "reject.test"))
    memory.remember(check_domain("reject.test", f"127.0.0.1:{dnsserver.free_port()}", timeout=0.2, lifetime=0.3))
    assert memory.last("reject.test").outcome == PROTECTED


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "klezguard", "domain", *args], capture_output=True, text=True,
                          timeout=60)


def test_cli_exit_0_when_protected(dns_server):
    proc = run_cli("reject.test", "--nameserver", dns_server.address)
    assert proc.returncode == 0, proc.stderr
    assert "Mail servers can spot fakes from reject.test" in proc.stdout


def test_cli_exit_1_when_weak_with_the_records_to_add(dns_server):
    proc = run_cli("nospf.test", "--nameserver", dns_server.address)
    assert proc.returncode == 1, proc.stderr
    assert "What to do:" in proc.stdout
    assert "_dmarc.nospf.test  TXT  v=DMARC1; p=quarantine" in proc.stdout


def test_cli_json(dns_server):
    proc = run_cli("plusall.test", "--json", "--nameserver", dns_server.address)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["outcome"] == "weak" and data["facts"]["spf"]["all"] == "pass"
    assert {"domain", "outcome", "headline", "problems", "notes", "steps", "provider"} <= set(data)


def test_cli_exit_2_when_it_cannot_be_checked(dns_server):
    proc = run_cli("missing.test", "--nameserver", dns_server.address)
    assert proc.returncode == 2
    assert "could not check missing.test: This domain does not exist" in proc.stderr
    hole = dnsserver.BlackHole()
    try:
        proc = run_cli("reject.test", "--nameserver", hole.address, "--timeout", "0.3")
    finally:
        hole.stop()
    assert proc.returncode == 2
    assert "did not answer in time" in proc.stderr


def test_cli_bad_nameserver():
    proc = run_cli("reject.test", "--nameserver", "dns.example")
    assert proc.returncode == 2
    assert "--nameserver takes an IP address" in proc.stderr


def test_cli_without_a_domain_checks_each_accounts_domain(dns_server):
    from klezguard.mail.accounts import AccountStore

    AccountStore().save([Account(email=e, server=ServerSettings(host="imap.example"))
                         for e in ("anna@reject.test", "me@nospf.test")])
    proc = run_cli("--nameserver", dns_server.address)
    assert proc.returncode == 1, proc.stderr  # the worst of the two
    assert "Mail servers can spot fakes from reject.test" in proc.stdout
    assert "Anyone can send mail that looks like it comes from nospf.test" in proc.stdout
    assert "rua=mailto:me@nospf.test" in proc.stdout  # the reports go to the user's own address


def test_cli_without_a_domain_or_accounts():
    proc = run_cli()
    assert proc.returncode == 2
    assert "name a domain" in proc.stderr


def test_selectors_in_dkim_signatures():
    from klezguard.core.domaincheck import selectors_in

    signatures = ["v=1; a=rsa-sha256; d=nospf.test; s=mail2026; h=from:to; bh=x; b=y",
                  "v=1; a=rsa-sha256; d=mailer.nospf.test;\r\n\ts=sub1; bh=x; b=y",
                  "v=1; d=newsletter-tool.example; s=nl; b=y",  # a service signing for itself: not ours
                  "v=1; d=NOSPF.test; s=MAIL2026; b=y"]
    assert selectors_in(signatures, "nospf.test") == ["mail2026", "sub1"]


def test_selectors_seen_in_the_stored_mail_are_looked_up(dns_server, tmp_path):
    """A colleague's mail in the inbox shows the selector the provider signs with: its key is found."""
    from klezguard.application.domain import check_own_domain, selectors_seen
    from klezguard.application.service import local_service
    from klezguard.mail.local import LocalSource
    from klezguard.store.db import Store
    from tests.mailfactory import build

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(build(
        from_="Bob <bob@nospf.test>", to="Me <me@nospf.test>", subject="Lunch",
        headers=[("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=nospf.test; s=mail2026; h=from; "
                  "bh=abc=; b=def=")]))
    (inbox / "2.eml").write_bytes(build(subject="From elsewhere", headers=[
        ("DKIM-Signature", "v=1; d=weber-bau.example; s=other; bh=a; b=b")]))
    store = Store(tmp_path / "s.sqlite3")
    service = local_service(LocalSource("Local", [str(inbox)], [], ["nospf.test"], [], owner="me@nospf.test"), store)
    service.scan()
    assert selectors_seen(store, "nospf.test") == ["mail2026"]
    v = check_own_domain("nospf.test", store, dns_server.address)
    assert any("DKIM keys found: mail2026" in n for n in v.notes)
    assert check_own_domain("nospf.test", None, dns_server.address).notes != v.notes


def test_spf_redirect_takes_the_targets_all_and_pct_under_100_is_weak(dns_server):
    v = check(dns_server, "redirect.test")
    assert v.provider == "Strato"
    assert v.facts["spf"]["all"] == "fail" and v.facts["spf"]["lookups"] == 2  # redirect + the a: inside it
    assert v.outcome == WEAK
    assert v.problems == ["DMARC covers only 50 of every 100 fakes (pct=50). The rest still get through."]
    assert record(v, "_dmarc.redirect.test") == "v=DMARC1; p=quarantine; rua=mailto:d@redirect.test"
    assert any("We found no DKIM key under the usual names" in n for n in v.notes)  # Strato's names vary: no alarm


def test_an_spf_include_that_never_answers_gives_no_verdict(dns_server):
    """Half an answer is no answer: a guessed look-up count could call a broken record fine."""
    v = check_domain("partial.test", dns_server.address, timeout=0.5, lifetime=1.0)
    assert v.outcome == UNCHECKED and v.reason == "timeout"
    assert "did not answer in time" in v.problems[0]


def test_odd_records_never_stop_the_check():
    """Hidden characters and parser slips become 'the record has a mistake', never a crash."""
    from klezguard.core.domainadvice import judge
    from klezguard.core.domaincheck import DomainFacts, Spf

    facts = DomainFacts(domain="odd.test", mx=["mx.odd.test"],
                        spf=Spf(record="v=spf1 ip4:192.0.2.1 \u202e -all", error="Expected mechanism at position 19"))
    v = judge(facts)
    assert v.outcome == WEAK and any("SPF record has a mistake" in p for p in v.problems)
    assert record(v, "odd.test") == "v=spf1 mx ~all"  # a broken record is not copied into the fix
