"""Recognises mail that reacts to a message the user (apparently) sent, and what that message was.

Bounces (RFC 3464 reports and the common plain-text formats of qmail, Exim, Postfix, Sendmail,
Exchange, Lotus Notes, Gmail, Yahoo, GroupWise), virus warnings from other servers' scanners, abuse
reports (RFC 5965), read receipts (RFC 8098), out-of-office replies and people's "stop sending me
viruses" complaints all point back at an original message. When worms like Klez forge the user's
address, all of these arrive for mail the user never sent: that is backscatter.

`analyse(msg)` says which kind of notice a message is and extracts what it knows of the original:
its Message-ID, From, To, Subject and Date, the failed recipients, the status and diagnostic, the
reporting server and, for virus warnings, the virus name. It knows nothing about the user; whether
the original was really sent is judged by the rules against the user's sent mail.

Only the first `fetchplan.TEXT_BYTES` of each part are read, as in a partial view, so the answer is
the same for a whole message and for what the IMAP scanner fetched.
"""

import email.parser
import email.policy
import functools
import re
import weakref
from dataclasses import dataclass, field

from klezguard.core.fetchplan import TEXT_BYTES
from klezguard.core.headers import Address, decode_bytes, decode_words, message_ids, parse_addresses, to_text, unfold
from klezguard.core.message import Message, Part

BOUNCE = "bounce"
VIRUS = "virus"
COMPLAINT = "complaint"
ABUSE_REPORT = "abuse_report"
AUTOREPLY = "autoreply"
RECEIPT = "receipt"
KINDS = (BOUNCE, VIRUS, COMPLAINT, ABUSE_REPORT, AUTOREPLY, RECEIPT)

MAX_ITEMS = 20  # recipients, ids, file names: enough for evidence, bounded for absurd notices

_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_MDN_TYPES = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
_ARF_TYPES = frozenset({"message/feedback-report"})
_ORIGINAL_TYPES = frozenset(
    {"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers", "message/rfc822-headers"}
)


@dataclass
class Original:
    """What a notice tells about the message it is about."""

    message_ids: list[str] = field(default_factory=list)  # lower case, without angle brackets
    from_addr: Address | None = None
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: str = ""
    files: list[str] = field(default_factory=list)  # attachment names in a returned message/rfc822 copy
    signers: list[str] = field(default_factory=list)  # DKIM d= domains and authenticated senders
    source: str = ""  # where the headers came from: "rfc822", "text", "fields"


@dataclass
class Notice:
    """A message recognised as a reaction to some original message."""

    kind: str  # one of KINDS
    fmt: str  # "dsn", "qmail", "exim", "postfix", "sendmail", "exchange", "lotus", "gmail", ...
    original: Original
    references: list[str] = field(default_factory=list)  # the notice's own In-Reply-To / References
    failed_recipients: list[str] = field(default_factory=list)
    action: str = ""  # DSN action: failed, delayed, delivered, relayed, expanded
    status: str = ""
    diagnostic: str = ""
    reporting_mta: str = ""
    virus: str = ""
    direction: str = ""  # virus warnings: "from_you" (about mail you sent), "to_you", "" (unclear)
    reporter: str = ""  # address of whoever sent the notice

    @property
    def candidate_ids(self) -> list[str]:
        """Every Message-ID that may name the original (the returned copy's first)."""
        out = list(self.original.message_ids)
        for i in self.references:
            if i not in out:
                out.append(i)
        return out

    @property
    def original_recipients(self) -> list[str]:
        out: list[str] = []
        for a in [*self.original.to, *self.failed_recipients]:
            a = a.lower()
            if "@" in a and a not in out:
                out.append(a)
        return out[:MAX_ITEMS]

    @property
    def is_delay(self) -> bool:
        return self.kind == BOUNCE and (self.action == "delayed" or self.status.startswith("4."))


# --- signals ----------------------------------------------------------------------------------

_MTA_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|mdaemon|mail[-_.]?delivery(?:[-_.]?system)?|"
    r"maildelivery|mail[-_.]?system|mail[-_.]?admin(?:istrator)?|bounces?|mailer)$",
    re.I,
)
_MTA_NAME = re.compile(
    r"mailer[- ]?daemon|mail delivery|delivery (?:subsystem|system|service)|postmaster|mail administrator|"
    r"mail system|microsoft outlook|microsoft exchange|lotus notes|domino|groupwise",
)
_AV_SENDER = re.compile(
    r"amavis|virus|anti-?vir|mailscanner|smsmse|scanmail|interscan|mcafee|symantec|trend ?micro|sophos|"
    r"clam|kaspersky|eset|quarantine|mailsweeper|mimesweeper|barracuda|mail ?security|e-?mail ?security|"
    r"content ?filter|mailmarshal|f-secure|panda|bitdefender|proofpoint|ironport",
)

