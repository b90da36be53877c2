"""Deceptive links: what the mail shows is not where it leads.

Phishing lives on links: a text that reads "https://www.paypal.com" over a link to another site, a
bare IP address instead of a name, a name one letter off a bank's, a sign-in form inside the mail.
Newsletters rewrite every link through a click counter, so a link going elsewhere than its text is
only flagged when the text itself is a web address, and never when the counter carries the shown
site inside the link or belongs to the sender. A newsletter that shows its own web site over an
unknown counter is only a small sign.
"""

import ipaddress
import re
from collections.abc import Iterator

from klezguard.core import authresults, links, lookalike
from klezguard.core.context import Context
from klezguard.core.domains import ascii_domain, org_domain, unicode_domain
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.lookalike import (
    match_evidence,
    match_facts,
    match_severity,
    mentioned_in,
    name_claim,
    text_names,
)
from klezguard.rules.registry import Hit, Rule, Severity, register

_ORDER: tuple[Severity, ...] = ("low", "medium", "high")
_MAX_SHOWN = 160


# Words of a sign-in or payment page in a link's text: "www.bank.example/login" claims more than an advert.
_SIGN_IN = re.compile(r"(?i)log[ -]?in|sign[ -]?in|logon|account|verif|secure|password|passwort|wachtwoord|haslo|"
                      r"hasło|konto|compte|cuenta|conta|bank|pay|wallet|auth")


# What a mail asks of the reader when it wants a password: sign in, verify, unlock, before the account closes.
_ASKS = re.compile(
    r"(?i)\b(?:verif|validat|confirm|re-?activat|unlock|suspend|expir|password|log ?in|sign ?in|mailbox|"
    r"quota|upgrade your|update your|your account|passwor|wachtwoord|senha|contrase|mot de passe|has[łl]o|"
    r"konto|compte|cuenta|conta\b|best[äa]tig|bevestig|weryfik|verifi)"
)


def _asks_to_sign_in(msg: Message) -> bool:
    return bool(_ASKS.search(msg.subject) or _ASKS.search(msg.body_text[:4000]) or
                _ASKS.search(links.visible_text(msg.body_html[:20000])))


def _short(text: str) -> str:
    text = visible(text)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _from_org(msg: Message) -> str:
    fa = msg.from_addr
    return org_domain(ascii_domain(fa.domain)) if fa else ""


def _same_owner(a: str, b: str) -> bool:
    """Same registrable domain, or two domains of one brand (paypal.com and paypal.co.uk)."""
    if not a or not b:
        return False
    if a == b:
        return True
    brands = lookalike.brand_orgs()
    return bool(set(brands.get(a, ())) & set(brands.get(b, ())))


def _is_known(org: str, ctx: Context) -> bool:
    return org in lookalike.brand_orgs() or ctx.is_own_domain(org) or org in lookalike.correspondent_orgs(ctx)


