"""Look-alike senders: a domain made to pass for one you know, and a name that claims a brand.

A fraudster cannot send from paypal.com or from your supplier's domain when those are protected, so
they register a name that reads the same (paypaI.com, oakridge-suppIies.example) or put the brand
into the display name, which is all many phones show. Both are checked against the domains the reader
knows: their own, the ones they write to, and a bundled list of often-impersonated brands.

How much a look-alike of a brand weighs depends on what the mail itself claims: a name one letter off
a brand (revolt.com, paypay.ne.jp) is most often another firm's real name, unless the mail also calls
itself that brand.
"""

import re
from collections.abc import Callable, Iterator

from klezguard.core import authresults, links, lookalike
from klezguard.core.context import Context
from klezguard.core.domains import ascii_domain, is_freemail, org_domain, unicode_domain
from klezguard.core.headers import Address
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, Severity, register


def _brand_orgs(name: str) -> frozenset[str]:
    return next((b.orgs for b in lookalike.brands() if b.name == name), frozenset())


def whose(target: lookalike.Known | None, ctx: Context) -> str:
    """', your own domain' / ', the domain of a firm you write to' / ', a domain PayPal uses'."""
    if target is None:
        return ""
    if target.kind == "own":
        return ", your own domain"
    if target.kind == "correspondent":
        return ", the domain of people you write to"
    return f", a domain {target.brand} uses"


def match_facts(match: lookalike.Match, ctx: Context) -> dict[str, str]:
    target = match.target
    return {
        "domain": visible(match.domain),
        "target": unicode_domain(target.domain) if target else "a name you know",
        "whose": whose(target, ctx),
        "how": match.detail,
        "ascii": match.ascii,
        "brand": match.brand,
    }


def match_evidence(match: lookalike.Match) -> dict[str, object]:
    evidence: dict[str, object] = {"Domain": visible(match.domain)}
    if match.ascii != match.unicode:
        evidence["Domain (punycode)"] = match.ascii
    if match.target is not None:
        evidence["Looks like"] = unicode_domain(match.target.domain)
        if match.target.kind == "brand":
            evidence["Brand"] = match.target.brand
    evidence["Trick"] = match.how.replace("_", " ")
    return evidence


def match_severity(match: lookalike.Match, claimed: bool = False,
                   mentioned: Callable[[], bool] = lambda: False) -> Severity | None:
    """How much a look-alike weighs, None when it is most likely an innocent name.

    Your own domain and the domains you write to: high for letters that read the same, typing slips and
    names put in front of another domain; medium where an innocent reading exists (another ending, an
    added word). A brand's domain: letters that read the same and a whole brand domain put in front of
    another are high. The other tricks depend on whether the mail calls itself that brand (`claimed`:
    the sender's name or the link's text names it; `mentioned`: the subject or text does):
    a typing slip is high when claimed, medium when mentioned or when the swapped letters read alike
    (googie), else nothing (revolt.com is a firm of its own); the brand's name in front of an unrelated
    domain is high when claimed, else medium; an added word or another ending is medium, but for brands
    that are ordinary words (zoominfo.com, visahq.com) only when claimed."""
    target = match.target
    if target is None:
        return "medium"  # mixed alphabets, like nothing known
    if target.kind != "brand":
        return "high" if match.strong or target.kind == "own" else "medium"
    how = match.how
    if how in ("lookalike_letters", "hyphen", "subdomain"):
        return "high"
    if how == "typo":
        if claimed:
            return "high"
        return "medium" if match.slip == "similar" or mentioned() else None
    if how == "brand_subdomain":
        return "high" if claimed else "medium"
    if how == "brand_words":
        return "medium" if claimed or mentioned() else None
    if target.weak and not claimed:
        return None
    return "medium"


def mail_service_sent(auth: authresults.AuthResults, org: str) -> bool:
    """True when the provider confirmed (SPF or DKIM pass) a listed mail service as the sender, and the
    address is no fraudster's kind of name: a name made of service words (parcel-notice-center.com) is not
    excused because a mail service carried it; fraudsters rent those services too."""
    if not auth.found or lookalike.service_word_domain(org):
        return False
    return any(org_domain(d) in lookalike.MAIL_SERVICES for d in (*auth.passed("dkim"), *auth.passed("spf")) if d)


