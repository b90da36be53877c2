"""backscatter rules: bounces, virus warnings, complaints and auto-replies for mail the user never sent.

Klez and its successors send mail in the name of someone from the infected machine's address book.
That person then gets the reactions: "Undeliverable" notices, "VIRUS found in a message you sent",
abuse reports, out-of-office replies and angry "stop sending me viruses" mails, though their own
computer is clean. These rules tell such backscatter from the reactions to mail the user did send.

The judgement needs the user's sent mail (`ctx.sent_ids`). Without it every rule stays silent: a
bounce is a normal part of mail (a mistyped address, a full mailbox), and calling each one "fake"
on a guess would cry wolf. A returned executable still gets the attachment rules' findings.
"""

from collections.abc import Iterator

from klezguard.core import bounces
from klezguard.core.bounces import ABUSE_REPORT, AUTOREPLY, BOUNCE, COMPLAINT, RECEIPT, VIRUS, Notice
from klezguard.core.context import Context
from klezguard.core.domains import is_freemail, org_domain
from klezguard.core.headers import first_address
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, register

_NOT_SENT = "But you never sent that message: it is not in your sent mail."
_FINE = "Your own computer is probably fine."
_SPF = (
    "If many of these arrive, ask your mail provider to set up SPF, DKIM and DMARC for your domain. "
    "Then other servers can turn the fakes away."
)
_NOTES = {
    "by_recipient": "The notice does not show the message's ID. But you have never written to {orig_to}, "
    "so the message was not yours.",
    "delay": "This is only a delay warning, so more notices about the same fake may follow.",
    "returned_file": "The copy that came back still carries the file {files}. Do not open it.",
    "envelope": "The fake used {orig_from} as its sender, but gave your address for error notices. "
    "That is why the notice came to you.",
}


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


class _Backscatter(Rule):
    """Shared judgement: the notice's original is checked against the user's sent mail."""

    kinds: frozenset[str] = frozenset()

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        if not ctx.knows_sent:
            return  # nothing to compare with: stay silent (see the module docstring)
        notice = bounces.analyse(msg)
        if notice is None or notice.kind not in self.kinds:
            return
        basis = _basis(notice, msg, ctx)
        if basis is None:
            return
        yield self.hit(notice, msg, ctx, basis)

    def hit(self, notice: Notice, msg: Message, ctx: Context, basis: str) -> Hit:
        facts, evidence, notes = _facts(notice, msg, ctx, basis)
        return Hit(facts=facts, evidence=evidence, notes=tuple(notes), severity=self.severity_for(notice, basis))

    def severity_for(self, notice: Notice, basis: str) -> str | None:
        return None


def _basis(notice: Notice, msg: Message, ctx: Context) -> str | None:
    """'id' or 'recipient' when the original was not sent by the user; None when it was, or unclear."""
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
    ids = notice.candidate_ids
    if ids:
        return None if any(i in sent for i in ids) else "id"
    if notice.kind == COMPLAINT and notice.fmt != "strong":
        return None  # "who are you?" without a reference is too weak to judge
    if notice.kind in (AUTOREPLY, COMPLAINT):
        people = [notice.reporter]
    else:
        people = notice.original_recipients
    people = [p for p in people if p]
    if not people:
        return None
    for person in people:
        if _own(ctx, person) or _known_contact(ctx, person, by_domain=notice.kind in reply_kinds):
            return None
    return "recipient"


def _facts(notice: Notice, msg: Message, ctx: Context, basis: str) -> tuple[dict, dict, list[str]]:
    orig = notice.original
    recipients = notice.original_recipients
    if notice.kind in (AUTOREPLY, COMPLAINT, RECEIPT):
        recipients = [r for r in recipients if r != notice.reporter] or ([notice.reporter] if notice.reporter else [])
    orig_from = orig.from_addr.addr if orig.from_addr else ""
    envelope = bool(orig_from) and not _own(ctx, orig_from) and notice.kind in (BOUNCE, VIRUS, ABUSE_REPORT)
    forged = orig_from if orig_from and not envelope else _victim(msg, ctx) or orig_from
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
    }
    notes = []
    if basis == "recipient":
        notes.append("by_recipient")
    if notice.is_delay:
        notes.append("delay")
    if orig.files:
        notes.append("returned_file")
    if envelope:
        notes.append("envelope")
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
    return facts, evidence, notes