_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:able|ed)|returned mail|mail delivery fail|delivery (?:status notification|failure|failed|"
    r"has failed|notification|problem)|failure notice|non[- ]?deliver|could not be delivered|not delivered|"
    r"delayed mail|could not send message|mail system error|returned to sender|message not delivered|"
    r"unzustellbar|nicht zustellbar|non remis|non recapitabile|onbestelbaar|no entregado|"
    r"delivery report|mail delivery (?:failed|problem)|message delivery (?:failure|delay)",
)
# "Undeliverable: <original subject>" (Exchange and the servers that copy it).
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:undeliverable|undelivered|unzustellbar|non remis|non recapitabile|onbestelbaar|no entregado|"
    r"nie dostarczono|nedoručitelné|kézbesíthetetlen|kan ikke leveres|olevererbart|ei voitu toimittaa)\s*:\s*",
    re.I,
)
_POSTMASTER_COPY = re.compile(r"^\s*postmaster (?:copy|warning|notify)\b", re.I)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|rv|doorst|enc)\s*:", re.I)

# Body fingerprints of the common bounce formats, most specific first.
_FORMATS: list[tuple[str, re.Pattern[str]]] = [
    ("qmail", re.compile(r"this is the qmail-send program|qmail-send program at")),
    (
        "exim",
        re.compile(
            r"this message was created automatically by mail delivery software|"
            r"a message that you sent could not be delivered to one or more"
        ),
    ),
    (
        "postfix",
        re.compile(r"this is the mail system at host|i'm sorry to have to inform you that your message"),
    ),
    (
        "sendmail",
        re.compile(
            r"-+ ?the following addresses had (?:permanent fatal errors|delivery (?:problems|notifications))|"
            r"-+ ?transcript of session follows|the original message was received at"
        ),
    ),
    (
        "exchange",
        re.compile(
            r"delivery has failed to these recipients or groups|your message did not reach some or all|"
            r"did not reach the following recipient|your message couldn't be delivered|"
            r"remote server returned '|diagnostic information for administrators"
        ),
    ),
    (
        "lotus",
        re.compile(r"was not delivered to:|delivery failure report|lotus notes|domino"),
    ),
    (
        "gmail",
        re.compile(
            r"delivery to the following recipients? failed|your message wasn't delivered to|"
            r"\*\* address not found \*\*|\*\* message (?:not delivered|blocked) \*\*|delivery incomplete"
        ),
    ),
    (
        "yahoo",
        re.compile(
            r"sorry, we were unable to deliver your message|this is the mail delivery agent at|"
            r"i'm afraid i wasn't able to deliver"
        ),
    ),
    (
        "groupwise",
        re.compile(r"the message that you sent was undeliverable|groupwise"),
    ),
]
_GENERIC_BOUNCE_BODY = re.compile(
    r"could not be delivered|undeliverable|delivery (?:has )?failed|permanent (?:error|failure)|"
    r"returned to (?:you|sender)|original message follows|user unknown|mailbox (?:is )?(?:full|unavailable)|"
    r"no such (?:user|mailbox)|address rejected|message could not be sent|could not deliver",
)

_VIRUS_SUBJECT = re.compile(
    r"\bvirus|\bmalware|\binfected|banned (?:file|attachment|filename)|blocked (?:attachment|file)|"
    r"quarantin|dangerous (?:attachment|content)|\bworm\b|\btrojan",
)
_VIRUS_BODY = re.compile(
    r"virus(?:es)? (?:was |were |has been |have been |is )?(?:found|detected|identified)|"
    r"(?:found|detected|contains?|containing|contained|infected (?:with|by)) (?:a |the |an )?"
    r"(?:virus|worm|trojan|malware|infected)|virus detector has (?:just )?been triggered|"
    r"^[ \t]*(?:virus|malware)(?:es)?(?:[ \t]+(?:name|found|detected))?[ \t]*:|"
    r"banned (?:file|attachment|filename)|blocked (?:attachment|file)|prohibited (?:content|attachment|file)|"
    r"infected (?:attachment|file|message|e-?mail)|has been quarantined|was quarantined|"
    r"(?:virus|malware) alert",
    re.M,
)
_VIRUS_WORDS = ("virus", "malware", "infect", "banned", "blocked", "prohibited", "quarantin", "worm", "trojan")
_FROM_YOU = re.compile(
    r"(?:mail|message|e-?mail)s? (?:from you|you sent|sent by you|sent from your)|\byou (?:have )?sent\b|"
    r"\bfrom you\b|your (?:e-?mail|message|mail)\b|sent (?:from|by|using) your (?:address|account|e-?mail|computer)",
)
_TO_YOU = re.compile(
    r"(?:mail|message|e-?mail)s? (?:to you|addressed to you|sent to you|for you)|intended for you|"
    r"\bsent to you\b|\bto you \(from",
)