def brand_signed(auth: authresults.AuthResults, brand_name: str) -> bool:
    """True when the provider found a valid DKIM signature of one of the brand's own domains."""
    orgs = {o for b in lookalike.brands() if b.name == brand_name for o in b.orgs}
    return any(org_domain(d) in orgs for d in auth.passed("dkim") if d)


def _raw_domain(addr: Address) -> str:
    """The domain as written, capitals kept: 'paypaI.com' must not become 'paypai.com'."""
    return addr.addr.rpartition("@")[2].strip().strip("<>[]").rstrip(".")


def _display_name(msg: Message) -> str:
    fa = msg.from_addr
    if fa is not None:
        return fa.name
    return msg.from_all[0].name if msg.from_all else ""


def name_claim(msg: Message) -> lookalike.BrandClaim | None:
    """The brand the sender's display name claims to be (computed once per message)."""
    if "_brand_claim" not in msg.__dict__:
        name = _display_name(msg)
        domain = ascii_domain(msg.from_addr.domain) if msg.from_addr is not None else ""
        msg.__dict__["_brand_claim"] = lookalike.brand_in_name(name, domain) if name and len(name) <= 120 else None
    claim: lookalike.BrandClaim | None = msg.__dict__["_brand_claim"]
    return claim


_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+", re.I)


def _readable_text(msg: Message) -> str:
    """The subject and text a reader sees, without web and mail addresses (computed once per message)."""
    if "_readable_text" not in msg.__dict__:
        parts = [msg.subject, msg.body_text[:20000]]
        if msg.body_html:
            parts.append(links.visible_text(msg.body_html[:60000]))
        msg.__dict__["_readable_text"] = _URL.sub(" ", "\n".join(parts))
    text: str = msg.__dict__["_readable_text"]
    return text


def text_names(brand: str, text: str) -> bool:
    """True when `text` names the brand in words (an address inside it does not count)."""
    return bool(brand) and lookalike.mentions_brand(brand, _URL.sub(" ", text))


def mentioned_in(msg: Message, brand: str) -> Callable[[], bool]:
    """A check, run only when needed, whether the subject or the text of the mail names the brand (in its
    words, not inside an address: a link to netflix-account-hold.top does not name Netflix)."""
    return lambda: lookalike.mentions_brand(brand, _readable_text(msg))


def sends_readers_to_brand(msg: Message, brand_orgs: frozenset[str]) -> bool:
    """Every link goes to the brand's own sites (directly, or through a click counter that carries them or
    counts on the sending domain), none elsewhere, no file and no answer address away: a firm's newsletter
    from a mailing domain of its own or a mail service's. A fraudster's mail must send the reader somewhere
    else: a look-alike page, a file, a reply."""
    fa = msg.from_addr
    if fa is None or not brand_orgs or any(p.is_attachment and not p.content_type.startswith("image/")
                                           for p in msg.parts):
        return False
    from_org = org_domain(ascii_domain(fa.domain))
    if any(org_domain(ascii_domain(rt.domain)) not in brand_orgs | {from_org} for rt in msg.reply_to):
        return False
    to_brand = 0
    for link in links.scan(msg).links:
        if not link.host or link.url.lower().startswith("mailto:"):
            continue
        org = org_domain(link.host.lower())
        if org in brand_orgs or any(org_domain(e.lower()) in brand_orgs for e in links.embedded_hosts(link.url)):
            to_brand += 1
        elif org == from_org:
            # the mailing domain's own click counter or unsubscribe page; its own pages are where a
            # look-alike domain would send the reader
            if not (links.looks_like_click_counter(link.url) or "unsub" in link.url.lower()):
                return False
        elif not links.is_redirector(link.host):
            return False
    return to_brand > 0