@register
class LinkTextMismatch(Rule):
    """The oldest phishing trick: the link shows one web address and opens another."""

    id = "link.text_mismatch"
    category = "link"
    severity = "medium"
    title = "A link shows {shown_host} but opens {target_host}"
    explanation = (
        'The mail shows the link "{shown}". But if you click it, it opens {target}, which belongs to '
        "{target_host}, not to {shown_host}."
    )
    advice = (
        "Do not click this link. If you need the site, type {shown_host} into your browser yourself."
    )
    notes = {
        "known": "{shown_host} is a site you know. Making a link look like it is how fake sign-in pages work.",
        "many": "The mail has {count} links like this.",
        "redirect": "The link passes through {via} on the way.",
        "userinfo": (
            "The part before the @ sign in the link is only a user name. Your browser opens what comes after it."
        ),
        "counter": (
            "The link goes through a click counter, as newsletters use to count readers. {shown_host} is no "
            "site KlezGuard knows, so this alone is a small sign."
        ),
        "newsletter": (
            "This looks like a newsletter that shows its own site, {shown_host}. Mail services often send "
            "links through a click counter like this, so this alone is a small sign."
        ),
    }
    advice_by_severity = {
        "low": "If you want to visit {shown_host}, it is safer to type it into your browser yourself.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        scan = links.scan(msg)
        if not scan.links:
            return
        from_org = _from_org(msg)
        auth = None
        found = []
        for link in scan.links:
            if not link.host:
                continue
            shown = links.userinfo_host(link.url) if "@" in link.url else ""
            if not shown:
                if link.kind not in ("a", "area"):
                    continue
                shown = links.shown_host(link.text)
                if not shown:
                    continue
            shown_org = org_domain(shown)
            target_org = org_domain(link.host.lower())
            if _same_owner(shown_org, target_org):
                continue
            embedded = links.embedded_hosts(link.url)
            real = link.host
            if embedded:
                if any(_same_owner(shown_org, org_domain(e)) for e in embedded):
                    continue  # a click counter that carries the shown site inside the link
                real = embedded[-1]
            elif links.is_redirector(link.host):
                continue  # a mail service's click counter: the target is in an opaque token
            known = _is_known(shown_org, ctx)
            rank = 2 if known else 1
            if not (known or embedded) and links.looks_like_click_counter(link.url) and not _SIGN_IN.search(link.text):
                rank = 0  # a site we know nothing of, through a click counter: an advert in a newsletter
            if not known and from_org and (shown_org == from_org or target_org == from_org):
                # The sender shows its own site, or counts clicks on its own domain: normal for a
                # newsletter, unless the provider says the From is not confirmed.
                if auth is None:
                    auth = authresults.read(msg, ctx.trusted_authserv)
                if not auth.found or auth.aligned_pass(from_org):
                    continue
                if shown_org == from_org and not embedded and msg.has("list-unsubscribe") and auth.dmarc != "fail":
                    rank = 0  # a newsletter showing its own site through a mail service we do not know
            found.append((rank, link, shown, real))
        if not found:
            return
        found.sort(key=lambda f: -f[0])
        rank, link, shown, real = found[0]
        known = rank == 2
        notes = ["known"] if known else []
        if rank == 0:
            notes.append("newsletter" if links.shown_host(link.text) and org_domain(shown) == from_org else "counter")
        if len(found) > 1:
            notes.append("many")
        if real != link.host:
            notes.append("redirect")
        if "@" in link.url and links.userinfo_host(link.url) == shown:
            notes.append("userinfo")
        yield Hit(
            facts={
                "shown": _short(link.text),
                "shown_host": visible(unicode_domain(shown)),
                "target": _short(link.url),
                "target_host": visible(unicode_domain(real.lower())),
                "count": str(len(found)),
                "via": visible(link.host),
            },
            evidence={
                "Shown text": _short(link.text),
                "Real target": _short(link.url),
                "Links like this": len(found),
            },
            notes=tuple(notes),
            severity=_ORDER[rank],
        )


@register
class LinkToIpAddress(Rule):
    """Real firms link to their names. A link to a bare number hides who runs the site, and the odd
    number forms (3405803785, 0xCB007109) exist only to fool the reader."""

    id = "link.ip_address"
    category = "link"
    severity = "medium"
    title = "A link goes to the bare address {ip}"
    explanation = (
        "A link in this mail opens {target}. That is a raw internet address, {ip}, with no name. "
        "Real firms link to their own names."
    )
    advice = "Do not click it. Do not enter a password or card number on a page it opens."
    notes = {
        "hidden": 'The link text shows "{shown}", so you would not see where it goes.',
        "disguised": "The number is written in a rare form that browsers still open, to hide it.",
        "shown": "The address is shown openly, so this may be a technical note. Still take care.",
        "asks": (
            "The mail asks you to sign in, check or unlock an account. Real firms never ask that on a bare address."
        ),
        "many": "The mail has {count} links like this.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        scan = links.scan(msg)
        if not scan.links:
            return
        found: list[tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address, links.Link, str]] = []
        asks: bool | None = None
        for link in scan.links:
            if not link.host:
                continue
            ip = links.ip_of(link.host)
            if ip is None or not ip.is_global:
                continue  # your router at 192.168.1.1 is not a web site of strangers
            if not links.is_plain_ip(link.host):
                rank, why = 2, "disguised"
            elif link.kind == "text" or link.host.lower() in link.text.lower():
                if msg.is_mailing_list:
                    continue  # an address written out in a technical discussion
                rank, why = 0, "shown"
            else:
                rank, why = 0, "hidden"
            if rank < 2:
                if asks is None:
                    asks = _asks_to_sign_in(msg)
                if asks or _SIGN_IN.search(link.text):
                    rank += 1  # a bare address is weighed by what the mail wants you to do there
            found.append((rank, ip, link, why))
        if not found:
            return
        found.sort(key=lambda f: -f[0])
        rank, ip, link, why = found[0]
        notes = [why]
        if asks:
            notes.append("asks")
        if len(found) > 1:
            notes.append("many")
        yield Hit(
            facts={
                "ip": str(ip),
                "target": _short(link.url),
                "shown": _short(link.text) or "(no text)",
                "count": str(len(found)),
            },
            evidence={
                "Shown text": _short(link.text) or "(no text)",
                "Real target": _short(link.url),
                "Address": str(ip),
                "Links like this": len(found),
            },
            notes=tuple(notes),
            severity=_ORDER[rank],
        )


@register
class LinkToLookalikeDomain(Rule):
    """A link to paypaI.com, to oakridge-suppIies.example or to paypal.secure-login.top leads to a copy
    of a site you trust."""

    id = "link.lookalike_domain"
    category = "link"
    severity = "high"
    title = "A link goes to {domain}, made to look like {target}"
    explanation = (
        "A link in this mail opens {url}. Its domain {domain} is not {target}{whose}. {how}"
    )
    advice = "Do not click it. If you need {target}, type it into your browser yourself."
    advice_by_severity = {
        "low": "Look at the address before you sign in or pay on a page it opens.",
    }
    notes = {
        "punycode": "Behind the scenes, the domain is written {ascii}.",
        "hidden": 'The link text shows "{shown}".',
        "extra_words": "Firms sometimes buy such names too. Check before you trust it.",
        "claimed": "The mail says it is from {brand}, to make you trust the link.",
        "discussion": (
            "The address is written out in a post to a mailing list, so it may just be a site someone "
            "shares. Still check it before you sign in there."
        ),
        "many": "The mail has {count} links to look-alike domains.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        scan = links.scan(msg)
        if not scan.links:
            return
        from_org = _from_org(msg)
        from_brands = set(lookalike.brand_orgs().get(from_org, ()))
        known = lookalike.for_context(ctx)
        seen: dict[str, lookalike.Match | None] = {}
        found = []
        discussion = msg.has("list-id") or msg.has("list-post")
        for link in scan.links:
            host = link.host
            if not host or host in seen or links.ip_of(host):
                continue
            if len(seen) > 100:
                break
            seen[host] = match = known.check(host, for_link=True) or known.brand_in_host(host)
            if match is None:
                continue
            if org_domain(match.ascii) == from_org:
                continue  # the sender's own domain: the sender rules judge it
            if match.brand and match.brand in from_brands:
                continue  # a brand linking to its own other names
            claimed = False
            if match.brand:
                claim = name_claim(msg)
                claimed = (claim is not None and claim.brand.name == match.brand) or (
                    link.kind in ("a", "area") and text_names(match.brand, link.text)
                )
            severity = match_severity(match, claimed, mentioned_in(msg, match.brand))
            if severity is None:
                continue
            notes = []
            openly = link.kind == "text" or host_lower(link.host) in link.text.lower()
            if match.how == "brand_subdomain" and not claimed and discussion and openly:
                severity = "low"  # an address someone shares in a list discussion (a conference's stream)
                notes.append("discussion")
            elif claimed and match.how in ("brand_subdomain", "typo"):
                notes.append("claimed")
            found.append((_ORDER.index(severity), match, link, notes))
        if not found:
            return
        found.sort(key=lambda f: -f[0])
        rank, match, link, notes = found[0]
        if match.ascii != match.unicode:
            notes.insert(0, "punycode")
        if link.text and link.kind in ("a", "area") and links.shown_host(link.text) != host_lower(link.host):
            notes.append("hidden")
        if match.how == "extra_words":
            notes.append("extra_words")
        if len(found) > 1:
            notes.append("many")
        facts = match_facts(match, ctx)
        facts.update({"url": _short(link.url), "shown": _short(link.text), "count": str(len(found))})
        evidence: dict[str, object] = {"Shown text": _short(link.text) or "(no text)", "Real target": _short(link.url)}
        evidence.update(match_evidence(match))
        evidence["Links like this"] = len(found)
        yield Hit(facts=facts, evidence=evidence, notes=tuple(notes), severity=_ORDER[rank])


def host_lower(host: str) -> str:
    return host.lower().rstrip(".")


@register
class PasswordForm(Rule):
    """A form inside the mail that asks for a password sends it to whoever wrote the mail. No real
    firm asks for a password this way."""

    id = "link.password_form"
    category = "link"
    severity = "high"
    title = "The mail has a form that asks for a password"
    explanation = (
        "This mail holds {count} password box(es) you can type into. What you type would be sent to "
        "{action}. Real firms never ask for a password inside a mail."
    )
    advice = "Do not type anything into it. If you worry about your account, open the firm's app or site yourself."

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        scan = links.scan(msg)
        if not scan.password_fields:
            return
        actions = [a for a in scan.password_forms if a] or [a for a in scan.forms if a]
        action = _short(actions[0]) if actions else "an address hidden in the mail"
        yield Hit(
            facts={"count": str(scan.password_fields), "action": action},
            evidence={"Password fields": scan.password_fields, "Form sends to": action},
        )