@register
class BounceForUnsentMail(_Backscatter):
    """A bounce for a message the user never sent: a worm or spammer forged the user's address."""

    id = "backscatter.bounce_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({BOUNCE})
    title = "Bounce for mail you never sent"
    explanation = (
        "This is an error notice from the mail server {reporter}. It says {what} {outcome}. "
        f"{_NOT_SENT} Someone else's computer sent it in your name ({{forged_from}}). "
        f"This is called backscatter. {_FINE}"
    )
    advice = f"Do not reply to it and do not send it back. Delete it, or leave it in quarantine. {_SPF}"
    notes = _NOTES


@register
class VirusWarningForUnsentMail(_Backscatter):
    """A virus scanner blames the user for infected mail that a worm sent in their name."""

    id = "backscatter.virus_warning_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({VIRUS})
    title = "Virus warning about mail you never sent"
    explanation = (
        "A virus scanner at {reporter} says that {what} carried {virus}. "
        f"{_NOT_SENT} A virus on someone else's computer sent it in your name ({{forged_from}}). "
        f"Worms like Klez do this. {_FINE}"
    )
    advice = (
        "Do not reply, and do not open any file in it. Delete it. To be safe, you can run your virus "
        f"scanner once. {_SPF}"
    )
    notes = _NOTES


@register
class ComplaintForUnsentMail(_Backscatter):
    """A person complains about a virus or spam that came in the user's name but not from them."""

    id = "backscatter.complaint_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({COMPLAINT})
    title = "Complaint about mail you never sent"
    explanation = (
        "{person} complains about {what} from you. "
        f"{_NOT_SENT} Someone else's computer sent it in your name ({{forged_from}}). {_FINE}"
    )
    advice = (
        "You do not have to reply. If you know this person, you can tell them that someone faked your "
        f"address. Do not open any file they send back. {_SPF}"
    )
    notes = {**_NOTES, "by_recipient": "You have never written to {person}, so the mail was not yours."}


@register
class AbuseReportForUnsentMail(_Backscatter):
    """A provider's spam report (feedback loop) about mail forged in the user's name."""

    id = "backscatter.abuse_report_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({ABUSE_REPORT})
    title = "Spam report about mail you never sent"
    explanation = (
        "This is a spam report from {person}. One of their users got {what} and marked it as spam. "
        f"{_NOT_SENT} Someone else's computer sent it in your name ({{forged_from}}). {_FINE}"
    )
    advice = f"You do not need to answer it. Delete it. {_SPF}"
    notes = _NOTES


@register
class AutoReplyForUnsentMail(_Backscatter):
    """Out-of-office replies and read receipts answering mail that was forged in the user's name."""

    id = "backscatter.autoreply_for_unsent_mail"
    category = "backscatter"
    severity = "medium"
    kinds = frozenset({AUTOREPLY, RECEIPT})
    title = "Auto-reply to mail you never sent"
    explanation = (
        "This is an automatic reply from {person} to {what} from you. "
        f"{_NOT_SENT} Someone else's computer sent it in your name ({{forged_from}}). {_FINE}"
    )
    advice = f"Do not reply to it. Delete it. {_SPF}"
    notes = {
        **_NOTES,
        "by_recipient": "The reply does not say which message it answers. But you have never written "
        "to {person}.",
        "receipt": "It is a read receipt: it only says that someone opened the fake.",
    }

    def hit(self, notice: Notice, msg: Message, ctx: Context, basis: str) -> Hit:
        hit = super().hit(notice, msg, ctx, basis)
        if notice.kind == RECEIPT:
            hit.notes = (*hit.notes, "receipt")
        return hit

    def severity_for(self, notice: Notice, basis: str) -> str | None:
        # Without a reference, an automatic answer may come from a help desk you contacted on the web.
        return "low" if basis == "recipient" else None
