"""correspondent rules: mail judged against the user's own history with the sender.

Klez sent mail *as someone the reader knew*, from an infected stranger's computer. Only the history
can see that: this address's mail was always signed by its firm and came through its firm's provider,
and this one was not and did not.
"""

from collections.abc import Iterator

from klezguard.core import authresults
from klezguard.core.context import Context
from klezguard.core.correspondents import Arrival, Contact, arrival
from klezguard.core.domains import org_domain, unicode_domain
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, Severity, register
from klezguard.rules.sender import facts

KNOWN_MAILBOX = 10  # first contact means something only once the memory knows this many correspondents

_KIND_WORDS = {
    "dkim": "signed by {value}",
    "spf": "sent from a server that {value} allows",
    "host": "handed over by {value}",
    "msgid": "with a message number from {value}",
    "mailer": "written with {value}",
}


def _said(kind: str, value: str) -> str:
    if kind == "dkim" and value == "-":
        return "not signed by any domain your provider could check"
    if kind == "spf" and value == "-":
        return "sent from a server that their domain does not name as its own"
    if kind == "host" and value == "unnamed":
        return "handed over by a computer with no name on the internet (often a home or hijacked computer)"
    if kind in ("dkim", "host", "msgid"):
        value = unicode_domain(value)
    return _KIND_WORDS[kind].format(value=value)


def changes(c: Contact, seen: Arrival) -> tuple[list[str], bool]:
    """(kinds of path that differ from this correspondent's habit, their signature confirms it anyway)."""
    own_org = org_domain(c.domain)
    signed = c.usual("dkim")
    if seen.checked and (any(org_domain(d) == own_org for d in seen.dkim) or (signed and signed[0] in seen.dkim)):
        return [], True  # signed as always, or by their own domain after a move: theirs
    found = []
    if seen.checked and signed and signed[0] != "-" and (seen.dkim or not seen.dkim_unsure):
        found.append("dkim")
    allowed = c.usual("spf")  # their server always passed SPF for their domain, and this one did not
    if seen.checked and allowed and allowed[0] != "-" and allowed[0] not in seen.spf and own_org not in seen.spf:
        found.append("spf")
    for kind, value in (("host", seen.host), ("msgid", seen.msgid), ("mailer", seen.mailer)):
        usual = c.usual(kind)
        if usual and value and value != usual[0] and not c.seen(kind, value):
            found.append(kind)
    return found, False


def _severity(found: list[str], seen: Arrival) -> Severity | None:
    """How strong the change is. A phone instead of the desktop changes the program only; a signature
    broken once on the usual way (a disclaimer added by a gateway) changes nothing else; a new provider
    without a signature changes the hop and the numbering but comes from a named server. A server that no
    longer passes the SPF check their own server always passed is sending from elsewhere."""
    path = [k for k in found if k not in ("dkim", "spf")]
    if "spf" in found:
        return "high" if ("dkim" in found or "host" in found) else "medium"
    if "dkim" in found:
        if "host" in path or len(path) >= 2:
            return "high"
        # signed, but by another domain than ever before: no gateway breaking a signature does that
        return "medium" if (path or seen.dkim) else None
    if "host" not in found:
        return None
    if len(found) >= 3:
        return "high" if seen.host == "unnamed" else "medium"
    if len(found) == 2 and seen.host == "unnamed":
        return "medium"
    return None


def _now(seen: Arrival, kind: str) -> str:
    if kind in ("dkim", "spf"):
        orgs = seen.dkim if kind == "dkim" else seen.spf
        return orgs[0] if orgs else "-"
    return str(getattr(seen, kind))


@register
class ContactWrongPath(Rule):
    """A known correspondent's address, on mail that did not travel the way theirs always does."""

    id = "sender.contact_wrong_path"
    category = "sender"
    severity = "medium"
    title = "Mail from {address} did not come the way their mail always comes"
    explanation = (
        "You know {address}. Their mail so far was {usual}. This one was {now}. Someone may be sending mail "
        "in their name, or their computer or mailbox may be broken into."
    )
    advice = (
        "Don't open its files or links and don't pay anything because of it. Ask {address} by phone or in a "
        "new mail if they really sent it."
    )
    notes = {
        "innocent": "Only if they told you they moved to a new mail provider is this fine.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        memory = ctx.memory
        fa = msg.from_addr
        if memory is None or fa is None:
            return
        c = memory.get(fa.addr)
        if c is None or c.received < 3:
            return
        f = facts(msg, ctx)
        if f.list_relay or f.own_from:
            return  # a list (confirmed by its own domain) or your own mail goes its own ways
        seen = arrival(msg, ctx.trusted_authserv)
        if seen is None:
            return
        found, _ = changes(c, seen)
        severity = _severity(found, seen)
        if severity is None:
            return
        usual = [_said(kind, u[0]) for kind in ("dkim", "spf", "host", "msgid", "mailer") if (u := c.usual(kind))]
        now = [_said(kind, _now(seen, kind)) for kind in found]
        evidence: dict[str, object] = {"From": visible(msg.header("from"))}
        _, end = authresults.provider_zone(msg, ctx.trusted_authserv)
        entry = [v for n, v in msg.headers[:end] if n.lower() == "received"][-1:] if end else []
        if entry:
            evidence["Received (where it came in)"] = visible(" ".join(str(entry[0]).split()))
        for header in ("message-id", "x-mailer", "user-agent"):
            if msg.header(header):
                evidence[header.title()] = visible(msg.header(header))
        evidence["Usual until now"] = "; ".join(usual)
        yield Hit(
            facts={"address": visible(fa.addr), "usual": ", ".join(usual) or "?", "now": ", ".join(now)},
            evidence=evidence,
            notes=("innocent",) if severity == "medium" else (),
            severity=severity,
        )


@register
class FirstContact(Rule):
    """Context, never a verdict: a sender the user has never written to nor heard from. It weighs only
    where another finding already warns (the engine drops it when it stands alone)."""

    id = "sender.first_contact"
    category = "sender"
    severity = "low"
    context_only = True
    title = "You have never had mail from {address} before"
    explanation = (
        "You have never written to {address} and never had mail from it. That alone is normal. But together "
        "with the other warnings here it makes this mail more likely to be fake."
    )
    advice = "Be careful with what this mail asks. If it says it is from someone you know, check with them first."

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        memory = ctx.memory
        fa = msg.from_addr
        if memory is None or fa is None or "@" not in fa.addr or memory.known_count() < KNOWN_MAILBOX:
            return
        if memory.get(fa.addr) is not None or fa.addr.lower() in ctx.correspondents:
            return
        if facts(msg, ctx).own_from or msg.is_mailing_list:
            return
        yield Hit(facts={"address": visible(fa.addr)}, evidence={"From": visible(msg.header("from"))})
