"""Look-alike senders: a domain made to pass for one you know, and a name that claims a brand.

A fraudster cannot send from paypal.com or from your supplier's domain when those are protected, so
they register a name that reads the same (paypaI.com, timberworks-suppIies.co.uk) or put the brand
into the display name, which is all many phones show. Both are checked against the domains the reader
knows: their own, the ones they write to, and a bundled list of often-impersonated brands.
"""

from klezguard.core import authresults, lookalike
from klezguard.core.context import Context
from klezguard.core.domains import ascii_domain, is_freemail, org_domain, unicode_domain
from klezguard.core.headers import Address
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, Severity, register


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
        "brand": target.brand if target and target.kind == "brand" else "",
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


def match_severity(match: lookalike.Match) -> Severity:
    """High for letters that read the same, typing slips and names put in front of another domain, and
    for anything imitating your own domain; medium where an innocent reading exists (another ending,
    an added word, a brand's name as a sub-domain, mixed alphabets alone)."""
    if match.strong or (match.target is not None and match.target.kind == "own"):
        return "high"
    return "medium"


def _raw_domain(addr: Address) -> str:
    """The domain as written, capitals kept: 'paypaI.com' must not become 'paypai.com'."""
    return addr.addr.rpartition("@")[2].strip().strip("<>[]").rstrip(".")


@register
class LookalikeDomain(Rule):
    """Fraud from a name that reads like a known one: your own domain, a supplier's, a bank's. The
    domain is real and passes every check, so only its spelling gives it away."""

    id = "sender.lookalike_domain"
    category = "sender"
    severity = "high"
    title = "{domain} is made to look like {target}"
    explanation = (
        "The {field} line shows the address {addr}. Its domain {domain} is not {target}{whose}. "
        "It is a different domain that anyone can buy. {how}"
    )
    advice = (
        "Do not reply, click links or open files in this mail. If you know the firm, contact them the way "
        "you always do, not through this mail."
    )
    notes = {
        "punycode": "Behind the scenes, the domain is written {ascii}.",
        "other_ending": "Some firms do use more than one ending. If you are not sure, ask them by phone.",
        "extra_words": "Firms sometimes buy such names too. Check before you trust it.",
        "mixed_script": "Nobody types a name like this. It is made to look like a name you know.",
        "reply_to": "Only the Reply-To line has this address, so your answer would go there.",
    }

    def check(self, msg: Message, ctx: Context):
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
            match = known.check(raw)
            if match is None:
                continue
            if field == "Reply-To":
                if org_domain(match.ascii) == from_org:
                    continue
                if match.target is not None and match.target.domain == from_org:
                    continue  # the Reply-To rule already says the answer goes to a look-alike of the From
            notes = []
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
                severity=match_severity(match),
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
    notes = {
        "freemail": "The address is a free webmail account. A big firm does not send from one.",
        "disguised": "The name is written with look-alike or hidden letters, to get past filters.",
        "no_address": "The mail has no real sender address at all.",
        "mail_service": (
            "The address carries the name {brand} in front. Mail services sometimes send for a firm this way, "
            "so this alone is a small sign."
        ),
    }

    def check(self, msg: Message, ctx: Context):
        name = ""
        fa = msg.from_addr
        if fa is not None:
            name = fa.name
        elif msg.from_all:
            name = msg.from_all[0].name
        if not name or len(name) > 120:
            return
        auto = msg.header("auto-submitted").strip().lower()
        if (auto and auto != "no") or msg.is_multipart_report or (
            fa is not None and fa.local.lower() in ("postmaster", "mailer-daemon")
        ):
            return  # a mail server's own notice, signed with its product name; the bounce rules judge it
        claim = lookalike.brand_in_name(name)
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
            if any(org_domain(d) in brand.orgs for d in auth.passed("dkim") if d):
                return  # signed by the brand itself and sent through a mail service
            match = lookalike.for_context(ctx).check(_raw_domain(fa))
            if match is not None and match.target is not None and match.target.brand == brand.name:
                return  # the look-alike rule already names the brand and the trick
            if is_freemail(org):
                notes.append("freemail")
                severity = "high"
            elif lookalike.names_brand(domain, org, brand):
                notes.append("mail_service")
                severity = "low"  # discover.qrs1.net: a mail service's sending name for the brand
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
            evidence={"From": visible(msg.header("from")), "Brand": brand.name, "Matched words": claim.words},
            notes=tuple(notes),
            severity=severity,
        )