_COMPLAINT_STRONG = re.compile(
    r"(?:stop|quit) (?:sending|e-?mailing|spamming|mailing)|"
    r"you (?:have |keep |keep on )?sen(?:t|ding) me (?:a |an |this |these |your )?(?:virus|viruses|worm|spam|"
    r"junk|malware|infected|trojan)|"
    r"(?:sending|send) me (?:viruses|a virus|virus|spam|junk|malware|infected)|"
    r"why (?:are|do|did) you (?:keep )?(?:sending|send|e-?mail(?:ing)?|writing|write)(?: to)? me|"
    r"your (?:computer|pc|machine|system|laptop|account|e-?mail account)(?: seems to be| appears to be| is| may be"
    r"| must be| might be| has been| seems| was)? (?:infected|hacked|compromised)|"
    r"your (?:computer|pc|machine|system|laptop|e-?mail|account) (?:has|had|might have|may have|must have|"
    r"probably has|seems to have) (?:a |got a |caught a )?(?:virus|worm|trojan)|"
    r"(?:received|got|caught) (?:a |an )?(?:virus|worm|trojan|infected (?:e-?mail|message|attachment|file)) "
    r"from (?:you|your)|"
    r"your (?:e-?mail|message|mail)(?: to me)? (?:had|has|contained|contains|carried|was carrying|"
    r"was infected|is infected)(?: a| an)?(?: virus| worm| trojan| malware| infected)|"
    r"i (?:have )?never (?:e-?mailed|written to|wrote to|contacted|heard of|e-?mail) you|"
    r"clean (?:up )?your (?:computer|pc|machine|system)|"
    r"my (?:anti-?virus|virus scanner|virus checker|virus program|security software) "
    r"(?:caught|found|detected|blocked|flagged|stopped)",
)
_COMPLAINT_WEAK = re.compile(
    r"remove me from|take me off (?:your|the)|unsubscribe me|i (?:did not|didn't|never) (?:ask|sign up|"
    r"subscribe)(?:ed)? for|who (?:are you|is this)|do i know you|i don'?t know you|"
    r"what is this (?:attachment|file|about)|why did i get this|is this (?:really )?from you|"
    r"did you (?:really )?send (?:me )?this",
)
_COMPLAINT_SUBJECT = re.compile(
    r"stop (?:sending|spamming|e-?mailing)|virus|spam|infected|remove me|who are you|unsubscribe"
)

_OOO_SUBJECT = re.compile(
    r"^\s*\[?\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort|respon[ds]er?)|"
    r"auto\s*:|autoreply|abwesenheitsnotiz|abwesend|r[ée]ponse automatique|absence|respuesta autom[aá]tica|"
    r"fuera de la oficina|risposta automatica|automatisch antwoord|afwezig|on vacation|vacation|"
    r"away from (?:the |my )?(?:office|desk)|i am out of the office|ooo\b|fuori ufficio|frånvaro|fravær)",
)
_OOO_BODY = re.compile(
    r"out of (?:the )?office|on (?:annual |parental |maternity |sick )?leave|on holiday|on vacation|"
    r"away from (?:the |my )?(?:office|desk)|limited access to (?:my )?e-?mail|"
    r"(?:i will|i'll) (?:be )?(?:back|return)|automatic(?:ally)? (?:reply|generated|response)|"
    r"nicht im b[üu]ro|abwesend|absent du bureau|fuera de la oficina|thank you for your (?:e-?mail|message)",
)

# --- text extraction --------------------------------------------------------------------------

