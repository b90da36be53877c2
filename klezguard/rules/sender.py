"""Sender rules: is the mail really from who it says, and where would a reply go?

Klez forged From with addresses from the victim's address book; today's invoice fraud does the same
with a Reply-To that diverts the answer. Anyone can write any From line. What cannot be faked is what
the user's own provider checked on arrival (its Authentication-Results), and which other addresses the
message carries (Reply-To, Return-Path, Sender, the display name). Benign mail rewrites senders all the
time (mailing lists, newsletters sent through a mail service, invoices sent on someone's behalf), so
every rule first looks for the innocent reading and stays quiet or low when there is one.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from klezguard.core import authresults, reports
from klezguard.core.authresults import AuthResults
from klezguard.core.context import Context
from klezguard.core.correspondents import name_keys
from klezguard.core.domains import ascii_domain, is_freemail, org_domain, public_suffix, unicode_domain
from klezguard.core.headers import Address, parse_addresses
from klezguard.core.message import Message
from klezguard.core.visible import BIDI_CONTROLS, visible
from klezguard.rules.registry import Hit, Rule, Severity, register

# An address written inside a display name. NFKC first turns look-alike at-signs (U+FF20, U+FE6B) into "@".
_NAME_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_AT_SIGNS = ("@", "\uff20", "\ufe6b")
_VIA = re.compile(r"\(?\bvia\s+([^()<>]+?)\)?\s*$", re.I)
_WORD = re.compile(r"[a-z0-9]+")

# Envelope senders of bounce handling: list software, mail services, forwarding (SRS), BATV.
_BOUNCE_LOCAL = re.compile(
    r"(^|[-_.+=])(bounces?|bnc|return|mailer-daemon|postmaster)([-_.+=]|$)|-request$|^owner-|"
    r"^prvs=|^msprvs\d*=|^btv1==|^srs[01][=+-]|^bounce",
    re.I,
)

# Accounts web servers and scripts send as: a forged From from a hacked website shows up with these.
_WEB_ACCOUNT = re.compile(r"^(apache|www-?data|wordpress|wp|nobody|httpd|nginx|php|cpanel|web|www|daemon)\d*$", re.I)

_STEPS: tuple[Severity, ...] = ("low", "medium", "high")


def _lower(sev: Severity) -> Severity | None:
    i = _STEPS.index(sev)
    return _STEPS[i - 1] if i else None


def _lower_twice(sev: Severity) -> Severity | None:
    once = _lower(sev)
    return _lower(once) if once else None


def _addr_key(addr: str) -> str:
    local, _, domain = addr.strip().rpartition("@")
    return f"{local.lower()}@{ascii_domain(domain)}"


# --- what every sender rule needs, computed once per message ------------------------------------


_REPORT_NOTE = (
    "This is an automatic report for whoever runs your domain's mail. It holds only data for a report "
    "tool, and it asks you to do nothing, so a fake sender could do no harm here."
)

@dataclass
class _Facts:
    from_addr: Address | None
    from_domain: str  # ASCII
    from_org: str
    ar: AuthResults
    aligned: bool  # the provider confirmed the From domain's organisation (SPF, DKIM or DMARC)
    own_from: bool  # From claims the user's own domain or address
    known_from: bool  # From is an address (or non-free-mail organisation) the user writes to
    list_relay: bool  # a mailing list passed it on (and, when checks exist, the list's domain passed)
    arc_pass: bool  # the provider says the forwarding chain (ARC) is intact
    known_domains: frozenset[str]


_KNOWN_CACHE: dict[int, tuple[Context, frozenset[str]]] = {}


def _known_domains(ctx: Context) -> frozenset[str]:
    """Organisations of the people the user writes to, without free-mail providers (millions share those)."""
    cached = _KNOWN_CACHE.get(id(ctx))
    if cached and cached[0] is ctx:
        return cached[1]
    domains = frozenset(d for d in ctx.correspondent_domains if d and not is_freemail(d))
    if len(_KNOWN_CACHE) > 64:
        _KNOWN_CACHE.clear()
    _KNOWN_CACHE[id(ctx)] = (ctx, domains)
    return domains


def _is_known(addr: str, ctx: Context, known_domains: frozenset[str]) -> bool:
    if "@" not in addr:
        return False
    return addr.lower() in ctx.correspondents or org_domain(addr.rpartition("@")[2]) in known_domains


def _is_own(addr: str, ctx: Context) -> bool:
    return "@" in addr and (ctx.is_own_address(addr) or ctx.is_own_domain(addr.rpartition("@")[2]))


def _list_domains(msg: Message) -> set[str]:
    """Organisations a mailing list would sign or bounce with."""
    found = set()
    list_id = msg.header("list-id")
    match = re.search(r"<([^<>]+)>", list_id)
    if match and "." in match.group(1):
        found.add(org_domain(match.group(1)))
    for value in (msg.header("list-post"), msg.header("list-help")):
        m = re.search(r"mailto:[^@>\s]+@([^>?\s]+)", value, re.I)
        if m:
            found.add(org_domain(m.group(1)))
    for a in (msg.sender, msg.return_path):
        if a and a.domain:
            found.add(org_domain(a.domain))
    return {d for d in found if d}


_LIST_LOCAL = re.compile(r"(-l|-list|-bounces?|-owner|-request|-admin)$|^(owner-|listserv|majordomo|mailman)", re.I)


def _listish(addr: Address | None) -> bool:
    """A list server's own address (LISTSERV 'RRGA-L@LIST.EXAMPLE.ORG', Mailman '-bounces'), for lists
    that send no List-* headers."""
    if not addr or "@" not in addr.addr:
        return False
    return bool(_LIST_LOCAL.search(addr.local)) or addr.domain.startswith(("list.", "lists.", "listserv."))


def _list_relay(msg: Message, ar: AuthResults) -> bool:
    """A discussion list passed the message on. With the provider's results at hand this needs a List-Id
    or List-Post header and a passing signature or envelope of the list's own domain: a phisher can add
    List-Unsubscribe to anything, but cannot make a list's domain pass."""
    if not ar.found:
        return msg.is_mailing_list or _listish(msg.sender) or _listish(msg.return_path)
    if not (msg.has("list-id") or msg.has("list-post")):
        return False
    domains = _list_domains(msg)
    passed = ar.passed("dkim") + ar.passed("spf")
    return any(org_domain(d) in domains for d in passed if d)