@register
class LookalikeDomain(Rule):
    """Fraud from a name that reads like a known one: your own domain, a supplier's, a bank's. The
    domain is real and passes every check, so only its spelling gives it away."""

    id = "sender.lookalike_domain"
    category = "sender"
    severity = "high"
    title = "{domain} is made to look like {target}"
    explanation = "The {field} line shows the address {addr}. Its domain {domain} is not {target}{whose}. {how}"
    advice = (
        "Do not reply, click links or open files in this mail. If you know the firm, contact them the way "
        "you always do, not through this mail."
    )
    advice_by_severity = {
        "low": "If you did not expect mail from this address, check it with the firm the way you always do.",
    }
    notes = {
        "anyone": "It is a different domain that anyone can buy.",
        "punycode": "Behind the scenes, the domain is written {ascii}.",
        "other_ending": "Some firms do use more than one ending. If you are not sure, ask them by phone.",
        "extra_words": "Firms sometimes buy such names too. Check before you trust it.",
        "brand_subdomain": "The name also says it is {brand}, to make you trust the address.",
        "mail_service": (
            "A mail service that sends for many firms sent it. Such services sometimes send for a firm this "
            "way, so this alone is a small sign."
        ),
        "mixed_script": "Nobody types a name like this. It is made to look like a name you know.",
        "reply_to": "Only the Reply-To line has this address, so your answer would go there.",

        "brand_links": (
            "But every link in it goes to {target} itself, as a firm's own newsletter does. So this alone is a "
            "small sign."
        ),
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = msg.from_addr
        known = lookalike.for_context(ctx)
        from_org = org_domain(ascii_domain(fa.domain)) if fa else ""
        seen: set[str] = set()
        candidates: list[tuple[str, Address]] = []
        if fa:
            candidates.append(("From", fa))
        candidates.extend(("Reply-To", rt) for rt in msg.reply_to)
        for field, addr in candidates:
            raw = _raw_domain(addr)
            if not raw or raw.lower() in seen:
                continue
            seen.add(raw.lower())
            match = known.check(raw) or known.brand_in_host(raw)
            if match is None:
                continue
            if field == "Reply-To":
                if org_domain(match.ascii) == from_org:
                    continue
                if match.target is not None and match.target.domain == from_org:
                    continue  # the Reply-To rule already says the answer goes to a look-alike of the From
            claim = name_claim(msg)
            claimed = bool(match.brand) and claim is not None and claim.brand.name == match.brand
            severity = match_severity(match, claimed, mentioned_in(msg, match.brand))
            if severity is None:
                continue
            notes = []
            if match.how == "brand_subdomain":
                auth = authresults.read(msg, ctx.trusted_authserv)
                if brand_signed(auth, match.brand):
                    continue  # signed by the brand itself and sent through a mail service
                if mail_service_sent(auth, org_domain(match.ascii)):
                    severity = "low"
                    notes.append("mail_service")
                elif claimed:
                    notes.append("brand_subdomain")
            if (
                field == "From"
                and match.how in ("extra_words", "brand_subdomain", "other_ending")
                and match.target is not None
                and match.target.kind == "brand"
                and sends_readers_to_brand(msg, _brand_orgs(match.brand))
            ):
                severity = "low"  # ryanairmail.com linking only to ryanair.com: the firm's own mailing name
                notes.append("brand_links")
            if match.strong or (match.how == "brand_subdomain" and severity != "low"):
                notes.insert(0, "anyone")
            if match.ascii != match.unicode:
                notes.append("punycode")
            if match.how in ("other_ending", "extra_words", "mixed_script"):
                notes.append(match.how)
            if field == "Reply-To":
                notes.append("reply_to")
            evidence: dict[str, object] = {field: visible(msg.header(field.lower()))}
            evidence.update(match_evidence(match))
            yield Hit(
                facts={"field": field, "addr": visible(addr.addr), **match_facts(match, ctx)},
                evidence=evidence,
                notes=tuple(notes),
                severity=severity,
            )


@register
class BrandImpersonation(Rule):
    """Many phones show only the sender's name. "PayPal" or "DHL Express" in the name, sent from a
    domain the brand never uses, is the most common phishing there is."""

    id = "sender.brand_impersonation"
    category = "sender"
    severity = "medium"
    title = "The name says {brand}, but the mail is not from {brand}"
    explanation = (
        'The sender calls itself "{name}". But the address is {addr}. {brand} sends from its own domains, '
        "such as {brand_domain}, not from {domain}."
    )
    advice = (
        "Do not click links or open files in this mail. Open the {brand} app or type its web address "
        "yourself to check your account."
    )
    advice_by_severity = {
        "low": "If this mail asks you to sign in or pay, open the {brand} app or type its web address yourself.",
    }
    notes = {
        "freemail": "The address is a free webmail account. A big firm does not send from one.",
        "disguised": "The name is written with look-alike or hidden letters, to get past filters.",
        "no_address": "The mail has no real sender address at all.",
        "brand_in_front": "The address puts the name {brand} in front of a domain that is not theirs.",
        "brand_links": (
            "But every link in it goes to {brand}'s own web site, as a firm's newsletter sent through a mail "
            "service does. So this alone is a small sign."
        ),
        "mail_service": (
            "A mail service that sends for many firms sent it, with the name {brand} in front. Such services "
            "sometimes send for a firm this way, so this alone is a small sign."
        ),
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        name = _display_name(msg)
        if not name or len(name) > 120:
            return
        fa = msg.from_addr
        auto = msg.header("auto-submitted").strip().lower()
        if (auto and auto != "no") or msg.is_multipart_report or (
            fa is not None and fa.local.lower() in ("postmaster", "mailer-daemon")
        ):
            return  # a mail server's own notice, signed with its product name; the bounce rules judge it
        claim = name_claim(msg)
        if claim is None:
            return
        brand = claim.brand
        notes = []
        severity: Severity = "medium"
        if fa is None:
            domain = ""
            notes.append("no_address")
            severity = "high"
        else:
            domain = ascii_domain(fa.domain)
            org = org_domain(domain)
            if org in brand.orgs and not (is_freemail(org) and domain == org):
                return  # the brand's own domain; whether it is forged is the sender rules' question
            if org and not is_freemail(org) and (ctx.is_own_domain(org) or org in lookalike.correspondent_orgs(ctx)):
                return  # a firm you deal with (your IT firm may well sign as "Microsoft 365 Support")
            auth = authresults.read(msg, ctx.trusted_authserv)
            if brand_signed(auth, brand.name):
                return  # signed by the brand itself and sent through a mail service
            if lookalike.brand_country_domain(org, brand) and auth.aligned_pass(org):
                return  # its name in another country (amazonpay.in), and your provider confirmed the sender
            known = lookalike.for_context(ctx)
            match = known.check(_raw_domain(fa)) or known.brand_in_host(_raw_domain(fa))
            if match is not None and match.brand == brand.name:
                return  # the look-alike rule already names the brand and the trick
            if is_freemail(org):
                notes.append("freemail")
                severity = "high"
            elif lookalike.names_brand(domain, org, brand):
                # news.brand.mailer.example: a mail service's sending name, or a fraudster's disguise.
                if mail_service_sent(auth, org):
                    notes.append("mail_service")
                    severity = "low"
                else:
                    notes.append("brand_in_front")
        if severity == "medium" and sends_readers_to_brand(msg, brand.orgs):
            severity = "low"  # its newsletter through a mail service: every link goes to the brand's own site
            notes.append("brand_links")
        if claim.disguised:
            notes.append("disguised")
            severity = "high"
        yield Hit(
            facts={
                "brand": brand.name,
                "name": visible(name),
                "addr": visible(fa.addr) if fa else "(none)",
                "domain": visible(unicode_domain(domain)) if domain else "(none)",
                "brand_domain": brand.domains[0],
            },
            evidence={"From": visible(msg.header("from")), "Brand": brand.name, "Matched words": visible(claim.words)},
            notes=tuple(notes),
            severity=severity,
        )