_ORIGINAL_MARKER = re.compile(
    r"below this line is a copy of the message|(?:original|unsent|returned|undelivered) message follows|"
    r"-+ ?original message ?-+|this is a copy of the message|"
    r"the original message (?:was|is) (?:included|attached|below|as follows)|"
    r"-+ ?(?:returned|undelivered) message ?-+|original message headers|-+ ?message header follows|"
    r"headers of the original message|^-+ ?the (?:original )?message ?-+|"
    r"^-+ ?forwarded message ?-+|your message reads",
    re.M,
)
_QUOTED_FIELD = re.compile(
    r"^[ \t>]*(message-id|from|sender|to|cc|recipients?(?:\(s\))?|subject|date|sent)[ \t]*:[ \t]*(\S.*?)[ \t]*\r?$",
    re.I | re.M,
)
_TEXT_MSGID = re.compile(
    r"^[ \t>]*(?:original-|x-original-)?message-id[ \t]*:[ \t]*<?([^\s<>]+@[^\s<>]+?)>?[ \t]*\r?$"
    r"|message[- ]id\b[^<>\n]{0,30}?<([^\s<>]+@[^\s<>]+)>"
    r"|message[- ]id (?:of |is |was )([^\s<>]+@[^\s<>]+?)(?=[\s,;)]|\.?$)",
    re.I | re.M,
)
_TEXT_RECIPIENT = re.compile(
    r"^[ \t]*<([^<>\s@]+@[^<>\s]+)>[ \t]*(?::|\.\.\.|\(|\r?$)"  # qmail, Postfix, Sendmail
    r"|(?:failed permanently|address(?:es)? failed|following (?:recipients?|addresses?)[^:\n]{0,40}|"
    r"(?:not|wasn't|couldn't be|could not be) delivered to|undeliverable to the following|"
    r"did not reach the following recipient\(s\)|these recipients or groups|"
    r"unable to deliver your message to the following address"
    r"(?:es)?)[ \t]*:?[ \t]*(?:\r?\n[ \t]*)*<?([^\s<>@:;,\"']+@[A-Za-z0-9.-]+[A-Za-z])",
    re.I | re.M,
)
_SMTP_REPLY = re.compile(r"(?<![\w.])(?:[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3})?\s*\S.*)$", re.M)
_QMAIL_HOST = re.compile(
    r"(?:qmail-send program at|mail system at host|this message was generated by|mail delivery agent at)"
    r"\s+([A-Za-z0-9.-]+[A-Za-z0-9])",
    re.I,
)
_NAME = r"[ \t]*:?[ \t]*[\"']?([A-Za-z0-9][\w./:!@#-]{2,80})"
_VIRUS_NAME = [
    re.compile(r"\bvirus\s*\(([^()\r\n]{2,80})\)", re.I),
    re.compile(
        r"^[ \t]*(?:virus|malware)(?:es)?(?:[ \t]+(?:name|found|detected))?[ \t]*:[ \t]*(\S[^\r\n]{1,80})", re.I | re.M
    ),
    re.compile(r"infected (?:with|by)(?: the)?(?: virus| worm)?" + _NAME, re.I),
    re.compile(r"contain(?:s|ed)?(?: the| a)? (?:virus|worm|trojan)" + _NAME, re.I),
    re.compile(r"\bvirus[ \t]+([A-Za-z0-9][\w./:!@#-]{2,80})[ \t]+(?:was |has been )?(?:found|detected)", re.I),
]
_BANNED_NAME = re.compile(r"banned (?:file|filename|attachment)s?[ \t]*:?[ \t]*[\"']?([^\s\"']{3,120})", re.I)
_FILE_PARAM = re.compile(rb"""\b(?:file)?name\*?[ \t]*=[ \t]*(?:"([^"\r\n]{1,255})"|([^\s;"]{1,255}))""", re.I)
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([A-Za-z0-9.-]+)", re.I)
_AUTH_SENDER = re.compile(r"authenticated sender:\s*<?([^\s<>()]+@[^\s<>()]+?)>?\s*\)", re.I)
_NOT_A_NAME = re.compile(r"^(?:unknown|none|n/a|\?+)$", re.I)
_TAGS = re.compile(r"<[^>]*>")
_BLOCK_SPLIT = re.compile(r"\r?\n[ \t]*\r?\n")
_FIELD_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")

_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated")

_header_parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _cap(data: bytes) -> bytes:
    return data[:TEXT_BYTES]


def _part_text(part: Part) -> str:
    return decode_bytes(_cap(part.data), part.charset)


def parse_fields(text: str) -> list[dict[str, str]]:
    """A delivery-status, disposition or feedback report: blocks of `Name: value` fields.

    Returns one dict per block (lower-case names, first value wins, folded lines joined).
    """
    blocks = []
    for raw in _BLOCK_SPLIT.split(text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        last = ""
        for line in raw.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] = (fields[last] + " " + line.strip()).strip()
                continue
            m = _FIELD_LINE.match(line)
            if m:
                last = m.group(1).lower()
                if last not in fields:
                    fields[last] = m.group(2).strip()
                else:
                    last = ""
        if fields:
            blocks.append(fields)
    return blocks


def _typed_value(value: str) -> str:
    """'rfc822; a@b' → 'a@b'; 'dns; mx.example' → 'mx.example'."""
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()


def _addresses(value: str) -> list[str]:
    return [a.addr.lower() for a in parse_addresses(value) if "@" in a.addr]


def _add(items: list[str], values) -> None:
    for v in values:
        if v and v not in items and len(items) < MAX_ITEMS:
            items.append(v)


