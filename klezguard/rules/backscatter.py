"""backscatter rules: bounces, virus warnings, complaints and auto-replies for mail the user never sent.

Klez and its successors send mail in the name of someone from the infected machine's address book.
That person then gets the reactions: "Undeliverable" notices, "VIRUS found in a message you sent",
abuse reports, out-of-office replies and angry "stop sending me viruses" mails, though their own
computer is clean. Spam sent through a stolen mail login leaves the same trail (it is not in the sent
mail either), so the texts name both readings. These rules tell such backscatter from the reactions
to mail the user did send, and from reactions to mail that services send in the user's name (web
shops, newsletter and invoicing tools, web forms), which is never in the sent mail: see `judge`.

The judgement needs the user's sent mail (`ctx.sent_ids`). Without it every rule stays silent: a
bounce is a normal part of mail (a mistyped address, a full mailbox), and calling each one "fake"
on a guess would cry wolf. A returned executable still gets the attachment rules' findings."""

from collections.abc import Iterator
from dataclasses import dataclass

from klezguard.core import bounces
from klezguard.core.bounces import ABUSE_REPORT, AUTOREPLY, BOUNCE, COMPLAINT, RECEIPT, VIRUS, Notice
from klezguard.core.context import Context
from klezguard.core.domains import is_freemail, is_ip, org_domain
from klezguard.core.headers import first_address
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, Severity, register

_NOT_SENT = "We can't find that message in your sent mail."
_IN_YOUR_NAME = "So someone may have sent it in your name ({forged_from})."
_READINGS = (
    "Most often a stranger just put your address on their mail. Then your own computer is fine. "
    "But it can also mean that someone knows your mail password."
)
_ADVICE_TAIL = (
    "If more of these come, change your mail password. Also ask your mail provider to protect your "
    "domain from fakes. They will know it as SPF, DKIM and DMARC."
)
_NOTES = {
    "by_recipient": "The notice does not show the message's ID. But you have never written to {orig_to}.",
    "delay": "This is only a delay warning, so more notices about the same fake may follow.",
    "returned_file": "The copy that came back still carries the file {files}. Do not open it.",
    "envelope": "The fake used {orig_from} as its sender, but gave your address for error notices. "
    "That is why the notice came to you.",
    "machine": "The ID of that message names a single computer ({id_host}), not a mail server. "
    "Worms and spam programs write IDs like this.",
    "service": "Do you use a web shop, a newsletter tool or a web form that sends mail for you? "
    "Then it may be about their mail.",
    "service_named": "That message was sent through {service}, not from your own mail program. If you use "
    "{service} to send mail (a web shop, newsletter or invoice tool), it was likely theirs.",
    "hacked": "{person} thinks your mail account was hacked. To be safe, change your mail password now.",
    "by_recipient_named": "It names that message, but it is not in your sent mail, and you have never written "
    "to {person}.",
    "challenge": "A spam filter is holding that mail until the sender confirms it. Do not click its link or "
    "reply to it: that would deliver the fake in your name.",
}
# Host names in Message-IDs that name no mail domain: a computer's own name, a private network.
_LOCAL_SUFFIXES = (".local", ".localdomain", ".lan", ".home", ".internal", ".intranet", ".workgroup")


def _own(ctx: Context, addr: str) -> bool:
    addr = addr.lower()
    return bool(addr) and (ctx.is_own_address(addr) or ctx.is_own_domain(addr.rpartition("@")[2]))


def _known_contact(ctx: Context, addr: str, by_domain: bool) -> bool:
    """Someone the user wrote to (by address; by organisation too, unless it is a free-mail domain)."""
    addr = addr.lower()
    if addr in ctx.correspondents:
        return True
    domain = addr.rpartition("@")[2]
    return by_domain and bool(domain) and not is_freemail(domain) and org_domain(domain) in ctx.correspondent_domains