def _from(msg: Message) -> Address | None:
    """The author's address; None when From holds no usable address ("@example.com" is no sender)."""
    fa = msg.from_addr
    return fa if fa and fa.local and fa.domain else None


def facts(msg: Message, ctx: Context) -> _Facts:
    cached: tuple[Context, _Facts] | None = msg.__dict__.get("_sender_facts")
    if cached and cached[0] is ctx:
        return cached[1]
    fa = _from(msg)
    domain = ascii_domain(fa.domain) if fa else ""
    ar = authresults.read(msg, ctx.trusted_authserv)
    known_domains = _known_domains(ctx)
    out = _Facts(
        from_addr=fa,
        from_domain=domain,
        from_org=org_domain(domain) if domain else "",
        ar=ar,
        aligned=bool(domain) and ar.found and (ar.aligned_pass(domain) or _composite_pass(ar)),
        own_from=fa is not None and _is_own(fa.addr, ctx),
        known_from=fa is not None and _is_known(fa.addr, ctx, known_domains),
        list_relay=_list_relay(msg, ar),
        arc_pass=ar.found and ar.result("arc") == "pass",
        known_domains=known_domains,
    )
    msg.__dict__["_sender_facts"] = (ctx, out)
    return out


def _composite_pass(ar: AuthResults) -> bool:
    """Microsoft's composite verdict and best-guess DMARC: the provider itself says the From is fine."""
    return ar.result("compauth") == "pass" or ar.dmarc == "bestguesspass"


def _checks_text(ar: AuthResults, from_org: str = "") -> str:
    """'SPF: pass for relay-host.example; DKIM: none; DMARC: fail (policy: reject)' — what the provider
    found, in its words (for the evidence: the explanation says it in plain words)."""
    parts = []
    for method, label in (("spf", "SPF"), ("dkim", "DKIM"), ("dmarc", "DMARC")):
        results = ar.of(method)
        if not results:
            continue
        said = []
        for r in results:
            text = r.result
            if method != "dmarc" and r.result == "pass" and r.domain and org_domain(r.domain) != from_org:
                text = f"pass for {unicode_domain(r.domain)}"
            elif method == "dmarc" and r.policy and r.result != "none":
                text = f"{r.result} (policy: {r.policy})"
            said.append(text)
        parts.append(f"{label}: {', '.join(dict.fromkeys(said))}")
    return "; ".join(parts) if parts else "no result"


def _auth_evidence(ar: AuthResults) -> dict[str, object]:
    out: dict[str, object] = {}
    if ar.found:
        out["Authentication-Results (your provider)"] = ar.headers
    if ar.ignored:
        out["Authentication-Results (ignored: not written by your provider)"] = ar.ignored
    return out


def _explicit_fail(ar: AuthResults) -> bool:
    """SPF or DKIM said 'fail' (the domain's owner says this server may not send for it)."""
    return any(r.result == "fail" for r in ar.of("spf") + ar.of("dkim"))


def _from_fail(ar: AuthResults, from_org: str) -> bool:
    """An outright fail about the From domain itself: SPF or DKIM 'fail' for its organisation, or
    Microsoft's composite verdict failing for a reason other than 'the domain has no checks' (001)."""
    for r in ar.of("spf") + ar.of("dkim"):
        if r.result == "fail" and r.domain and org_domain(r.domain) == from_org:
            return True
    comp = ar.of("compauth")
    return bool(comp) and comp[0].result == "fail" and not comp[0].props.get("reason", "").startswith("001")


def _any_result_for(ar: AuthResults, from_org: str) -> bool:
    """SPF or DKIM said anything but 'none' about the From domain (it has some checks set up)."""
    return any(
        r.result not in ("none", "") and r.domain and org_domain(r.domain) == from_org
        for r in ar.of("spf") + ar.of("dkim")
    )


def _sending_service(ar: AuthResults, from_org: str, ctx: Context) -> str:
    """The organisation the provider did confirm, when it is not the From's: the system that really sent
    it (the envelope's SPF first, then a signature)."""
    for d in ar.passed("spf") + ar.passed("dkim"):
        org = org_domain(d) if d else ""
        if org and org != from_org and not ctx.is_own_domain(org):
            return org
    return ""


def _label(org: str) -> str:
    suffix = public_suffix(org)
    return org[: -len(suffix) - 1] if suffix and org.endswith("." + suffix) else org.partition(".")[0]


_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "$": "s", "-": "", "_": ""})


def _skeleton(label: str) -> str:
    return (
        unicodedata.normalize("NFKC", unicode_domain(label))
        .lower()
        .replace("rn", "m")
        .replace("vv", "w")
        .translate(_CONFUSABLE)
    )


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it is larger than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def similar_org(a: str, b: str) -> str:
    """How two different organisations' names are made to look alike: 'confusable' (one letter off or
    swapped for a look-alike: acme-suppIies for acme-supplies), 'variant' (same name plus a word or another
    ending: acme-supplies-ltd, acme-supplies.com), or '' when they do not look alike."""
    if not a or not b or a == b:
        return ""
    la, lb = _label(a), _label(b)
    if min(len(la), len(lb)) < 4:
        return ""
    if la == lb:
        return "variant"
    if la.startswith(lb + "-") or lb.startswith(la + "-") or la.endswith("-" + lb) or lb.endswith("-" + la):
        return "variant"
    sa, sb = _skeleton(la), _skeleton(lb)
    if sa == sb:
        return "confusable"
    limit = 1 if min(len(sa), len(sb)) < 10 else 2
    if min(len(sa), len(sb)) >= 6 and _distance(sa, sb, limit) <= limit:
        return "confusable"
    return ""