def _headers_from_bytes(data: bytes) -> Original | None:
    """The header block at the start of a returned message (or of a text/rfc822-headers part)."""
    data = _cap(data).lstrip(b"\r\n\t ")
    if not data:
        return None
    try:
        head = _header_parser.parsebytes(data)
    except Exception:  # noqa: BLE001 - returned copies are often broken; they must never raise
        return None
    orig = Original(source="rfc822")
    orig.message_ids = message_ids(head.get("message-id", ""))[:1]
    froms = [a for a in parse_addresses(to_text(head.get("from", ""))) if "@" in a.addr]
    orig.from_addr = froms[0] if froms else None
    for name in ("to", "cc"):
        for value in head.get_all(name, []) or []:
            _add(orig.to, _addresses(to_text(value)))
    orig.subject = decode_words(head.get("subject", ""))
    orig.date = unfold(to_text(head.get("date", "")))
    orig.files = _file_names(data)
    for value in head.get_all("dkim-signature", []) or []:
        m = _DKIM_D.search(to_text(value))
        if m:
            _add(orig.signers, [m.group(1).lower().rstrip(".")])
    for value in head.get_all("received", []) or []:
        m = _AUTH_SENDER.search(to_text(value))
        if m:
            _add(orig.signers, [m.group(1).lower()])
    if not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return None
    return orig


def _file_names(data: bytes) -> list[str]:
    """Names of the files a returned copy carries (its MIME headers name them; content is not read)."""
    names: list[str] = []
    for m in _FILE_PARAM.finditer(data):
        raw = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace").strip()
        name = decode_words(raw, keep_space=True)
        if "." in name and not _NOT_A_NAME.match(name) and name not in names:
            names.append(name)
            if len(names) >= 5:
                break
    return names


def _headers_from_text(text: str) -> Original | None:
    """Headers quoted in a plain-text notice ("Message-ID: <…>", "To: …", "Subject: …")."""
    marker = _marker(text)
    start = marker[1] if marker else 0
    orig = Original(source="text")
    seen: set[str] = set()
    for m in _QUOTED_FIELD.finditer(text, start):
        name = m.group(1).lower()
        if name in seen:
            continue
        seen.add(name)
        value = m.group(2)
        if name == "message-id":
            orig.message_ids = message_ids(value)[:1]
        elif name in ("from", "sender"):
            found = [a for a in parse_addresses(value) if "@" in a.addr]
            orig.from_addr = orig.from_addr or (found[0] if found else None)
        elif name in ("to", "cc") or name.startswith("recipient"):
            _add(orig.to, _addresses(value))
        elif name == "subject":
            orig.subject = decode_words(value)
        elif name in ("date", "sent") and not orig.date:
            orig.date = value
        if len(seen) >= 7:
            break
    if not orig.message_ids:
        for m in _TEXT_MSGID.finditer(text, start):
            orig.message_ids = [next(g for g in m.groups() if g).lower()]
            break
    if marker and start and not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return _headers_from_text(text[: marker[0]])
    if not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return None
    return orig


def _merge(into: Original, other: Original | None) -> None:
    if other is None:
        return
    _add(into.message_ids, other.message_ids)
    if into.from_addr is None:
        into.from_addr = other.from_addr
    if not into.to:
        _add(into.to, other.to)
    into.subject = into.subject or other.subject
    into.date = into.date or other.date
    _add(into.files, other.files)
    _add(into.signers, other.signers)
    into.source = into.source or other.source


def _notice_text(msg: Message) -> str:
    """The human-readable part of the notice (plain text, else HTML without tags)."""
    plain = [p for p in msg.body_parts if p.content_type == "text/plain"]
    if plain:
        return "\n".join(_part_text(p) for p in plain)
    html = [p for p in msg.body_parts if p.content_type == "text/html"]
    if html:
        return "\n".join(_TAGS.sub(" ", _part_text(p)) for p in html)
    # A report whose MIME boundary is broken arrives as one unsplit part: read it as text.
    broken = [p for p in msg.parts if p.content_type.startswith("multipart/")]
    return "\n".join(_part_text(p) for p in broken)


def _looks_like_headers(part: Part) -> bool:
    """A text attachment that holds a returned message (some servers attach it as .txt)."""
    head = part.data[:200].lstrip().lower()
    return head.startswith((b"received:", b"return-path:", b"from:", b"message-id:", b"date:", b"x-", b"mime-"))


def _sender_address(msg: Message) -> str:
    return msg.from_addr.addr.lower() if msg.from_addr else ""


def _is_mta_sender(msg: Message) -> bool:
    raw_from = msg.header("from")
    if raw_from.replace(" ", "").endswith("<>"):
        return True
    a = msg.from_addr
    if a is not None and _MTA_LOCAL.match(a.local):
        return True
    return bool(_MTA_NAME.search(msg.from_display.lower()))


def _is_null_sender(msg: Message) -> bool:
    if msg.null_return_path:
        return True
    return msg.header("x-envelope-from").replace(" ", "") == "<>"


def _auto_submitted(msg: Message) -> str:
    value = msg.header("auto-submitted").lower()
    return "" if value.startswith("no") else value