def _victim(msg: Message, ctx: Context) -> str:
    """The user's address the fake was sent in the name of (where the notice was delivered)."""
    candidates = [a.addr for a in msg.to]
    for name in ("delivered-to", "x-original-to"):
        a = first_address(msg.header(name))
        if a is not None:
            candidates.append(a.addr)
    for addr in candidates:
        if _own(ctx, addr):
            return addr
    return candidates[0] if candidates else ""


def _list(values: list[str], limit: int = 3) -> str:
    shown = ", ".join(visible(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" (+{len(values) - limit})"
    return shown


def id_origin(message_id: str, ctx: Context) -> tuple[str, str]:
    """Who wrote a Message-ID, by its host part: 'machine' (a computer's own name, as worms and spam
    programs write it), 'own' (your domain itself), 'own_sub' (a sub-domain of yours, as mail services
    use when they send for you), or 'foreign' (a service's or someone else's domain); and the host."""
    host = message_id.rpartition("@")[2].strip("[]").rstrip(".").lower()
    if not host or "." not in host or is_ip(host) or host.endswith(_LOCAL_SUFFIXES):
        return "machine", host
    if ctx.is_own_domain(host):
        return ("own" if org_domain(host) == host else "own_sub"), host
    return "foreign", host


@dataclass
class Judgement:
    """Why a notice is about mail the user did not send, and how sure that is."""

    basis: str  # "id": its Message-ID is not in the sent mail; "recipient": it went to a stranger
    severity: Severity
    origin: str = ""  # see id_origin; '' when the notice names no Message-ID
    id_host: str = ""
    service: str = ""  # the mail service that seems to have sent the original ('' when none is known)
    forged_copy: bool = False  # a returned copy with the user's address, unsigned, from a home computer


def judge(notice: Notice, msg: Message, ctx: Context) -> Judgement | None:
    """None when the original was sent by the user (or it cannot be told); else how sure we are.

    Medium needs a sign of forgery: a Message-ID made on a single computer or in the user's own domain,
    a returned copy with the user's address that no service signed and a home computer handed over, or a
    virus warning or "you were hacked" complaint. Mail
    that services send in the user's name (web shops, newsletter tools, invoicing tools, web forms) is
    never in the sent mail either; they use their own domains or a sub-domain and sign their mail, so
    reactions to it are at most low, and replies to it (auto-replies, "unsubscribe me") are quiet.
    """
    orig = notice.original
    sent = ctx.sent_ids or frozenset()
    reply_kinds = (AUTOREPLY, COMPLAINT, RECEIPT)
    if notice.kind in reply_kinds and _own(ctx, notice.reporter):
        return None  # your own (or a colleague's) auto-reply or receipt
    if notice.kind == BOUNCE and bounces.is_postmaster_copy(msg.subject):
        return None  # a server copy for the admin, about someone else's mail
    if notice.kind == VIRUS:
        if notice.direction == "to_you":
            return None  # a scanner telling you it stopped a virus sent TO you: not backscatter
        if notice.direction != "from_you" and not (orig.from_addr and _own(ctx, orig.from_addr.addr)):
            return None
    if any(_own(ctx, s) for s in orig.signers):
        return None  # signed or submitted by your own server: sent by you from another device
    weak = notice.kind == COMPLAINT and notice.fmt != "strong"
    strong_words = notice.kind == VIRUS or (notice.kind == COMPLAINT and not weak)
    signer = next((org_domain(s) for s in orig.signers if "@" not in s), "")
    # A returned copy with your address that no mail service signed: sent by some other computer. A
    # computer that gave a bare name ("User", "PC-USER") or your own domain as its name is a forger's.
    unsigned_copy = (
        notice.kind in (BOUNCE, VIRUS, ABUSE_REPORT)
        and orig.source in ("rfc822", "text")
        and orig.from_addr is not None
        and _own(ctx, orig.from_addr.addr)
        and not orig.signers
    )
    forged_copy = unsigned_copy and any(_bot_name(r, ctx) for r in orig.relays)
    ids = notice.candidate_ids
    if ids:
        if any(i in sent for i in ids):
            return None
        origin, host = id_origin(ids[0], ctx)
        severity: Severity
        if origin in ("machine", "own"):
            severity = "medium"
        elif notice.kind in (AUTOREPLY, RECEIPT) or weak:
            if origin == "foreign":
                return None  # a reply to a shop's or newsletter tool's mail
            severity = "low"
        elif notice.kind == COMPLAINT:
            severity = "medium"  # a person says mail "from you" carried a virus or came from a hacked account
        else:
            severity = "medium" if forged_copy else "low"
        judgement = Judgement("id", severity, origin, host)
    else:
        if weak:
            return None  # "who are you?" without a reference is too weak to judge
        people = [notice.reporter] if notice.kind in (AUTOREPLY, COMPLAINT) else notice.original_recipients
        if not people and notice.kind == VIRUS and notice.direction == "from_you":
            people = [notice.reporter]  # the scanner of the firm that got it wrote the warning
        people = [p for p in people if p]
        if not people:
            return None
        by_domain = notice.kind in reply_kinds or notice.kind == VIRUS
        for person in people:
            if _own(ctx, person) or _known_contact(ctx, person, by_domain=by_domain):
                return None
        judgement = Judgement("recipient", "medium" if strong_words or forged_copy else "low")
    judgement.forged_copy = forged_copy
    if weak and not (notice.fmt == "spam" and judgement.origin in ("machine", "own")):
        judgement.severity = "low"  # "take me off your list": a shop's or newsletter tool's mail, likely
    if notice.challenge and judgement.severity == "low" and not signer:
        judgement.severity = "medium"  # a filter holds a fake in your name until "you" confirm it
    if signer:
        if not (notice.kind == COMPLAINT and strong_words):
            judgement.severity = "low"
        judgement.service = signer
    elif judgement.origin in ("own_sub", "foreign") and (judgement.severity == "low" or notice.kind == COMPLAINT):
        judgement.service = org_domain(judgement.id_host) if judgement.origin == "foreign" else judgement.id_host
    return judgement


def _bot_name(name: str, ctx: Context) -> bool:
    """A name a mail server would not give itself: one word, an address, or the user's bare domain."""
    if not name or name in ("unknown", "localhost") or "." not in name or is_ip(name):
        return True
    return name.endswith(_LOCAL_SUFFIXES) or (ctx.is_own_domain(name) and org_domain(name) == name)


class _Backscatter(Rule):
    """Shared judgement: the notice's original is checked against the user's sent mail."""

    kinds: frozenset[str] = frozenset()
    advice_by_note = {
        "challenge": "Do not click its confirm link and do not reply: either would deliver the fake in your name. "
        f"Just delete it. {_ADVICE_TAIL}",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        if not ctx.knows_sent:
            return  # nothing to compare with: stay silent (see the module docstring)
        notice = bounces.analyse(msg)
        if notice is None or notice.kind not in self.kinds:
            return
        judgement = judge(notice, msg, ctx)
        if judgement is None:
            return
        yield self.hit(notice, msg, ctx, judgement)

    def hit(self, notice: Notice, msg: Message, ctx: Context, judgement: Judgement) -> Hit:
        facts, evidence, notes = _facts(notice, msg, ctx, judgement)
        return Hit(facts=facts, evidence=evidence, notes=tuple(notes), severity=judgement.severity)


def _facts(notice: Notice, msg: Message, ctx: Context,
           judgement: Judgement) -> tuple[dict[str, str], dict[str, object], list[str]]:
    orig = notice.original
    basis = judgement.basis
    recipients = notice.original_recipients
    if notice.kind in (AUTOREPLY, COMPLAINT, RECEIPT):
        recipients = [r for r in recipients if r != notice.reporter] or ([notice.reporter] if notice.reporter else [])
    orig_from = orig.from_addr.addr if orig.from_addr else ""
    envelope = bool(orig_from) and not _own(ctx, orig_from) and notice.kind in (BOUNCE, VIRUS, ABUSE_REPORT)
    forged = orig_from if orig_from and _own(ctx, orig_from) else _victim(msg, ctx) or orig_from
    subject = orig.subject.strip()
    what = "a message"
    if subject:
        what += f' called "{visible(subject[:120])}"'
    if recipients and notice.kind not in (AUTOREPLY, COMPLAINT, RECEIPT):
        what += f" to {_list(recipients, 2)}"
    reporter = notice.reporting_mta or (msg.from_addr.domain if msg.from_addr else "") or "another server"
    virus = notice.virus
    if virus.startswith("banned file "):
        virus_phrase = f"a blocked file ({visible(virus[12:])})"
    elif virus:
        virus_phrase = f"a virus ({visible(virus)})"
    else:
        virus_phrase = "a virus"
    person = msg.from_addr.addr if msg.from_addr else notice.reporter or "someone"
    if notice.is_delay:
        outcome = "is delayed"
    elif notice.action in ("delivered", "relayed", "expanded"):
        outcome = "was delivered"
    else:
        outcome = "could not be delivered"
    facts = {
        "what": what,
        "forged_from": visible(forged) or "your address",
        "orig_from": visible(orig_from),
        "orig_to": _list(recipients) or "?",
        "reporter": visible(reporter),
        "virus": virus_phrase,
        "person": visible(person),
        "files": _list(orig.files),
        "outcome": outcome,
        "sent_words": "you never sent" if judgement.severity != "low" else "not in your sent mail",
        "id_host": visible(judgement.id_host),
        "service": visible(judgement.service),
    }
    notes = []
    if basis == "recipient":
        notes.append("by_recipient_named" if subject and notice.kind in (AUTOREPLY, COMPLAINT, RECEIPT)
                     else "by_recipient")
    if notice.challenge:
        notes.append("challenge")
    if notice.is_delay:
        notes.append("delay")
    if orig.files:
        notes.append("returned_file")
    if envelope:
        notes.append("envelope")
    if judgement.origin == "machine":
        notes.append("machine")
    elif judgement.service:
        notes.append("service_named")
    elif not (judgement.forged_copy or notice.kind == VIRUS or (notice.kind == COMPLAINT and notice.fmt == "strong")):
        notes.append("service")
    if notice.hacked:
        notes.append("hacked")
    evidence: dict[str, object] = {"Notice from": visible(msg.from_display) or "?"}
    if notice.reporting_mta:
        evidence["Reporting server"] = visible(notice.reporting_mta)
    if notice.candidate_ids:
        evidence["Original Message-ID"] = [f"<{i}>" for i in notice.candidate_ids[:3]]
        evidence["In your sent mail"] = "no"
    if orig_from:
        evidence["Original From"] = visible(str(orig.from_addr))
    if orig.to:
        evidence["Original To"] = _list(orig.to, 5)
    if subject:
        evidence["Original Subject"] = visible(subject)
    if orig.date:
        evidence["Original Date"] = orig.date
    if notice.failed_recipients and notice.kind in (BOUNCE, VIRUS):
        evidence["Failed recipients"] = _list(notice.failed_recipients, 5)
    if notice.status:
        evidence["Status"] = notice.status + (f" ({notice.action})" if notice.action else "")
    if notice.diagnostic:
        evidence["Diagnostic"] = visible(notice.diagnostic)
    if notice.virus:
        evidence["Virus"] = visible(notice.virus)
    if orig.files:
        evidence["Returned files"] = [visible(f) for f in orig.files]
    if basis == "recipient":
        evidence["Never written to"] = _list(recipients, 5)
    if judgement.service:
        evidence["Sent through"] = visible(judgement.service)
    return facts, evidence, notes


@register
class BounceForUnsentMail(_Backscatter):
    """A bounce for a message the user never sent: a worm or spammer forged the user's address (or sent
    it through the user's account with a stolen password)."""

    id = "backscatter.bounce_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({BOUNCE})
    title = "Bounce for mail {sent_words}"
    explanation = (
        "This is an error notice from the mail server {reporter}. It says {what} {outcome}. "
        f"{_NOT_SENT} {_IN_YOUR_NAME} {_READINGS}"
    )
    advice = f"Do not reply to it and do not send it back. Delete it, or leave it in quarantine. {_ADVICE_TAIL}"
    notes = {
        **_NOTES,
        "service": _NOTES["service"] + " Then the address {orig_to} may just be wrong.",
        "service_named": _NOTES["service_named"] + " Then the address {orig_to} may just be wrong.",
    }


@register
class VirusWarningForUnsentMail(_Backscatter):
    """A virus scanner blames the user for infected mail that a worm sent in their name."""

    id = "backscatter.virus_warning_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({VIRUS})
    title = "Virus warning about mail {sent_words}"
    explanation = (
        "A virus scanner at {reporter} says that {what} carried {virus}. "
        f"{_NOT_SENT} So a virus on someone else's computer may have sent it in your name ({{forged_from}}). "
        "Worms like Klez do this, and then your own computer is fine. But it can also mean that someone "
        "knows your mail password."
    )
    advice = (
        "Do not reply, and do not open any file in it. Delete it. To be safe, you can run your virus "
        f"scanner once. {_ADVICE_TAIL}"
    )
    notes = _NOTES


@register
class ComplaintForUnsentMail(_Backscatter):
    """A person complains about a virus or a hacked account: mail that came in the user's name but is not
    in their sent mail. "Stop sending me this" alone is what newsletter readers say, so it counts little."""

    id = "backscatter.complaint_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({COMPLAINT})
    title = "Complaint about mail {sent_words}"
    explanation = f"{{person}} complains about {{what}} from you. {_NOT_SENT} {_IN_YOUR_NAME} {_READINGS}"
    advice = (
        "You do not have to reply. If you know this person, you can tell them that someone faked your "
        f"address. Do not open any file they send back. {_ADVICE_TAIL}"
    )
    notes = {**_NOTES, "by_recipient": "You have never written to {person} before."}


@register
class AbuseReportForUnsentMail(_Backscatter):
    """A provider's spam report (feedback loop) about mail forged in the user's name."""

    id = "backscatter.abuse_report_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({ABUSE_REPORT})
    title = "Spam report about mail {sent_words}"
    explanation = (
        "This is a spam report from {person}. One of their users got {what} and marked it as spam. "
        f"{_NOT_SENT} {_IN_YOUR_NAME} {_READINGS}"
    )
    advice = f"You do not need to answer it. Delete it. {_ADVICE_TAIL}"
    notes = _NOTES


@register
class AutoReplyForUnsentMail(_Backscatter):
    """Out-of-office replies and read receipts answering mail that was forged in the user's name."""

    id = "backscatter.autoreply_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({AUTOREPLY, RECEIPT})
    title = "Auto-reply to mail {sent_words}"
    explanation = (
        "This is an automatic reply from {person} to {what} from you. "
        f"{_NOT_SENT} {_IN_YOUR_NAME} {_READINGS}"
    )
    advice = f"Do not reply to it. Delete it. {_ADVICE_TAIL}"
    notes = {
        **_NOTES,
        "by_recipient": "The reply does not say which message it answers. But you have never written "
        "to {person}.",
        "receipt": "It is a read receipt: it only says that someone opened the fake.",
    }

    def hit(self, notice: Notice, msg: Message, ctx: Context, judgement: Judgement) -> Hit:
        hit = super().hit(notice, msg, ctx, judgement)
        if notice.kind == RECEIPT:
            hit.notes = (*hit.notes, "receipt")
        return hit