# --- rules ------------------------------------------------------------------------------------------


@register
class NameHoldsOtherAddress(Rule):
    """A display name that is itself an address ("paypal@paypal.com" <x@evil.top>) makes people read the
    wrong address: many phones show only the name."""

    id = "sender.name_shows_other_address"
    category = "sender"
    severity = "medium"
    title = "The name shows {shown}, but the mail came from {real}"
    explanation = (
        'The sender\'s name reads "{name}". That looks like an address, but the real address is {real}, '
        "which belongs to someone else. Many phones show only the name, so this trick hides who sent it."
    )
    advice = (
        "Go by the real address, not the name. Don't click links or open files. If it matters, write to "
        "{shown} yourself or phone them."
    )
    notes = {
        "own": "The name shows an address of your own company, so the mail pretends to be from inside.",
        "known": "The name shows someone you write to. Fakes of people you know are the most dangerous.",
        "service": (
            "A sharing service such as {service} may show a person's address this way. "
            "Only trust it if you expected this."
        ),

        "alias": (
            "The name also carries a label with your own mailbox in brackets. Forwarding and alias services "
            "show the first sender this way, so this alone is a small sign."
        ),
        "pec": (
            "This is certified mail (PEC). Its provider always writes the sender's address in the name this way, "
            "and your provider confirmed the PEC provider."
        ),
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = _from(msg)
        if not fa or not fa.name or not any(at in fa.name for at in _AT_SIGNS):
            return
        name = unicodedata.normalize("NFKC", fa.name)
        real_key = _addr_key(fa.addr)
        f = facts(msg, ctx)
        via = _VIA.search(name)
        for found in _NAME_ADDR.findall(name):
            shown = found.strip(".-_'\"").lstrip("'\"")
            local, _, domain = shown.rpartition("@")
            domain = domain.strip(".-_")
            if not local or "." not in domain or not re.search(r"\.[^\W\d_]{2,}$", domain):
                continue
            shown = f"{local}@{domain}"
            if _addr_key(shown) == real_key or org_domain(domain) == f.from_org:
                continue
            if via and f.list_relay:
                return  # "'ann@example.com' via Group": a mailing list names the poster
            if f.own_from and f.aligned:
                return  # your own web form, naming the customer who filled it in
            severity: Severity = "medium"
            notes: list[str] = []
            service = via.group(1).strip() if via else ""
            if _is_own(shown, ctx):
                severity, notes = "high", ["own"]
            elif _is_known(shown, ctx, f.known_domains):
                severity, notes = "high", ["known"]
            if service and f.aligned and _service_matches(service, f.from_org):
                severity, notes = "low", ["service"]
            elif f.aligned and _certified_mail(name, msg):
                severity, notes = "low", ["pec"]
            elif severity == "medium" and _alias_label(name, msg):
                severity, notes = "low", ["alias"]
            yield Hit(
                facts={"shown": visible(shown), "real": visible(fa.addr), "name": visible(fa.name), "service": service},
                evidence={"From": visible(msg.from_display or msg.header("from"))} | _auth_evidence(f.ar),
                notes=tuple(notes),
                severity=severity,
            )
            return


def _certified_mail(name: str, msg: Message) -> bool:
    """Italian certified mail (PEC): the provider's envelope says 'Per conto di: <sender>' in the name and
    marks itself with X-Trasporto (the standard's transport header), as every PEC provider must."""
    return name.lower().lstrip().startswith("per conto di:") and msg.header("x-trasporto").lower() in (
        "posta-certificata", "errore")


def _alias_label(name: str, msg: Message) -> bool:
    """"ann@shop.example [mybox/shop]": an alias or forwarding service labels the first sender with the
    recipient's own mailbox in brackets; a forger borrowing an address has no reason to."""
    labels = re.findall(r"\[([^\[\]]{2,80})\]", name)
    boxes = {a.local.lower() for a in msg.to if a.local and len(a.local) >= 3}
    return any(box in re.split(r"[^\w.+-]+", label.lower()) for label in labels for box in boxes)


@register
class NameOfContact(Rule):
    """Klez and today's fraud both borrow a name the user trusts: the name of someone they write to (or
    their own), on an address that person never used."""

    id = "sender.name_of_contact"
    category = "sender"
    severity = "medium"
    title = "The name is {name}, but the address is not theirs"
    explanation = (
        "This mail uses the name {name}. You know that name from {known}. But this mail came from {real}, "
        "an address you have never written to under that name."
    )
    advice = "Don't act on it yet. Write to {known} or phone {name} on a number you know, and ask if they sent it."
    notes = {
        "own": "That is a name from your own company, used from outside it.",
        "freemail": "{real} is a free webmail address. Anyone can open one in any name.",
        "innocent": "People sometimes write from a private or new address. Then this is fine.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        if not ctx.known_names:
            return
        fa = _from(msg)
        if not fa or not fa.name:
            return
        found = ctx.name_index.find(fa.name)
        if found is None:
            return
        key, known = found
        if fa.addr.lower() in known:
            return
        memory = ctx.memory
        this = memory.get(fa.addr) if memory is not None else None
        if this is not None and (this.written or this.in_book or (
                this.vouched and any(key in name_keys(n) for n in this.names))):
            return  # an address the user knows too (a stranger's mail alone never vouches for a new name)
        f = facts(msg, ctx)
        via = _VIA.search(unicodedata.normalize("NFKC", fa.name))
        if via and _service_matches(via.group(1).strip(), f.from_org) and not (
                f.aligned is False and f.ar.found and (f.ar.dmarc == "fail" or _from_fail(f.ar, f.from_org))):
            return  # "Gareth Lloyd via DocuSign" from DocuSign itself (not refused by its domain): a service for them
        free = is_freemail(f.from_org)
        if not free and any(org_domain(a.rpartition("@")[2]) == f.from_org for a in known):
            return  # another address at the same firm
        if any(rt.addr.lower() in known for rt in msg.reply_to):
            return  # a service sending for them: answers go to their known address
        if f.list_relay:
            return
        own = any(_is_own(a, ctx) for a in known)
        # someone the user writes to or keeps in an address book, not a name met once in passing
        close = memory is not None and any((c := memory.get(a)) is not None and (c.written or c.in_book)
                                           for a in known)
        notes: list[str] = ["own"] if own else []
        severity: Severity
        if free:
            severity = "high" if (own or close) else "medium"
            notes.append("freemail")
        else:
            # a firm the user never dealt with, using the name of someone they write to or keep in the book:
            # the fraud's own domain (a namesake at another firm reads the same, hence medium, not high)
            stranger_firm = close and f.from_org not in f.known_domains  # (known: every vouched correspondent's)
            severity = "medium" if (own or not f.aligned or stranger_firm) else "low"
        notes.append("innocent")
        yield Hit(
            facts={"name": visible(fa.name), "real": visible(fa.addr), "known": ", ".join(sorted(known)[:3])},
            evidence={"From": visible(msg.from_display or msg.header("from"))} | _auth_evidence(f.ar),
            notes=tuple(notes),
            severity=severity,
        )


def _service_matches(service: str, org: str) -> bool:
    """'Google Drive' and google.com, 'Dropbox' and dropboxmail.com — not 'Dropbox' and share-docs.xyz."""
    words = _WORD.findall(service.lower())
    label = _label(org)
    if not words or "-" in label:
        return False
    return label == "".join(words) or (len(words[0]) >= 4 and label.startswith(words[0]))


@register
class ReplyToElsewhere(Rule):
    """Invoice and CEO fraud: the From looks right, but Reply-To sends your answer to the fraudster."""

    id = "sender.reply_to_elsewhere"
    category = "sender"
    severity = "low"
    title = "Replies would go to {reply_addr}, not to {from_addr}"
    explanation = (
        "The mail says it is from {from_addr}. But if you press Reply, your answer goes to {reply_addr}. "
        "That address belongs to someone else."
    )
    advice = (
        "Don't reply with money, bank details or passwords. If you need to answer, start a new mail to "
        "the address you already know, or phone."
    )
    notes = {
        "own": (
            "The mail claims to come from your own company, yet it wants your answer sent outside. "
            "This is how boss fraud works."
        ),
        "lookalike": "{reply_domain} is made to look like {from_domain}. It is a different name.",
        "freemail": "The reply address is a free webmail account. Real firms rarely ask for replies there.",
        "known": "You write to {from_addr}. A fraudster who fakes a known sender wants your reply.",
        "service": (
            "Mail services and help desks sometimes do this too. It is only a worry if the mail asks for money or data."
        ),
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = _from(msg)
        if not fa or not msg.reply_to:
            return
        f = facts(msg, ctx)
        target = None
        for rt in msg.reply_to:
            rt_domain = ascii_domain(rt.domain)
            if not rt_domain or org_domain(rt_domain) == f.from_org:
                continue
            if _is_own(rt.addr, ctx) or _is_known(rt.addr, ctx, f.known_domains):
                continue  # replies come back to you, or to someone you already write to
            target = rt
            break
        if target is None:
            return
        if f.list_relay and (not f.own_from or org_domain(ascii_domain(target.domain)) in _list_domains(msg)):
            return  # a list post: replies go to the list or to the poster
        if f.own_from and f.aligned:
            return  # your own web form: the customer is in Reply-To
        if any(_addr_key(t.addr) == _addr_key(fa.addr) for t in msg.to):
            return  # a form mails itself and names the person who filled it in
        rt_org = org_domain(ascii_domain(target.domain))
        rt_free = is_freemail(rt_org) and not is_freemail(f.from_org)
        unconfirmed = f.ar.found and not f.aligned  # the provider checked, and the From did not pass
        notes: list[str] = []
        severity: Severity
        if f.own_from:
            # Your own firm, and the provider did not confirm it: boss fraud. (Unknown without results.)
            severity = "high" if (unconfirmed or rt_free) else "medium"
            notes = ["own", "freemail"] if rt_free else ["own"]
        elif (alike := similar_org(rt_org, f.from_org)) and (not f.aligned or alike == "confusable"):
            # A variant (brand-support.com) from a confirmed sender is usually the firm's own other name.
            severity, notes = ("high" if not f.aligned else "medium"), ["lookalike"]
        elif f.known_from:
            notes = ["known", "freemail"] if rt_free else ["known"]
            if unconfirmed:
                severity = "high"
            elif rt_free:
                severity = "medium"
            else:
                severity = "low"
                notes.append("service")
        elif rt_free:
            severity = "medium" if unconfirmed else "low"
            notes = ["freemail"]
        else:
            if f.aligned:
                return  # the provider confirmed the From: a business that takes answers elsewhere
            severity, notes = "low", ["service"]
        yield Hit(
            facts={
                "from_addr": visible(fa.addr),
                "reply_addr": visible(target.addr),
                "reply_domain": visible(unicode_domain(rt_org)),
                "from_domain": visible(unicode_domain(f.from_org)),
            },
            evidence={
                "From": visible(msg.from_display or msg.header("from")),
                "Reply-To": visible(msg.decoded("reply-to")),
            }
            | _auth_evidence(f.ar),
            notes=tuple(notes),
            severity=severity,
        )


@register
class EnvelopeElsewhere(Rule):
    """The envelope sender (Return-Path) is where the mail was really sent from; a forged From on mail
    from a hacked web server shows up here. Mail services legitimately differ, so this only adds context."""

    id = "sender.envelope_elsewhere"
    category = "sender"
    severity = "low"
    title = "Sent from {envelope_domain}, not from {from_domain}"
    explanation = (
        "The mail says it is from {from_addr}, but the mail system that sent it used the address "
        "{envelope_addr}. That is a different company."
    )
    advice = "On its own this is common. Be careful if the mail also asks for money, logins or to open files."
    notes = {
        "spf_other": "Your mail provider only confirmed {envelope_domain}, not {from_domain}.",
        "unchecked": "There is no check result from your mail provider to confirm who sent it.",
        "service": "Newsletters and shops often send through a mail service, so this can be fine.",
        "web": "{envelope_local} is the kind of account a web server uses. Hacked websites send fake mail like this.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        rp = msg.return_path
        fa = _from(msg)
        if not rp or not fa or not rp.domain:
            return
        f = facts(msg, ctx)
        rp_org = org_domain(ascii_domain(rp.domain))
        if not rp_org or rp_org == f.from_org or f.list_relay or f.aligned:
            return
        if _BOUNCE_LOCAL.search(rp.local):
            return  # bounce handling of a list, a mail service or a forwarder (SRS, VERP, BATV)
        notes: list[str] = []
        if _WEB_ACCOUNT.match(rp.local):
            notes.append("web")
        if f.ar.found and any(org_domain(d) == rp_org for d in f.ar.passed("spf") if d):
            notes.append("spf_other")
        elif not f.ar.found:
            notes.append("unchecked")
        notes.append("service")
        yield Hit(
            facts={
                "from_addr": visible(fa.addr),
                "envelope_addr": visible(rp.addr),
                "envelope_local": visible(rp.local),
                "envelope_domain": visible(unicode_domain(rp_org)),
                "from_domain": visible(unicode_domain(f.from_org)),
            },
            evidence={
                "From": visible(msg.from_display or msg.header("from")),
                "Return-Path": visible(msg.header("return-path")),
            }
            | _auth_evidence(f.ar),
            notes=tuple(notes),
        )


@register
class SentOnBehalf(Rule):
    """A Sender line names who really pressed Send. Invoicing tools and assistants do this openly;
    explained so the user knows, alarming only together with other signs."""

    id = "sender.sent_on_behalf"
    category = "sender"
    severity = "low"
    title = "Sent by {sender_addr} on behalf of {from_addr}"
    explanation = (
        "The mail says it is from {from_addr}, but {sender_addr} sent it for them. Invoice tools and "
        "mail services do this, so it is often fine. Your mail provider did not confirm that "
        "{from_domain} allowed it."
    )
    advice = "If the mail asks for money or new bank details, check with the sender on a number you know."
    notes = {}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        snd = msg.sender
        fa = _from(msg)
        if not snd or not fa or not snd.domain:
            return
        f = facts(msg, ctx)
        snd_org = org_domain(ascii_domain(snd.domain))
        if not snd_org or snd_org == f.from_org or f.list_relay or f.aligned:
            return
        yield Hit(
            facts={
                "from_addr": visible(fa.addr),
                "sender_addr": visible(snd.addr),
                "from_domain": visible(unicode_domain(f.from_org)),
            },
            evidence={"From": visible(msg.from_display or msg.header("from")), "Sender": visible(msg.decoded("sender"))}
            | _auth_evidence(f.ar),
        )


def _via_mail_service(msg: Message, ar: AuthResults, ctx: Context) -> bool:
    """Bulk mail (List-Unsubscribe) signed by some other domain (a mail service), with no Reply-To
    pointing away: how newsletters sent through a service look when it does not sign for the From."""
    if not msg.has("list-unsubscribe"):
        return False
    if any(not _is_own(rt.addr, ctx) for rt in msg.reply_to):
        return False
    return any(d and not ctx.is_own_domain(d) for d in ar.passed("dkim"))


def _is_bounce(msg: Message) -> bool:
    """A delivery report from a mail server (empty envelope sender): the backscatter rules judge those."""
    if not msg.null_return_path:
        return False
    local = msg.from_addr.local.lower() if msg.from_addr else ""
    return msg.is_multipart_report or local in ("mailer-daemon", "postmaster")


@register
class NotAuthenticated(Rule):
    """The provider's SPF/DKIM/DMARC checks are the one thing a forger cannot write: when they say the
    From domain did not send this, the From line is probably fake (the Klez trick). Most mail that merely
    lacks a pass is innocent (a firm that never set the checks up, a calendar or newsletter tool sending
    for someone, a forward), so only an actual fail is more than a low note, and only an actual fail
    counts more for a sender the user knows."""

    id = "sender.not_confirmed"
    category = "sender"
    severity = "medium"
    title = "Your mail provider could not confirm that {from_domain} sent this"
    explanation = (
        "The mail says it is from {from_addr}. Your mail provider could not confirm that it really came "
        "from {from_domain}."
    )
    advice = (
        "Be careful. Don't click links, open files or pay until you have checked with the sender. Use a "
        "way you already know."
    )
    advice_by_severity = {
        "low": (
            "This alone is no reason to worry. If the mail asks for money, bank details or a password, "
            "check with the sender first in a way you already know."
        ),
        "high": (
            "Treat it as fake. Don't click links, open files or pay. If it matters, contact the sender "
            "in a way you already know."
        ),
    }
    notes = {
        "policy": (
            "{from_domain} has told mail providers how to spot its real mail, and this mail does not match. "
            "It asks them to {policy} mail like this."
        ),
        "failed": "{from_domain} has told mail providers how to spot its real mail, and this mail does not match.",
        "weak": (
            "But {from_domain} does not ask them to block mail that does not match. Firms often set this "
            "up wrong, so the mail may well be real."
        ),
        "soft": (
            "{from_domain} lists the servers that send its mail, and this one is not on the list. But it "
            "also says that this can happen."
        ),
        "unchecked": "{from_domain} has not set up the checks that prove its mail is real. Many small firms have not.",
        "known": "You write to this sender. Fakes of people you know are the most dangerous.",
        "freemail": (
            "{from_domain} is a large mail service that confirms all its own mail. So this is a strong sign of a fake."
        ),
        "other": "It was sent by the mail system of {service}.",
        "service": "Calendars, newsletter tools and web shops often send mail for others like this.",
        "computer": (
            "It came straight from a home or office computer, not from a mail server. Worms and spam "
            "programs send mail like this."
        ),
        "anyone": "Anyone can type any name and address into the From line.",
        "forwarded": (
            "It was passed on by a forwarding service, which can break this check. Your mail provider "
            "says the forwarding itself was in order."
        ),
        "forwarded_failed": (
            "It was passed on by a forwarding service. The first server that got it could not confirm "
            "{from_domain} either."
        ),
        "report": _REPORT_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = _from(msg)
        if not fa:
            return
        f = facts(msg, ctx)
        ar = f.ar
        if not ar.found or f.aligned or f.own_from or not f.from_domain or f.list_relay or _is_bounce(msg):
            return  # (lists change the mail on the way, with footers and subject tags, which breaks the checks)
        if not (ar.checked("spf") or ar.checked("dkim") or ar.checked("dmarc")):
            return
        rp = msg.return_path
        if (
            rp
            and ctx.is_own_domain(rp.domain)
            and any(ctx.is_own_domain(d) for d in ar.passed("spf") + ar.passed("dkim"))
        ):
            return  # your own website or system sent it for a visitor (a contact form with their address)
        org = f.from_org
        hard = _from_fail(ar, org)
        free = is_freemail(org)
        dmarc, policy = ar.dmarc, ar.dmarc_policy
        notes: list[str] = []
        severity: Severity | None
        failed = True  # a check actually failed (not just: nothing passed)
        if dmarc == "fail" and policy in ("reject", "quarantine"):
            severity = "high"
            notes.append("policy")
        elif dmarc == "fail" and (hard or free or policy != "none"):
            # An outright fail, a big mail service that signs all it sends, or a policy we were not told.
            severity = "medium"
            notes.append("failed")
            if free and not hard:
                notes.append("freemail")
        elif dmarc == "fail":
            severity, failed = "low", False  # p=none and nothing failed outright: often a setup mistake
            notes += ["failed", "weak"]
        elif hard:
            severity = "medium"
            notes.append("failed")
        else:
            severity, failed = "low", False
            if any(r.result == "softfail" and org_domain(r.domain) == org for r in ar.of("spf") if r.domain):
                notes.append("soft")
            elif not _any_result_for(ar, org) and dmarc in ("", "none"):
                notes.append("unchecked")
        computer = "" if failed else authresults.sent_from_computer(msg, ctx.trusted_authserv)
        if computer:
            # Nothing failed outright, but it came straight from a computer on a home or office line,
            # as worms and spam programs send: a firm's real mail comes from a mail server.
            severity, failed = "medium", True
            notes = [n for n in notes if n != "weak"] + ["computer"]
        if failed and f.known_from:
            severity = "high"
            notes.append("known")
        service = _sending_service(ar, org, ctx)
        if service:
            notes.append("other")
        evidence: dict[str, object] = {
            "From": visible(msg.from_display or msg.header("from")),
            "Checks by your mail provider": _checks_text(ar, org),
        }
        if computer:
            evidence["Sent from"] = visible(computer)
        dmarc_results = ar.of("dmarc")
        enforced = policy in ("reject", "quarantine") and dmarc_results[0].disposition in ("reject", "quarantine")
        if f.arc_pass and not enforced:
            # (When the provider still applied the From domain's policy, it did not trust the forwarder either.)
            origin = AuthResults(found=True, results=authresults.arc_origin(msg, ar))
            if origin.results:
                evidence["Checks by the first forwarding server"] = _checks_text(origin, org)
            if origin.results and (origin.dmarc == "fail" or _from_fail(origin, org)):
                notes.append("forwarded_failed")  # the forwarder saw the same fake: nothing to excuse
            elif (origin.results and origin.aligned_pass(f.from_domain)) or f.known_from:
                return  # the forwarder confirmed it, or a correspondent's mail came through an intact forward
            else:
                # Two steps down, not to nothing: anyone can run a forwarder and seal a chain.
                severity = _lower_twice(severity)
                if severity is None:
                    return
                notes = [n for n in notes if n != "known"] + ["forwarded"]
        if reports.machine_report(msg):
            severity, notes = "low", [n for n in notes if n not in ("known", "computer")] + ["report"]
        if severity == "low" and service and "forwarded" not in notes:
            notes.append("service")
        elif severity != "low":
            notes.append("anyone")
        yield Hit(
            facts={
                "from_addr": visible(fa.addr),
                "from_domain": visible(unicode_domain(f.from_domain)),
                "policy": {"reject": "refuse", "quarantine": "set aside"}.get(policy, policy),
                "service": visible(unicode_domain(service)),
            },
            evidence=evidence | _auth_evidence(ar),
            notes=tuple(notes),
            severity=severity,
        )


@register
class OwnDomainUnconfirmed(Rule):
    """Mail "from yourself" or a colleague that your own provider did not see leave your company's mail
    system: Klez aimed at the owner, today's boss fraud."""

    id = "sender.own_domain_unconfirmed"
    category = "sender"
    severity = "high"
    title = "Mail that claims to be from your own company was not sent by it"
    explanation = (
        "The mail says it is from {from_addr}, an address of your own company. Your mail provider could not "
        "confirm that it came from your company's mail system. Fraudsters fake the boss's or a "
        "colleague's address to ask for payments."
    )
    advice = (
        "Don't pay, reply or open files. Ask the colleague in person or by phone. Tell the person who runs your mail."
    )
    advice_by_severity = {
        "low": "If it asks for money, files or a password, ask the colleague in person or by phone first.",
    }
    notes = {
        "failed": "The check did not just miss: it failed.",
        "unchecked": "There is no check result from your mail provider on this mail.",
        "forwarded": "It was forwarded on the way, which can break the check.",
        "service": (
            "It came through a mail service. If your firm sends newsletters that way, it may be yours, "
            "and the service should be set up to sign for your domain."
        ),
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = _from(msg)
        if not fa:
            return
        f = facts(msg, ctx)
        if not f.own_from or f.aligned or _is_bounce(msg):
            return
        if ctx.sent_ids and msg.message_id_key and msg.message_id_key in ctx.sent_ids:
            return  # a copy of mail you sent yourself
        ar = f.ar
        notes: list[str] = []
        severity: Severity | None
        if ar.found:
            if f.list_relay:
                return  # your own post, sent back to you by a mailing list
            if ar.dmarc == "fail" or _explicit_fail(ar) or ar.result("spf") == "softfail":
                severity = "high"
                notes.append("failed")
            else:
                severity = "medium"
            if f.arc_pass:
                severity = _lower(severity)
                notes.append("forwarded")
            elif severity == "high" and _via_mail_service(msg, ar, ctx):
                severity = "medium"  # maybe your own newsletter, sent through a service not set up for your domain
                notes.append("service")
        else:
            if not authresults.came_from_outside(msg, ctx.trusted_authserv):
                return  # it never left your provider (mail between colleagues), or it is a local copy
            severity = "low"
            notes.append("unchecked")
        if severity is None:
            return
        yield Hit(
            facts={"from_addr": visible(fa.addr)},
            evidence={
                "From": visible(msg.from_display or msg.header("from")),
                "Return-Path": visible(msg.header("return-path")),
                "Checks by your mail provider": _checks_text(ar, f.from_org) if ar.found else "no result",
            }
            | _auth_evidence(ar),
            notes=tuple(notes),
            severity=severity,
        )


# --- verdicts of the provider's own filters ------------------------------------------------------

_SCL = re.compile(r"\bSCL:\s*(-?\d+)", re.I)
_CAT = re.compile(r"\bCAT:\s*([A-Z]+)", re.I)
_SFTY = re.compile(r"\bSFTY:\s*([\d.]+)", re.I)
_SFV = re.compile(r"\bSFV:\s*([A-Z]+)", re.I)
_RSPAMD_HEAD = re.compile(r"^\s*default:\s*(true|false)\s*\[\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)", re.I)
_RSPAMD_DANGER = re.compile(
    r"\b(PHISHED_\w+|(?:CLAM|ICAP|SAVAPI|FPROT|KAS|AVAST|SOPHOS|ESET)\w*_VIRUS(?!_FAIL)\w*|\w*MALWARE\w*)\s*\(", re.I
)
_SA_SCORE = re.compile(r"score=(-?[\d.]+)\s+required=(-?[\d.]+)", re.I)

_MALWARE_WORDS = "carrying harmful software"
_MS_CATEGORIES = {
    "PHSH": "phishing",
    "HPHSH": "phishing",
    "HPHISH": "phishing",
    "SPOOF": "a faked sender",
    "MALW": _MALWARE_WORDS,
    "UIMP": "a fake of a person",
    "DIMP": "a fake of a company",
    "GIMP": "a fake of a person or company",
    "SPM": "spam",
    "HSPM": "spam",
    "BULK": "bulk mail",
}
_MS_DANGER = {"PHSH", "HPHSH", "HPHISH", "SPOOF", "MALW", "UIMP", "DIMP", "GIMP"}
_SFTY_MEANING = {
    "9.19": "a fake of a company",
    "9.20": "a fake of a person",
}
_VERDICT_HEADERS = (
    "x-spam-flag",
    "x-spam-status",
    "x-spam",
    "x-spamd-result",
    "x-forefront-antispam-report",
    "x-ms-exchange-organization-scl",
)


@register
class ProviderVerdict(Rule):
    """Your provider's own spam and phishing filter already judged the message; its headers are only
    worth reading where the provider wrote them (a sender can add "X-Spam-Status: No" to anything)."""

    id = "sender.provider_verdict"
    category = "sender"
    severity = "medium"
    title = "Your mail provider's filter marked this as {verdict}"
    explanation = "Your mail provider checks all mail when it arrives. Its filter marked this mail as {verdict}."
    advice = "Don't click links or open files. If you expected the mail, check with the sender another way."
    advice_by_severity = {
        "low": "This alone is no reason to worry. Take a little more care with mail from people you don't know.",
        "high": (
            "Treat it as dangerous. Don't click links, open files or reply. If you expected it, check with "
            "the sender another way."
        ),
    }
    notes = {
        "score": "It gave the mail a spam score of {score}. Mail counts as spam from {limit} up.",
        "phishing": "Phishing mail tries to trick you into giving away passwords or money.",
        "first": "Your provider also notes that you have not had mail from this sender before.",
        "report": _REPORT_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        if not any(msg.has(h) for h in _VERDICT_HEADERS):
            return
        # (strength 1 low, 2 medium, 3 high), verdict in words, the filter's code, (score, limit)
        found: list[tuple[int, str, str, tuple[str, str] | None]] = []
        evidence: dict[str, object] = {}
        first_contact = False
        trusted = ctx.trusted_authserv
        for index, (name, raw) in enumerate(msg.headers):
            lname = name.lower()
            if lname not in _VERDICT_HEADERS or not authresults.provider_written(msg, index, trusted):
                continue
            value = " ".join(str(raw).split())
            cast(list[str], evidence.setdefault(name, [])).append(value[:300])  # every value here is a list
            if lname == "x-spam-flag" and value.upper().startswith("YES"):
                found.append((2, "spam", f"{name}: {value[:40]}", None))
            elif lname in ("x-spam-status", "x-spam") and value.lower().startswith("yes"):
                score = _SA_SCORE.search(value)
                code = f"{name}: score {score.group(1)}, limit {score.group(2)}" if score else f"{name}: {value[:40]}"
                found.append((2, "spam", code, (score.group(1), score.group(2)) if score else None))
            elif lname == "x-spamd-result":
                head = _RSPAMD_HEAD.match(value)
                danger = _RSPAMD_DANGER.search(value)
                if danger:
                    symbol = danger.group(1).upper()
                    words = "phishing" if symbol.startswith("PHISHED") else _MALWARE_WORDS
                    found.append((3, words, f"{name}: {danger.group(1)}", None))
                elif head and head.group(1).lower() == "true":
                    found.append((2, "spam", f"{name}: score {head.group(2)}, limit {head.group(3)}",
                                  (head.group(2), head.group(3))))
            elif lname == "x-forefront-antispam-report":
                cat = (_CAT.search(value) or ("", ""))[1].upper()
                sfty = (_SFTY.search(value) or ("", ""))[1]
                scl = _SCL.search(value)
                sfv = (_SFV.search(value) or ("", ""))[1].upper()
                if cat in _MS_DANGER:
                    found.append((3, _MS_CATEGORIES[cat], f"CAT:{cat}", None))
                elif sfty in _SFTY_MEANING:
                    found.append((3, _SFTY_MEANING[sfty], f"SFTY:{sfty}", None))
                elif cat in ("SPM", "HSPM") or sfv == "SPM" or (scl and int(scl.group(1)) >= 5):
                    found.append((2, "spam", f"CAT:{cat or '-'} SCL:{scl.group(1) if scl else '-'}", None))
                if sfty == "9.25":
                    first_contact = True
            elif lname == "x-ms-exchange-organization-scl":
                try:
                    scl_value = int(value.split()[0]) if value else -1
                except ValueError:
                    scl_value = -1
                if scl_value >= 5:
                    found.append((2, "spam", f"SCL {scl_value} of 9", None))
        if not found:
            if first_contact:
                evidence["Filter result"] = ["SFTY:9.25 (first contact)"]
                yield Hit(facts={"verdict": "mail from a new sender"}, evidence=evidence, severity="low")
            return
        found.sort(key=lambda t: -t[0])
        strength, verdict = found[0][:2]
        top = [t for t in found if t[0] == strength]
        evidence["Filter result"] = list(dict.fromkeys(t[2] for t in top))
        notes: list[str] = []
        facts = {"verdict": verdict}
        scored = next((t[3] for t in top if t[3]), None)
        if scored and verdict == "spam":
            facts |= {"score": scored[0], "limit": scored[1]}
            notes.append("score")
        if verdict == "phishing":
            notes.append("phishing")
        if first_contact:
            notes.append("first")
        severity: Severity = "high" if strength >= 3 else "medium"
        if reports.machine_report(msg):
            severity = "low"
            notes.append("report")
        yield Hit(facts=facts, evidence=evidence, notes=tuple(notes), severity=severity)


@register
class FromUnclear(Rule):
    """Two From lines, or several authors from different places: mail programs show one, while checks
    may look at the other — a known way around DMARC."""

    id = "sender.from_unclear"
    category = "sender"
    severity = "low"
    title = "The mail names more than one sender"
    explanation = (
        "The From part of this mail names {count} senders: {senders}. Your mail program may show you only "
        "one of them, while the checks looked at another."
    )
    advice = "Be careful. Check with the sender you know before you act on this mail."
    notes = {"two_lines": "The mail has two separate From lines. Real mail never does that."}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        values = msg.header_all("from")
        if len(values) < 2 and len(msg.from_all) < 2:
            return
        addrs = [a for v in values for a in parse_addresses(v) if "@" in a.addr]
        orgs = {org_domain(ascii_domain(a.domain)) for a in addrs if a.domain}
        if len(orgs) < 2:
            return
        two_lines = len(values) > 1
        if not two_lines and msg.sender:
            return  # several authors and a Sender who sent it for them: what RFC 5322 asks for
        yield Hit(
            facts={"count": str(len(addrs)), "senders": ", ".join(visible(a.addr) for a in addrs[:5])},
            evidence={"From": [visible(v) for v in values]},
            notes=("two_lines",) if two_lines else (),
            severity="medium" if two_lines else "low",
        )


@register
class NameTurnsTextAround(Rule):
    """A sender name with a direction override (U+202E and its kin) makes the text after it show
    backwards: "moc.lapyap@ecivres" reads as an address at paypal.com. Right-to-left names (Arabic,
    Hebrew) need no override; only the marks that flip or isolate text count here."""

    id = "sender.name_turns_text_around"
    category = "sender"
    severity = "medium"
    title = "The sender's name hides characters that turn text around"
    explanation = (
        "The name {name} holds hidden characters that make the text after them show backwards. "
        "It is a trick to make a name or an address look like someone else's."
    )
    advice = "Go by the real address, {real}, not by the name. Don't click links or open files."

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = _from(msg)
        name = fa.name if fa else msg.from_display
        if not name or not any(ord(ch) in BIDI_CONTROLS for ch in name):
            return
        yield Hit(facts={"name": visible(name), "real": visible(fa.addr) if fa else "?"},
                  evidence={"From": visible(msg.from_display or msg.header("from"))})