def _report_parts(msg: Message, types: frozenset[str]) -> list[Part]:
    return [p for p in msg.parts if p.content_type in types]


_cache: "weakref.WeakKeyDictionary[Message, Notice | None]" = weakref.WeakKeyDictionary()


def analyse(msg: Message) -> Notice | None:
    """The notice `msg` is, with what it tells about the original; None for ordinary mail."""
    try:
        return _cache[msg]
    except KeyError:
        pass
    notice = _analyse(msg)
    _cache[msg] = notice
    return notice


def _analyse(msg: Message) -> Notice | None:
    report_type = msg.content_params.get("report-type", "").lower() if msg.is_multipart_report else ""
    types = {p.content_type for p in msg.parts}
    subject = msg.subject
    if report_type == "feedback-report" or types & _ARF_TYPES:
        return _abuse_report(msg)
    if report_type in ("delivery-status", "global-delivery-status") or types & _DSN_TYPES:
        return _bounce(msg, "dsn", _notice_text(msg))
    if report_type in ("disposition-notification", "global-disposition-notification") or types & _MDN_TYPES:
        return _receipt(msg)
    null_sender = _is_null_sender(msg)
    mta_sender = _is_mta_sender(msg)
    auto = _auto_submitted(msg)
    failed_header = msg.has("x-failed-recipients") or msg.has("x-ms-exchange-message-is-ndr")
    autoreply_header = msg.header("precedence").lower() == "auto_reply" or any(msg.has(h) for h in _AUTOREPLY_HEADERS)
    machine = null_sender or mta_sender or failed_header or bool(auto) or autoreply_header
    av_sender = bool(_AV_SENDER.search(msg.from_display.lower()))
    low_subject = subject.lower()
    if not machine and not av_sender:
        if _OOO_SUBJECT.search(low_subject) and not msg.is_mailing_list:
            text = _notice_text(msg)
            if _OOO_BODY.search(text.lower()):
                return _autoreply(msg, text)
        return _complaint(msg)
    if not (null_sender or mta_sender):
        if _FORWARD_PREFIX.match(subject):
            return None  # a person forwarding a notice to you
        if any(msg.has(h) for h in ("list-id", "list-unsubscribe", "list-post")):
            return None  # a newsletter or list post (a security bulletin talks about viruses, too)
    text = _notice_text(msg)
    own = _own_text(text).lower()
    if _VIRUS_SUBJECT.search(low_subject) or _has_virus_words(own):
        return _virus(msg, text)
    if null_sender or mta_sender or failed_header:
        fmt = _bounce_format(own)
        returned = mta_sender and bool(types & _ORIGINAL_TYPES)
        if fmt or returned or failed_header or _BOUNCE_SUBJECT.search(low_subject) or _GENERIC_BOUNCE_BODY.search(own):
            return _bounce(msg, fmt or "generic", text)
    elif auto and _BOUNCE_SUBJECT.search(low_subject) and _bounce_format(own):
        return _bounce(msg, _bounce_format(own), text)
    if _is_autoreply(msg, low_subject, text, auto, autoreply_header):
        return _autoreply(msg, text)
    return None


@functools.lru_cache(maxsize=16)
def _marker(text: str) -> tuple[int, int] | None:
    """Where the line announcing the returned copy starts and ends."""
    low = text.lower()
    if len(low) != len(text):  # a few characters change length in lower case: keep positions exact
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    m = _ORIGINAL_MARKER.search(low)
    if m is None:
        return None
    end = text.find("\n", m.end())
    return text.rfind("\n", 0, m.start()) + 1, len(text) if end < 0 else end


def _own_text(text: str) -> str:
    """The notice's own words, without the returned copy that plain-text bounces append."""
    marker = _marker(text)
    return text[: marker[0]] if marker else text


def is_postmaster_copy(subject: str) -> bool:
    """"Postmaster Copy: Undelivered Mail": a server's copy for its admin, about someone else's mail."""
    return bool(_POSTMASTER_COPY.match(subject))


def _has_virus_words(low: str) -> bool:
    """_VIRUS_BODY on lower-case text, after a cheap test for the words it needs."""
    if not any(w in low for w in _VIRUS_WORDS):
        return False
    return bool(_VIRUS_BODY.search(low))


def _bounce_format(text: str) -> str:
    """The server family whose wording `text` (lower case) uses; '' when none is recognised."""
    for name, pattern in _FORMATS:
        if pattern.search(text):
            return name
    return ""


def _originals(msg: Message, text: str) -> Original:
    """The original's identity from returned copies, report fields and quoted text, best first."""
    orig = Original()
    for part in msg.parts:
        if part.content_type in _ORIGINAL_TYPES or (
            part.content_type == "text/plain" and part.is_attachment and _looks_like_headers(part)
        ):
            _merge(orig, _headers_from_bytes(part.data))
    if not orig.message_ids or orig.from_addr is None or not orig.subject:
        _merge(orig, _headers_from_text(text))
    return orig


def _refs(msg: Message) -> list[str]:
    refs: list[str] = []
    _add(refs, message_ids(msg.header("in-reply-to")))
    _add(refs, message_ids(msg.header("references")))
    return refs


def _status_fields(notice: Notice, msg: Message, types: frozenset[str]) -> None:
    """Fills recipients, action, status, diagnostic and ids from delivery-status-like parts."""
    for part in _report_parts(msg, types):
        blocks = parse_fields(_part_text(part))
        for fields in blocks:
            for key in ("original-message-id", "x-original-message-id", "message-id"):
                if fields.get(key):
                    _add(notice.original.message_ids, message_ids(fields[key]))
            if fields.get("reporting-mta") and not notice.reporting_mta:
                notice.reporting_mta = _typed_value(fields["reporting-mta"])
            if fields.get("reporting-ua") and not notice.reporting_mta:
                notice.reporting_mta = fields["reporting-ua"].split(";")[0].strip()
            recipient = fields.get("final-recipient") or fields.get("original-recipient")
            if recipient:
                _add(notice.failed_recipients, [_typed_value(recipient).lower()])
            if fields.get("action") and not notice.action:
                notice.action = fields["action"].split()[0].lower()
            if fields.get("status") and not notice.status:
                notice.status = fields["status"].split()[0]
            if fields.get("diagnostic-code") and not notice.diagnostic:
                notice.diagnostic = _typed_value(fields["diagnostic-code"])[:300]
            if fields.get("x-postfix-sender") and notice.original.from_addr is None:
                found = parse_addresses(_typed_value(fields["x-postfix-sender"]))
                notice.original.from_addr = found[0] if found and "@" in found[0].addr else None


def _common(notice: Notice, msg: Message, text: str) -> Notice:
    text = _own_text(text)
    if not notice.failed_recipients:
        for value in msg.header_all("x-failed-recipients"):
            _add(notice.failed_recipients, _addresses(value))
    if not notice.failed_recipients and notice.kind in (BOUNCE, VIRUS):
        own = {a.addr.lower() for a in msg.to}
        found = [(m.group(1) or m.group(2) or "").lower() for m in _TEXT_RECIPIENT.finditer(text)]
        _add(notice.failed_recipients, [a for a in found if a and a not in own and "@" in a])
    if not notice.diagnostic and notice.kind in (BOUNCE, VIRUS):
        m = _SMTP_REPLY.search(text)
        if m:
            notice.diagnostic = unfold(m.group(0))[:300]
    if not notice.reporting_mta:
        m = _QMAIL_HOST.search(text)
        if m:
            notice.reporting_mta = m.group(1).rstrip(".").lower()
    if not notice.reporting_mta and msg.from_addr is not None:
        notice.reporting_mta = msg.from_addr.domain
    notice.reporter = _sender_address(msg)
    return notice


def _bounce(msg: Message, fmt: str, text: str) -> Notice:
    notice = Notice(kind=BOUNCE, fmt=fmt, original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _DSN_TYPES)
    _merge(notice.original, _originals(msg, text))
    if not notice.original.subject:
        m = _SUBJECT_PREFIX.match(msg.subject)
        if m and msg.subject[m.end() :].strip():
            notice.original.subject = msg.subject[m.end() :].strip()
    if fmt == "dsn":
        body_fmt = _bounce_format(_own_text(text).lower())
        if body_fmt:
            notice.fmt = f"dsn/{body_fmt}"
    # A scanner's report in DSN form ("Banned file: x.bat in mail from you") is a virus warning.
    if _VIRUS_SUBJECT.search(msg.subject.lower()) or _has_virus_words(_own_text(text).lower()):
        notice.kind = VIRUS
        _virus_details(notice, msg, text)
    return _common(notice, msg, text)


def _virus(msg: Message, text: str) -> Notice:
    notice = Notice(kind=VIRUS, fmt="av", original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _DSN_TYPES)
    _merge(notice.original, _originals(msg, text))
    _virus_details(notice, msg, text)
    return _common(notice, msg, text)


def _virus_details(notice: Notice, msg: Message, text: str) -> None:
    text = _own_text(text)
    about = msg.subject + "\n" + text
    low = about.lower()
    from_you = bool(_FROM_YOU.search(low))
    to_you = bool(_TO_YOU.search(low))
    notice.direction = "from_you" if from_you and not to_you else ("to_you" if to_you and not from_you else "")
    for pattern in _VIRUS_NAME:
        for source in (msg.subject, text):
            m = pattern.search(source)
            if m:
                notice.virus = m.group(1).strip().strip("\"'.,;")[:80]
                return
    m = _BANNED_NAME.search(about)
    if m:
        notice.virus = "banned file " + m.group(1).strip("\"'.,;")[:80]


def _abuse_report(msg: Message) -> Notice:
    notice = Notice(kind=ABUSE_REPORT, fmt="arf", original=Original(), references=_refs(msg))
    text = _notice_text(msg)
    for part in _report_parts(msg, _ARF_TYPES):
        for fields in parse_fields(_part_text(part)):
            if fields.get("original-rcpt-to"):
                _add(notice.original.to, _addresses(fields["original-rcpt-to"]))
            if fields.get("original-mail-from") and notice.original.from_addr is None:
                found = [a for a in parse_addresses(fields["original-mail-from"]) if "@" in a.addr]
                notice.original.from_addr = found[0] if found else None
            if fields.get("feedback-type") and not notice.action:
                notice.action = fields["feedback-type"].lower()
            if fields.get("source-ip") and not notice.diagnostic:
                notice.diagnostic = "source IP " + fields["source-ip"]
            if fields.get("user-agent") and not notice.reporting_mta:
                notice.reporting_mta = fields["user-agent"]
    returned = _originals(msg, text)
    # The reported message's own From beats the envelope sender the report names.
    if returned.from_addr is not None:
        notice.original.from_addr = returned.from_addr
    _merge(notice.original, returned)
    notice.reporting_mta = msg.from_addr.domain if msg.from_addr else notice.reporting_mta
    notice.reporter = _sender_address(msg)
    return notice


def _receipt(msg: Message) -> Notice:
    notice = Notice(kind=RECEIPT, fmt="mdn", original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _MDN_TYPES)
    _merge(notice.original, _originals(msg, _notice_text(msg)))
    notice.reporter = _sender_address(msg)
    return notice


def _is_autoreply(msg: Message, subject: str, text: str, auto: str, autoreply_header: bool) -> bool:
    if msg.is_mailing_list and not autoreply_header:
        return False
    if auto.startswith("auto-replied") or autoreply_header:
        return True
    if _OOO_SUBJECT.search(subject):
        return bool(auto or msg.has("x-auto-response-suppress") or _OOO_BODY.search(text.lower()))
    return False


def _autoreply(msg: Message, text: str) -> Notice:
    notice = Notice(kind=AUTOREPLY, fmt="autoreply", original=Original(), references=_refs(msg))
    quoted = _headers_from_text(text)
    if quoted is not None and quoted.message_ids:
        _add(notice.original.message_ids, quoted.message_ids)
    notice.original.subject = _strip_prefixes(msg.subject)
    notice.reporter = _sender_address(msg)
    return notice


_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[\s*(?:auto[- ]?reply|auto[- ]?response|out of (?:the )?office|ooo|autoreply)\s*\]|"
    r"(?:re|aw|sv|vs|antw|r|ref|rif|tr|fwd?|wg)\s*(?:\[\d+\])?\s*:|"
    r"(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|auto|autoreply|"
    r"abwesenheitsnotiz|abwesend|r[ée]ponse automatique|absence|respuesta autom[aá]tica|risposta automatica|"
    r"automatisch antwoord|read|gelesen|lu|le[ií]do|letto)\s*:)\s*",
    re.I,
)


def _strip_prefixes(subject: str) -> str:
    for _ in range(5):
        new = _REPLY_PREFIX.sub("", subject, count=1)
        if new == subject:
            break
        subject = new
    return subject.strip()


def _complaint(msg: Message) -> Notice | None:
    """A person's "stop sending me viruses" mail. Cheap checks first: most mail is not one."""
    if msg.is_mailing_list:
        return None
    refs = _refs(msg)
    subject = msg.subject
    low_subject = subject.lower()
    if not refs and not _COMPLAINT_SUBJECT.search(low_subject):
        return None
    text = _notice_text(msg)
    low = low_subject + "\n" + text.lower()
    strong = _COMPLAINT_STRONG.search(low)
    weak = None if strong else _COMPLAINT_WEAK.search(low)
    if not (strong or weak):
        return None
    notice = Notice(kind=COMPLAINT, fmt="strong" if strong else "weak", original=Original(), references=refs)
    quoted = _originals(msg, text)
    _merge(notice.original, quoted)
    if not notice.original.subject:
        stripped = _strip_prefixes(subject)
        if stripped != subject.strip():
            notice.original.subject = stripped
        else:
            m = re.search(r"subject\s+[\"“']([^\"”'\r\n]{1,120})[\"”']", text, re.I) or re.search(
                r"(?:message|e-?mail|mail)\s+[\"“]([^\"”\r\n]{1,120})[\"”]", text, re.I
            )
            if m:
                notice.original.subject = m.group(1).strip()
    notice.reporter = _sender_address(msg)
    return notice
