"""Attachment rules: dangerous file types, disguised names and types, archives that hide programs, Office
macros, web pages and SVG pictures that ask for passwords, and the EICAR test file.

Each attachment is examined once per message (`examine`), from its bytes only, and the rules read that
result. So that a single bad file gives a short, coherent set of findings, one rule speaks for each
aspect: what the file is (type), how its name lies (double extension, hidden characters), how its
content lies (disguise), what an archive hides, what a document runs.

Rules see the same bytes on a whole message and on the scanner's partial view: the first 4 KB of an
ordinary file, 256 KB of web pages and attached mails, whole archives and Office files up to 8 MB
(`fetchplan`). Anything beyond what the partial view holds is never looked at.
"""

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypedDict

from klezguard.core import archives, authresults, limits, office
from klezguard.core.context import Context
from klezguard.core.domains import org_domain
from klezguard.core.fetchplan import (
    HEAD_BYTES,
    IMAGE_EXTENSIONS,
    TEXT_BYTES,
    TNEF_TYPES,
    decoded_bytes_needed,
    extension,
)
from klezguard.core.filetypes import (
    ARCHIVE_EXTS,
    DOCUMENT_EXTS,
    OFFICE_ZIP_LABEL,
    RUNS_CODE,
    WEB_PAGE_EXTS,
    ZIP_DOCUMENT_EXTS,
    DoubleExtension,
    RiskyType,
    Sniffed,
    declared_family,
    displayed_as,
    double_extension,
    has_rtl_letters,
    padding_run,
    risky,
    sniff,
)
from klezguard.core.message import Message, Part
from klezguard.core.parse import from_bytes
from klezguard.core.visible import BIDI_CONTROLS, hidden_characters, visible
from klezguard.rules.registry import Hit, Rule, Severity, register

# --- what one file is ----------------------------------------------------------------------------------

_MAX_MAIL_DEPTH = 2  # attached mails inside attached mails
_MAX_SNIFFED_MEMBERS = 200  # archive members whose first bytes are read
_MAX_SHOWN = 5  # member names listed in evidence
_ARCHIVE_KINDS = frozenset({"zip", "rar", "7z", "gzip", "bz2", "xz", "tar"})
_HTML_EXTS = frozenset({"htm", "html", "shtml", "xhtml", "svg", "mht", "mhtml"})
_HTML_TYPES = frozenset({"text/html", "image/svg+xml", "application/xhtml+xml"})
# Marks that right-to-left writing needs; quiet in names that hold Hebrew or Arabic letters.
_RTL_MARKS = frozenset({0x200E, 0x200F, 0x061C, 0x200C, 0x200D})
_SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(eq=False)
class HtmlReport:
    svg: bool = False
    script: bool = False
    password: bool = False
    form: bool = False
    target: str = ""  # where a form posts or a redirect leads
    redirect: bool = False
    smuggling: bool = False
    envelope: bool = False  # says it is a secure (encrypted) message to open with a password
    hosts: frozenset[str] = frozenset()  # registrable domains of the web addresses in the page


@dataclass(eq=False)
class File:
    """One attachment, archive member or file inside an attached mail, and what was found out about it."""

    name: str
    declared: str  # the Content-Type the mail gives ('' for archive members)
    size: int
    head: bytes  # the first bytes (up to 4 KB)
    data: bytes | None  # the whole content, when it is available and within limits
    path: tuple[str, ...] = ()  # the archives it sits in, outermost first
    in_mail: bool = False  # inside an attached (or returned) mail
    depth: int = 0
    encrypted: bool = False  # its content is locked with a password
    ext: str = ""
    sniffed: Sniffed = field(default_factory=lambda: Sniffed("unknown", "unknown"))
    risky: RiskyType | None = None
    double: DoubleExtension | None = None
    macros: office.MacroReport | None = None
    macro_unchecked: bool = False  # a macro-capable type we could not look into
    rtf: office.RtfReport | None = None
    html: HtmlReport | None = None
    listing: archives.Listing | None = None
    children: list["File"] = field(default_factory=list)
    too_deep: bool = False
    office_report: office.OfficeReport | None = None  # remote templates, outside objects, packed files, DDE
    container: str = ""  # where a file that is no MIME part of its own was found (winmail.dat, the text)
    hidden: bool = False  # found in a part the mail's broken structure hides
    embedded_in: str = ""  # the part of an Office file it is packed in ("word/embeddings/oleObject1.bin")

    @property
    def shown(self) -> str:
        """The name as evidence shows it, with hidden characters made visible and its archives."""
        own = visible(self.name) if self.name else "(no name)"
        return " › ".join([*(visible(p) for p in self.path), own])

    @property
    def is_archive(self) -> bool:
        return self.listing is not None

    def walk(self) -> Iterator["File"]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False)
class Examined:
    files: list[File]  # top-level attachments and files of attached mails
    password_in_text: bool = False
    auto_open: bool = False  # the HTML text loads a part by itself (<iframe src="cid:...">)
    budget: archives.Budget = field(default_factory=archives.Budget)  # decompressed bytes, whole message


_HTML_SCRIPT = re.compile(r"<script\b", re.I)
_HTML_HANDLER = re.compile(r"<[a-z][^<>]*\son(?:load|error|begin|end|focus|mouseover|activate|pageshow)\s*=", re.I)
_HTML_PASSWORD = re.compile(r"<input\b[^<>]*\btype\s*=\s*[\"']?password", re.I)
_HTML_FORM = re.compile(r"<form\b([^<>]*)>", re.I)
_HTML_ACTION = re.compile(r"\baction\s*=\s*[\"']?\s*(https?://[^\"'\s>]+)", re.I)
_HTML_REFRESH = re.compile(r"<meta\b[^<>]*http-equiv\s*=\s*[\"']?refresh[^<>]*>", re.I)
_HTML_LOCATION = re.compile(
    r"(?:\b(?:window|document|top|self|parent)\s*\.\s*)?\blocation\s*(?:\.\s*href\s*)?=(?!=)\s*|"
    r"\blocation\s*\.\s*(?:replace|assign)\s*\(\s*",
    re.I,
)
_HTML_ASSIGNED = re.compile(r"[\"'`](https?://[^\"'`\s<>]+)|([A-Za-z_$][\w$]*)\s*[;),}]")
_HTML_URL = re.compile(r"https?://[^\"'\s<>()]+", re.I)
_HTML_SMUGGLE_DECODE = re.compile(r"\batob\s*\(|\bUint8Array\b|\bcharCodeAt\b", re.I)
_HTML_SMUGGLE_BLOB = re.compile(r"\bnew\s+Blob\s*\(", re.I)
_HTML_SMUGGLE_SAVE = re.compile(r"createObjectURL|msSaveOrOpenBlob|msSaveBlob|\.download\s*=|\bdownload\s*:", re.I)
_HTML_B64_CALL = re.compile(r"\batob\s*\(\s*[\"']([A-Za-z0-9+/=\s]{40,})[\"']", re.I)
_HTML_UNESCAPE = re.compile(r"\b(?:unescape|decodeURIComponent)\s*\(\s*[\"']((?:%[0-9a-f]{2}){20,})", re.I)
_IFRAME_CID = re.compile(rb"<(?:iframe|embed|object|frame)\b[^<>]*(?:src|data)\s*=\s*[\"']?cid:", re.I)
# Banks, solicitors and insurers send "secure messages" as a web page that asks for a password (Cisco,
# Zix, Microsoft, Voltage, ...). Phishing copies the look, but a copy sends the password elsewhere.
_ENVELOPE_WORDS = re.compile(
    r"secure (?:message|e-?mail|document|envelope)|encrypted (?:message|e-?mail)|securedoc|"
    r"sichere nachricht|verschlüsselte nachricht|message sécurisé|messaggio (?:sicuro|crittografato)|"
    r"mensaje (?:seguro|cifrado)|beveiligd bericht|versleuteld bericht",
    re.I,
)
# Where such envelopes send the password: the secure-mail services' own sites (registrable domains).
_ENVELOPE_SERVICES = frozenset(
    {"cisco.com", "zixmail.net", "zixcorp.com", "zixmessagecenter.com", "voltage.com", "virtru.com", "egress.com",
     "echoworx.net", "echoworx.com", "office365.com", "mimecast.com", "proofpoint.com", "datamotion.com"}
)
_PASSWORD_WORDS = re.compile(
    r"\b(?:password|passwort|kennwort|passcode|pwd|pw|mot de passe|contrase[ñn]a|wachtwoord|has[łl]o|senha|"
    r"parola|heslo|salasana|l[öo]senord|adgangskode)\b",
    re.I,
)


def _html_report(data: bytes, svg: bool) -> HtmlReport:
    import base64  # noqa: PLC0415 - only for the rare encoded page
    import binascii  # noqa: PLC0415
    from urllib.parse import unquote  # noqa: PLC0415

    text = data[:TEXT_BYTES].decode("utf-8", "replace")
    # Pages often hide themselves in one layer of base64 or %-escapes: look one layer down.
    extra = []
    for m in _HTML_B64_CALL.finditer(text):
        try:
            extra.append(base64.b64decode(re.sub(r"\s", "", m.group(1))).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            pass
    extra.extend(unquote(m.group(1)) for m in _HTML_UNESCAPE.finditer(text))
    if extra:
        text = text + "\n" + "\n".join(extra)[:TEXT_BYTES]
    rep = HtmlReport(svg=svg)
    rep.script = bool(_HTML_SCRIPT.search(text) or _HTML_HANDLER.search(text))
    rep.password = bool(_HTML_PASSWORD.search(text))
    for m in _HTML_FORM.finditer(text):
        rep.form = True
        action = _HTML_ACTION.search(m.group(1))
        if action:
            rep.target = action.group(1)
            break
    refresh = _HTML_REFRESH.search(text)
    if refresh:
        url = _HTML_URL.search(refresh.group())
        rep.redirect = True
        rep.target = rep.target or (url.group() if url else "")
    if rep.script:
        for loc in _HTML_LOCATION.finditer(text):
            # A redirect counts when it names where it goes: a web address, directly or through a variable
            # (frame-busting 'top.location = self.location' in saved web pages does not).
            value = _HTML_ASSIGNED.match(text, loc.end())
            address = value.group(1) if value else ""
            if value and value.group(2):
                named = re.search(r"\b" + re.escape(value.group(2)) + r"\s*=\s*[\"'`](https?://[^\"'`\s<>]+)", text)
                address = named.group(1) if named else ""
            if address:
                rep.redirect = True
                rep.target = rep.target or address
                break
        rep.smuggling = bool(
            _HTML_SMUGGLE_DECODE.search(text) and _HTML_SMUGGLE_BLOB.search(text) and _HTML_SMUGGLE_SAVE.search(text)
        )
    if rep.password and not rep.target:
        url = _HTML_URL.search(text)  # a script may send the password there
        rep.target = url.group() if url else ""
    rep.envelope = rep.password and bool(_ENVELOPE_WORDS.search(text))
    if rep.envelope:
        rep.hosts = frozenset(org_domain(_url_host(u)) for u in _HTML_URL.findall(text)[:50])
    return rep


def _url_host(url: str) -> str:
    m = re.match(r"https?://([^/:?#\s]+)", url, re.I)
    return m.group(1).lower().rstrip(".") if m else ""


def _envelope_service(h: HtmlReport, sender_domain: str) -> str:
    """The secure-mail service an envelope's form posts to (its registrable domain), or '' when the form
    posts elsewhere or the page names any other site than that service and the sender."""
    org = org_domain(_url_host(h.target)) if h.target else ""
    if org not in _ENVELOPE_SERVICES:
        return ""
    return org if h.hosts <= {org, org_domain(sender_domain)} else ""


def _sender_confirmed(msg: Message, ctx: Context) -> bool:
    """The user's provider confirmed the From domain (DMARC, or SPF/DKIM of the same organisation)."""
    a = msg.from_addr
    if a is None or not a.domain:
        return False
    return authresults.read(msg, ctx.trusted_authserv).aligned_pass(a.domain)


def _is_html(f: File) -> bool:
    if f.sniffed.kind in ("html", "svg"):
        return True
    if f.sniffed.kind in ("text", "unknown") and (f.ext in _HTML_EXTS or f.declared in _HTML_TYPES):
        return True
    return False


def _examine_content(f: File, budget: archives.Budget) -> None:
    """Fills in what the content shows: macros, scripts in web pages, and an archive's members."""
    kind = f.sniffed.kind
    if _is_html(f):
        f.html = _html_report(f.data if f.data is not None else f.head, f.sniffed.kind == "svg" or f.ext == "svg")
    office_zip = kind == "zip" and (f.ext in office.OOXML_EXTS or f.sniffed.label == OFFICE_ZIP_LABEL)
    if kind == "ole":
        if f.data is not None:
            f.macros = office.analyse_ole(f.data, f.name)
        elif f.ext in office.OLE_OFFICE_EXTS:
            f.macro_unchecked = True
    elif office_zip or (kind == "zip" and f.ext in office.MACRO_ENABLED_EXTS):
        # Judged by content whatever the name: a .docx can hold a VBA project as well as a .docm
        if f.data is not None:
            _examine_office_zip(f, budget)
        elif f.ext in office.MACRO_ENABLED_EXTS:
            f.macro_unchecked = True
        if f.ext in ZIP_DOCUMENT_EXTS or f.ext in office.MACRO_ENABLED_EXTS:
            return  # a document, not an archive to look into
    elif kind == "zip" and f.ext in ZIP_DOCUMENT_EXTS:
        return  # a document or a program in zip form, not an archive to look into
    elif kind == "rtf" and f.data is not None:
        f.rtf = office.analyse_rtf(f.data)
        dde = office.analyse_rtf_dde(f.data)
        if dde:
            f.office_report = office.OfficeReport(dde=dde)
    elif f.ext in office.MACRO_ENABLED_EXTS and kind not in ("zip", "ole") and f.data is None:
        f.macro_unchecked = True
    elif kind == "text" and (f.ext == "csv" or f.declared == "text/csv"):
        dde = office.analyse_csv_dde(f.head)
        if dde:
            f.office_report = office.OfficeReport(dde=dde)
    if f.data is not None and (f.ext in IMAGE_EXTENSIONS or kind == "disk_image") and archives.is_iso(f.data):
        if f.depth >= archives.MAX_DEPTH:
            f.too_deep = True
            return
        f.listing = archives.list_iso(f.data)
        _examine_members(f, f.listing, budget)
        return
    if kind in _ARCHIVE_KINDS and f.data is not None:
        if f.depth >= archives.MAX_DEPTH:
            f.too_deep = True
            return
        listing = archives.list_archive(kind, f.data, f.name, budget)
        if listing is None:
            return
        f.listing = listing
        _examine_members(f, listing, budget)
        if kind == "zip" and any(m.name == "[Content_Types].xml" for m in listing.members):
            if f.macros is None:
                _examine_office_zip(f, budget)  # an Office file under another name
            f.children = [c for c in f.children if not c.name.lower().endswith("vbaproject.bin")]  # said once


def _examine_office_zip(f: File, budget: archives.Budget) -> None:
    """A zip-based Office file: macros, remote templates, objects from outside, packed files and DDE."""
    assert f.data is not None
    f.office_report = office.analyse_ooxml_links(f.data)
    if f.office_report.ooxml or f.ext in office.MACRO_ENABLED_EXTS:
        f.macros = office.analyse_ooxml(f.data)
    for packed in f.office_report.embedded:
        if not packed.name or f.depth >= archives.MAX_DEPTH:
            continue
        content = packed.data[: archives.MAX_MEMBER] if packed.data is not None else None
        child = File(
            name=packed.name,
            declared="",
            size=len(packed.data) if packed.data is not None else -1,
            head=content[:HEAD_BYTES] if content is not None else b"",
            data=content,
            path=(*f.path, f.name or "document"),
            in_mail=f.in_mail,
            depth=f.depth + 1,
            embedded_in=packed.part,
        )
        child.ext = extension(child.name)
        child.risky = risky(child.ext)
        child.double = double_extension(child.name)
        if child.head:
            child.sniffed = sniff(child.head)
            _examine_content(child, budget)
        f.children.append(child)


def _examine_members(parent: File, listing: archives.Listing, budget: archives.Budget) -> None:
    path = (*parent.path, parent.name or "archive")
    for i, member in enumerate(listing.members):
        if member.is_dir:
            continue
        name = re.split(r"[\\/]", member.name.rstrip("/\\"))[-1]
        child = File(
            name=name,
            declared="",
            size=member.size,
            head=b"",
            data=None,
            path=path,
            in_mail=parent.in_mail,
            depth=parent.depth + 1,
            encrypted=member.encrypted,
        )
        child.ext = extension(name)
        child.risky = risky(child.ext)
        child.double = double_extension(name)
        if not member.encrypted and i < _MAX_SNIFFED_MEMBERS:
            head = listing.read(member, HEAD_BYTES, budget)
            if head is not None:
                child.head = head
                child.sniffed = sniff(head)
                wants_all = (
                    child.sniffed.kind in _ARCHIVE_KINDS
                    or child.sniffed.kind in ("ole", "rtf")
                    or (child.sniffed.kind == "zip" and child.ext in office.MACRO_ENABLED_EXTS)
                    or _is_html(child)
                )
                if len(head) < HEAD_BYTES:
                    child.data = head
                elif wants_all and 0 <= member.size <= archives.MAX_MEMBER:
                    limit = TEXT_BYTES if _is_html(child) else archives.MAX_MEMBER
                    child.data = listing.read(member, limit, budget)
                _examine_content(child, budget)
        parent.children.append(child)


def _file_from_part(part: Part, in_mail: bool, complete: bool) -> File:
    need = decoded_bytes_needed(part.content_type, part.filename)
    whole = complete and part.complete and len(part.data) <= need
    f = File(
        name=part.filename,
        declared=part.content_type,
        size=len(part.data) if part.complete else part.approx_decoded_size,
        head=part.data[:HEAD_BYTES],
        data=part.data[:need] if whole else None,
        in_mail=in_mail,
    )
    f.ext = part.extension
    f.risky = risky(f.ext)
    f.double = double_extension(part.filename) if part.filename else None
    f.sniffed = sniff(f.head)
    if f.data is None and f.sniffed.kind in ("html", "svg", "text", "unknown") and (
        f.ext in _HTML_EXTS or part.content_type in _HTML_TYPES
    ):
        f.data = part.data[:TEXT_BYTES]
    return f


def _mail_files(msg: Message, in_mail: bool, complete: bool, depth: int, ex: Examined) -> None:
    for part in msg.parts:
        if part.content_type in ("message/rfc822", "message/global"):
            if depth < _MAX_MAIL_DEPTH:
                data = part.data[:TEXT_BYTES]
                inner_complete = complete and part.complete and len(part.data) <= TEXT_BYTES
                _mail_files(from_bytes(data), True, inner_complete, depth + 1, ex)
            continue
        if part.content_type.startswith("multipart/"):
            _hidden_parts(msg, part, in_mail, complete, ex)
            continue
        if not part.is_attachment:
            if part.content_type == "text/html" and _IFRAME_CID.search(part.data[:TEXT_BYTES]):
                ex.auto_open = True
            if (part.content_type.startswith("text/") and b"begin " in part.data[:TEXT_BYTES]
                    and _UU_BEGIN.search(part.data[:TEXT_BYTES])):
                listing = archives.list_uuencoded(part.data[:TEXT_BYTES])
                _promote(listing, in_mail, ex, (), "the mail text, uuencoded (an old way to send files)")
            continue
        f = _file_from_part(part, in_mail, complete)
        _examine_content(f, ex.budget)
        ex.files.append(f)
        if f.data is not None and (part.content_type in TNEF_TYPES or f.head.startswith(archives.TNEF_SIGNATURE)):
            name = f.name or "winmail.dat"
            _promote(archives.list_tnef(f.data), in_mail, ex, (name,), f"{visible(name)}, a package that Outlook makes")


_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} ", re.M)
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.M)


def _promote(listing: archives.Listing, in_mail: bool, ex: Examined, path: tuple[str, ...], where: str) -> None:
    """The files of a container that mail programs show as attachments of their own (winmail.dat, uuencoded
    text): judged like any attachment, at the top level."""
    for member in listing.members[: archives.MAX_MEMBERS]:
        if member.is_dir:
            continue
        content = listing.read(member, archives.MAX_MEMBER, ex.budget)
        name = re.split(r"[\\/]", member.name.rstrip("/\\"))[-1]
        f = File(
            name=name,
            declared="",
            size=member.size,
            head=content[:HEAD_BYTES] if content is not None else b"",
            data=content,
            path=path,
            in_mail=in_mail,
            depth=1,
            container=where,
        )
        f.ext = extension(name)
        f.risky = risky(f.ext)
        f.double = double_extension(name) if name else None
        if f.head:
            f.sniffed = sniff(f.head)
            _examine_content(f, ex.budget)
        ex.files.append(f)


def _hidden_parts(msg: Message, part: Part, in_mail: bool, complete: bool, ex: Examined) -> None:
    """A multipart the parser could not split (its boundary is missing, or is not the one its lines use)
    may still hold parts that other mail programs show: they are looked for under the boundary the lines
    use, and judged like any attachment."""
    text = part.data[:TEXT_BYTES]
    line = _BOUNDARY_LINE.search(text)
    if line is None:
        return
    boundary = line.group(1)
    if boundary.endswith(b"--"):
        boundary = boundary[:-2]
    inner = from_bytes(b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n' + text)
    whole = complete and part.complete and len(part.data) <= TEXT_BYTES
    for hidden in inner.parts:
        if not hidden.is_attachment or hidden.content_type.startswith(("multipart/", "message/")):
            continue
        f = _file_from_part(hidden, in_mail, whole)
        f.hidden = True
        f.container = "a part that the mail's broken structure hides"
        _examine_content(f, ex.budget)
        ex.files.append(f)


_cache: "weakref.WeakKeyDictionary[Message, Examined]" = weakref.WeakKeyDictionary()


def examine(msg: Message) -> Examined:
    """Every attachment of `msg`, examined once (the rules of this module share the result)."""
    found = _cache.get(msg)
    if found is not None:
        return found
    ex = Examined(files=[])
    if msg.parts:
        _mail_files(msg, False, True, 0, ex)
    if any(f.listing is not None and f.listing.encrypted for top in ex.files for f in top.walk()):
        ex.password_in_text = any(
            _PASSWORD_WORDS.search(p.data[:TEXT_BYTES].decode("utf-8", "replace")) for p in msg.body_parts
        ) or bool(_PASSWORD_WORDS.search(msg.subject))
    _cache[msg] = ex
    return ex


def _all_files(msg: Message) -> Iterator[File]:
    for f in examine(msg).files:
        yield from f.walk()


# --- helpers for the findings -------------------------------------------------------------------------


def _size(n: int) -> str:
    if n < 0:
        return "unknown"
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


_SOURCES = {"gmail": "Gmail", "microsoft": "Microsoft 365", "rspamd": "rspamd", "spamassassin": "SpamAssassin"}


def _evidence(f: File, **extra: object) -> dict[str, object]:
    ev: dict[str, object] = {"File": f.shown}
    if f.declared:
        ev["Declared type"] = f.declared
    if f.head:
        ev["Content"] = f.sniffed.label
    ev["Size"] = _size(f.size)
    if f.in_mail:
        ev["Found in"] = "a mail attached to this one"
    if f.container:
        ev["Found in"] = f"{ev['Found in']}, in {f.container}" if f.in_mail else f.container
    if f.embedded_in:
        ev["Packed in"] = f.embedded_in
    ev.update({k: v for k, v in extra.items() if v not in (None, "", [], ())})
    return ev


# "a" or "an" goes by the sound, not the letter: "a OneNote file", "an SVG picture", "an MP4 file".
_LETTER_NAMES_WITH_VOWEL_SOUND = frozenset("aefhilmnorsx")  # "an SVG": ess, "an HTML": aitch
_SPOKEN_AS_WORDS = frozenset({"rar", "zip", "jar", "gif", "ram", "rom", "sim", "lan", "nas", "midi", "raw", "wim"})
_VOWEL_LETTER_CONSONANT_SOUND = ("one", "once", "uni", "use", "usu", "uti", "ura", "ure", "uro", "eu", "ewe", "ubi")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")


def _a(label: str) -> str:
    """The label with its article ("a" or "an")."""
    word = label.split(" ", 1)[0].strip("(\"'")
    low = word.lower()
    if not low:
        return "a " + label
    acronym = len(word) >= 2 and (word.isupper() or any(c.isdigit() for c in word)) and low not in _SPOKEN_AS_WORDS
    if acronym:
        vowel_sound = low[0] in _LETTER_NAMES_WITH_VOWEL_SOUND
    elif low.startswith(_SILENT_H):
        vowel_sound = True
    else:
        vowel_sound = low[0] in "aeiou" and not low.startswith(_VOWEL_LETTER_CONSONANT_SOUND)
    return ("an " if vowel_sound else "a ") + label


def _max_severity(values: list[Severity]) -> Severity:
    return max(values, key=lambda s: _SEVERITY_ORDER[s]) if values else "low"


def _skip(f: File) -> bool:
    """The EICAR test file speaks for itself; no other finding for it."""
    return f.sniffed.kind == "eicar"


_IN_MAIL_NOTE = "The file is inside a mail that is attached to this one."

# --- the rules -----------------------------------------------------------------------------------------

_KIND_NOTES = {
    "program": "Opening it starts a program on your computer. Firms do not send programs by mail.",
    "script": "Opening it runs commands on your computer. Real bills and letters are never scripts.",
    "installer": "Opening it puts new software on your computer.",
    "java": "If Java is on your computer, opening it starts a program.",
    "office_addin": "Opening it loads a program into Office.",
    "help": "Help files like this can run hidden commands when you open them.",
    "settings": "Opening it can change settings on your computer.",
    "system": "Files like this are parts of programs. Nobody sends them as documents.",
    "database": "Files like this can hold code that runs when you open them.",
    "other_system": "It is a program for a phone or for another kind of computer.",
    "archive": "This kind of archive is rare. It is often used to slip programs past virus scanners.",
    "other": "Files like this can be misused to run code.",
}


@register
class DangerousType(Rule):
    """Programs, scripts, installers and the like: the types Gmail, Microsoft 365, rspamd and SpamAssassin
    block. Disk images and shortcuts have rules of their own, macro documents too."""

    id = "attachment.dangerous_type"
    category = "attachment"
    severity = "high"
    title = "{name} is {label}"
    explanation = "The attached file {name} is {label}: its name ends in .{ext}."
    advice = (
        "Do not open it. If you expected a file from this sender, call them on a number you already know "
        "and ask what it is."
    )
    notes = {**_KIND_NOTES, "in_mail": _IN_MAIL_NOTE,
             "hidden_name": "Its real name is {real_name}. Hidden characters make it look like {name}."}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for top in examine(msg).files:
            f = top
            r = f.risky
            if r is None or _skip(f) or r.kind in ("disk_image", "shortcut", "macro_document"):
                continue
            # What the user sees in a mail program, when hidden characters turn the real name around
            shown = re.sub(r"\s{4,}", " ", displayed_as(f.name))
            hidden = shown != f.name
            yield Hit(
                facts={"name": visible(shown) if hidden else visible(f.name), "label": _a(r.label), "ext": f.ext,
                       "real_name": visible(f.name)},
                evidence=_evidence(f, **{"Blocked by": ", ".join(_SOURCES[s] for s in r.blocked_by)}),
                notes=(r.kind, *(("hidden_name",) if hidden else ()), *(("in_mail",) if f.in_mail else ())),
                severity=r.severity,
            )


@register
class DiskImage(Rule):
    """ISO, IMG and VHD files open like a USB stick; the files inside may escape Windows' "this came from
    the internet" warning (Mark of the Web), which is why attackers moved to them."""

    id = "attachment.disk_image"
    category = "attachment"
    severity = "high"
    title = "{name} is a disk image"
    explanation = (
        "The attached file {name} is a disk image. It works like a USB stick packed into one file. When "
        "you open it, Windows shows the files inside, and it may not warn you before a program in it runs. "
        "That is why it is a common way to sneak harmful programs past you."
    )
    advice = "Do not open it. Real bills and letters do not come as disk images. Ask the sender by phone what it is."
    notes = {"in_mail": _IN_MAIL_NOTE, "mac": "Disk images like this are used to install Mac programs.",
             "contents": "It holds: {members}."}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in examine(msg).files:
            by_name = f.risky is not None and f.risky.kind == "disk_image"
            if _skip(f) or not (by_name or f.sniffed.kind == "disk_image"):
                continue
            notes = ["mac"] if f.ext == "dmg" else []
            inside = [c for c in f.walk() if c is not f] if f.listing is not None else []
            if inside:
                notes.append("contents")
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": visible(f.name), "members": _member_list(inside)},
                evidence=_evidence(f, **{"Files inside": [c.shown for c in inside[:10]]}),
                notes=tuple(notes),
                severity=f.risky.severity if by_name and f.risky is not None else "high",  # by_name: never None
            )


@register
class Shortcut(Rule):
    """A shortcut (.lnk, .url, .scf, ...) can carry a command line; its icon can look like a PDF."""

    id = "attachment.shortcut"
    category = "attachment"
    severity = "high"
    title = "{name} is a shortcut, not a document"
    explanation = (
        "The attached file {name} is {label}. Opening a shortcut can run a command or fetch a program from the "
        "internet, even when its icon looks like a document."
    )
    advice = ("Do not open it. Move the mail to quarantine. If it seems to come from someone you know, call them to "
              "warn them.")
    notes = {"in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in examine(msg).files:
            if _skip(f) or f.risky is None or f.risky.kind != "shortcut":
                continue
            yield Hit(
                facts={"name": visible(f.name), "label": _a(f.risky.label)},
                evidence=_evidence(f),
                notes=("in_mail",) if f.in_mail else (),
                severity=f.risky.severity,
            )


@register
class DoubleExtensionRule(Rule):
    """'invoice.pdf.exe': Windows hides the last extension by default, so only 'invoice.pdf' shows."""

    id = "attachment.double_extension"
    category = "attachment"
    severity = "high"
    title = "{name} hides its real type"
    explanation = (
        "The file name ends in .{decoy} and then .{real}. Windows often hides the last part, so you may see "
        "only .{decoy}. The real type is .{real}: {real_label}."
    )
    advice = ("Do not open it. Move the mail to quarantine. If it seems to come from someone you know, call them to "
              "warn them.")
    notes = {
        "padded": "Spaces or dots were put before .{real} to push the real ending out of view.",
        "declared": "The mail also calls it {declared_words} ({declared}).",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in examine(msg).files:
            d = f.double
            if d is None or _skip(f):
                continue
            r = risky(d.real)
            severity: Severity
            if r is not None:
                real_label, severity = _a(r.label), ("high" if r.severity == "high" else "medium")
            elif d.real in WEB_PAGE_EXTS:
                real_label, severity = "a web page", "medium"
            else:
                real_label, severity = _a(DOCUMENT_EXTS.get(d.real, "file of another type")), "medium"
            if d.padded and severity == "medium" and r is not None:
                severity = "high"
            notes = ["padded"] if d.padded else []
            family, words = declared_family(f.declared)
            if family:
                notes.append("declared")
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={
                    "name": visible(f.name),
                    "decoy": d.decoy,
                    "real": d.real,
                    "real_label": real_label,
                    "declared": f.declared,
                    "declared_words": words,
                },
                evidence=_evidence(f),
                notes=tuple(notes),
                severity=severity,
            )


def _hidden_in_name(name: str) -> tuple[list[str], bool]:
    """(names of the hidden characters that matter, whether one flips the text direction)."""
    rtl_script = has_rtl_letters(name)
    emoji = any(ord(ch) >= 0x1F000 for ch in name)
    found, flips = [], False
    for ch in name:
        cp = ord(ch)
        if (rtl_script and cp in _RTL_MARKS) or (emoji and cp in (0x200D, 0xFE0F)):
            continue
        if cp in BIDI_CONTROLS:
            if rtl_script and cp not in (0x202D, 0x202E):
                continue
            flips = flips or cp in (0x202E, 0x202B, 0x2067)
        if cp < 0x20 or cp in BIDI_CONTROLS or cp >= 0x7F:
            found.extend(hidden_characters(ch))
    return list(dict.fromkeys(found)), flips


@register
class HiddenCharacters(Rule):
    """Invisible characters in a file name: the RIGHT-TO-LEFT OVERRIDE turns 'invoice_\u202efdp.scr' into
    what looks like 'invoice_rcs.pdf'; zero-width characters and long runs of spaces hide the real type.
    Names in Hebrew or Arabic need direction marks and stay quiet."""

    id = "attachment.hidden_characters"
    category = "attachment"
    severity = "high"
    title = "The file name {looks_like} is not what it seems"
    explanation = "The file name holds hidden characters ({chars}). Written out, the name is {real_name}."
    advice = (
        "Do not open the file. Hidden characters in a file name have no honest use. Move the mail to quarantine, "
        "and if it seems to come from someone you know, call them to warn them."
    )
    notes = {
        "flip": "One of them turns the text around, so the name looks like {looks_like}. Its real ending is .{ext}.",
        "padding": "A long run of spaces pushes the real ending, .{ext}, out of view.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in examine(msg).files:
            if not f.name or _skip(f):
                continue
            chars, flips = _hidden_in_name(f.name)
            pad = padding_run(f.name) if (f.double is None or not f.double.padded) else 0
            if not chars and not pad:
                continue
            notes = []
            if flips:
                notes.append("flip")
            if pad:
                notes.append("padding")
                chars.append(f"{pad} spaces")
            if f.in_mail:
                notes.append("in_mail")
            dangerous = (f.risky is not None and f.risky.severity == "high") or f.sniffed.kind == "program"
            severity: Severity
            if flips or dangerous:
                severity = "high"
            elif f.risky is not None or any(c.startswith("U+202") or c.startswith("U+206") for c in chars):
                severity = "medium"  # other direction controls, or a risky type
            else:
                severity = "low"  # invisible characters or padding in the name of a harmless file
            looks_like = displayed_as(f.name)
            looks_like = re.sub(r"\s{4,}", " ", looks_like)
            yield Hit(
                facts={
                    "looks_like": looks_like,
                    "real_name": visible(f.name),
                    "chars": ", ".join(chars),
                    "ext": f.ext or "?",
                },
                evidence=_evidence(f, **{"Looks like": looks_like, "Hidden characters": chars}),
                notes=tuple(notes),
                severity=severity,
            )


_DISGUISE_ARCHIVE_EXTS = frozenset({"pdf", "jpg", "jpeg", "png", "gif", "txt", "wav", "mp3"})
_DISGUISE_HTML_EXTS = frozenset({"pdf", "jpg", "jpeg", "png", "gif"})


def _disguise(f: File) -> tuple[Severity, str, str, str] | None:
    """(severity, real label, claimed words, how it is claimed) when the content contradicts what the
    name or the declared type promise; None when they agree or the difference is harmless."""
    kind = f.sniffed.kind
    family, words = declared_family(f.declared)
    runs_by_name = f.risky is not None and f.risky.kind in RUNS_CODE
    by_name = DOCUMENT_EXTS.get(f.ext)
    if kind in ("program", "shortcut") and not (f.risky is not None and f.risky.kind in RUNS_CODE | {"other_system"}):
        if family:
            return "high", f.sniffed.label, f"{words} ({f.declared})", "declared"
        claimed = _a(by_name) if by_name else (f"a .{f.ext} file" if f.ext else "a file with no type")
        return "high", f.sniffed.label, claimed, "name"
    if family and (runs_by_name or kind == "program"):
        if f.double is not None and DOCUMENT_EXTS.get(f.double.decoy, "?").split()[-1] in words:
            return None  # the double-extension finding already says the mail calls it a document
        real = f.sniffed.label if kind == "program" else f.risky.label  # type: ignore[union-attr]
        return "high", real, f"{words} ({f.declared})", "declared"
    if kind in ("zip", "rar", "7z") and f.ext in _DISGUISE_ARCHIVE_EXTS:
        return "medium", f.sniffed.label, _a(by_name or f.ext), "name"
    if kind == "html" and f.ext in _DISGUISE_HTML_EXTS and family != "text":
        return "medium", "web page", _a(by_name or f.ext), "name"
    return None


@register
class DisguisedType(Rule):
    """The Klez trick: a program declared as audio/x-wav (or named .jpg/.pdf/.txt). The first bytes of a
    file tell what it really is; a PDF sent as application/octet-stream is normal and stays quiet."""

    id = "attachment.disguised_type"
    category = "attachment"
    severity = "high"
    title = "{name} is {real_label} in disguise"
    explanation = "The mail presents {name} as {claimed}, but its content shows it is really {real_label}."
    advice = (
        "Do not open it. Move the mail to quarantine. If it seems to come from someone you know, call them: their "
        "computer may have a virus."
    )
    notes = {
        "klez": (
            "This is the trick of the Klez worm: a program labeled as a sound or a picture. Some mail "
            "programs used to open such files by themselves."
        ),
        "auto_open": "The mail text also tries to open an attached file by itself as soon as you read it.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        ex = examine(msg)
        for f in ex.files:
            if _skip(f):
                continue
            found = _disguise(f)
            if found is None:
                continue
            severity, real, claimed, how = found
            notes = []
            if how == "declared" and f.declared.split("/")[0] in ("audio", "image", "video"):
                notes.append("klez")
            if ex.auto_open and severity == "high":
                notes.append("auto_open")
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": visible(f.name) or "An attachment", "real_label": _a(real), "claimed": claimed},
                evidence=_evidence(f),
                notes=tuple(notes),
                severity=severity,
            )


def _member_danger(f: File) -> tuple[Severity, str] | None:
    """(severity, label) of an archive member that is a program or the like, else None."""
    if f.sniffed.kind in ("program", "shortcut") and not (f.risky is not None and f.risky.severity == "high"):
        return "high", f.sniffed.label
    r = f.risky
    if r is not None and r.kind not in ("macro_document", "archive") and r.severity != "low":
        return r.severity, r.label  # (an unusual archive inside an archive is reported as nesting)
    if f.double is not None and f.double.real in WEB_PAGE_EXTS:
        return "medium", "web page"
    return None


class _ArchiveFacts(TypedDict):
    bad: list[tuple[File, Severity, str]]  # (member, severity, label) of the risky members
    nested: list[File]
    encrypted: bool
    names_hidden: bool
    bomb: str
    deep: bool
    members: list[File]


def _archive_facts(top: File) -> _ArchiveFacts:
    """What an archive (with everything nested in it) holds that matters for the findings."""
    bad, nested, encrypted, names_hidden, bomb, deep, names = [], [], False, False, "", False, []
    for f in top.walk():
        if f is not top and f.path:
            names.append(f)
        if f.listing is not None:
            encrypted |= f.listing.encrypted
            names_hidden |= f.listing.names_hidden
            bomb = bomb or f.listing.bomb
            if f is not top:
                nested.append(f)
        deep |= f.too_deep
        if f is not top and not _skip(f):
            danger = _member_danger(f)
            if danger is not None:
                bad.append((f, *danger))
    return {
        "bad": bad, "nested": nested, "encrypted": encrypted, "names_hidden": names_hidden, "bomb": bomb,
        "deep": deep, "members": names,
    }


def _member_list(files: list[File]) -> str:
    shown = [visible(f.name) for f in files[:_MAX_SHOWN]]
    if len(files) > _MAX_SHOWN:
        shown.append(f"and {len(files) - _MAX_SHOWN} more")
    return ", ".join(shown)


def _archives(msg: Message) -> Iterator[tuple[File, _ArchiveFacts]]:
    for f in examine(msg).files:
        if f.listing is not None:
            yield f, _archive_facts(f)


@register
class ArchiveProgram(Rule):
    """Programs and scripts packed in an archive (zip, rar, 7z, gz), also in archives inside archives and in
    password-protected zips, whose member names stay readable."""

    id = "attachment.archive_program"
    category = "attachment"
    severity = "high"
    title = "{archive} holds {label}: {member}"
    explanation = (
        "Inside the {container} {archive} is {member}, which is {label}. Opening it would start it on your "
        "computer. Firms do not send programs packed like this."
    )
    advice = "Do not open the archive or anything in it. Move the mail to quarantine."
    notes = {
        "more": "It holds other risky files as well: {others}.",
        "nested": "It was packed inside a second archive, to hide it from virus scanners.",
        "encrypted": "The archive is locked with a password. That stops virus scanners from looking inside.",
        "password_in_text": "The password is given in the mail. That is a common trick to get past scanners.",
        "double": "Its name ends in .{decoy}.{real}, so it looks like {decoy_label}.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        ex = examine(msg)
        for top, facts in _archives(msg):
            bad = facts["bad"]
            if not bad:
                continue
            bad.sort(key=lambda item: -_SEVERITY_ORDER[item[1]])
            first, severity, label = bad[0]
            notes = []
            if len(bad) > 1:
                notes.append("more")
            if len(first.path) > 1:
                notes.append("nested")
            if facts["encrypted"]:
                notes.append("encrypted")
                if ex.password_in_text:
                    notes.append("password_in_text")
            if first.double is not None:
                notes.append("double")
            if top.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={
                    "archive": visible(top.name) or "An archive",
                    "container": "disk image" if top.listing is not None and top.listing.kind == "iso" else "archive",
                    "member": visible(first.name),
                    "label": _a(label),
                    "others": _member_list([b[0] for b in bad[1:]]),
                    "decoy": first.double.decoy if first.double else "",
                    "real": first.double.real if first.double else "",
                    "decoy_label": _a(DOCUMENT_EXTS.get(first.double.decoy, "document")) if first.double else "",
                },
                evidence=_evidence(top, **{"Risky files inside": [b[0].shown for b in bad[:10]],
                                           "Password-protected": "yes" if facts["encrypted"] else ""}),
                notes=tuple(notes),
                severity=_max_severity([b[1] for b in bad]),
            )


@register
class EncryptedArchive(Rule):
    """A password-protected archive from someone you don't know, password in the text: virus scanners
    cannot look inside. When the visible names show a program, archive_program speaks instead."""

    id = "attachment.encrypted_archive"
    category = "attachment"
    severity = "medium"
    title = "{archive} is locked with a password"
    explanation = (
        "The archive {archive} is locked with a password, so virus scanners cannot check what is inside."
    )
    advice = (
        "Open it only if you expected it and know the sender. If you are unsure, call them on a number you "
        "already know."
    )
    notes = {
        "contents": "It holds: {members}.",
        "names_hidden": "Even the names of the files inside are hidden.",
        "password_in_text": "The password is given in the mail. That is a common trick to get past scanners.",
        "nested": "Inside it is another archive, which hides its content even more.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        ex = examine(msg)
        for top, facts in _archives(msg):
            if not facts["encrypted"] or facts["bad"]:
                continue
            notes = []
            if facts["members"]:
                notes.append("contents")
            if facts["names_hidden"]:
                notes.append("names_hidden")
            if ex.password_in_text:
                notes.append("password_in_text")
            nested_inside = any(
                f.sniffed.kind in _ARCHIVE_KINDS or f.ext in ARCHIVE_EXTS for f in facts["members"]
            )
            if nested_inside:
                notes.append("nested")
            if top.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"archive": visible(top.name) or "An archive", "members": _member_list(facts["members"])},
                evidence=_evidence(top, Members=[f.shown for f in facts["members"][:10]]),
                notes=tuple(notes),
                severity="medium",
            )


@register
class NestedArchive(Rule):
    """An archive inside an archive, with nothing risky visible: a way to hide files from scanners, but
    harmless often enough (a zip of zipped photo folders) to be only a hint."""

    id = "attachment.nested_archive"
    category = "attachment"
    severity = "low"
    title = "{archive} holds another archive"
    explanation = (
        "The archive {archive} holds another archive, {inner}. Packing archives inside archives can hide files "
        "from virus scanners. The files we could see look harmless."
    )
    advice = "Open it only if you expected it from this sender."
    notes = {"in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for top, facts in _archives(msg):
            if not facts["nested"] or facts["bad"] or facts["encrypted"] or facts["bomb"] or facts["deep"]:
                continue
            yield Hit(
                facts={"archive": visible(top.name) or "An archive", "inner": visible(facts["nested"][0].name)},
                evidence=_evidence(top, Members=[f.shown for f in facts["members"][:10]]),
                notes=("in_mail",) if top.in_mail else (),
            )


@register
class TooComplex(Rule):
    """A mail built so that checking all of it would take forever: thousands of parts, parts nested
    dozens of levels deep, thousands of header lines. The limits of core/limits.py keep the work bounded;
    the shape itself is the finding, since no real mail looks like this."""

    id = "attachment.too_complex"
    category = "attachment"
    severity = "medium"
    title = "This mail is built to be hard to check"
    explanation = "No normal mail is built like this one, so KlezGuard could check only part of it."
    advice = "Do not open its files. If you expected files from the sender, ask them to send them again."
    notes = {
        "parts": f"It has more than {limits.MAX_PARTS} parts. A file can hide among them.",
        "depth": f"Its parts are packed inside each other more than {limits.MAX_DEPTH} levels deep.",
        "headers": f"It has more than {limits.MAX_HEADER_FIELDS} header lines. Real mail has a few dozen.",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        found = [name for name in ("parts", "depth", "headers") if name in msg.limits]
        if found:
            yield Hit(evidence={"Limits": [self.notes[name] for name in found]}, notes=tuple(found))


@register
class ArchiveBomb(Rule):
    """Archives built to overwhelm scanners: thousands of files, absurd compression, many nesting levels.
    Our limits stop reading them; the shape itself is the finding."""

    id = "attachment.archive_bomb"
    category = "attachment"
    severity = "medium"
    title = "{archive} looks built to jam virus scanners"
    explanation = (
        "We stopped unpacking the archive {archive}, because it is built in a way that harmless files never are."
    )
    advice = "Do not open it. Move the mail to quarantine."
    notes = {
        "many_files": f"It holds more than {archives.MAX_MEMBERS} files.",
        "ratio": "Unpacked, it would grow to a huge size. This is called a zip bomb.",
        "size": "Unpacked, it would grow to a huge size. This is called a zip bomb.",
        "lying": "It says its files are small, but they unpack to much more. That is a trick to get past scanners.",
        "deep": "It has archives inside archives inside archives.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for top, facts in _archives(msg):
            if not (facts["bomb"] or facts["deep"]):
                continue
            notes = [facts["bomb"]] if facts["bomb"] else ["deep"]
            if top.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"archive": visible(top.name) or "An archive"},
                evidence=_evidence(top),
                notes=tuple(notes),
            )


@register
class OfficeMacro(Rule):
    """Macros are small programs in Office files, found by content whatever the name. mraptor's rule: one
    that starts by itself AND writes files or runs programs is malicious-looking (high), and so are macros in
    a file whose name says it cannot hold any (a .docx, a .pdf). Any other macro document from outside the
    user's own firm is suspicious however well its sender is proven (mail accounts get taken over); from a
    confirmed colleague, quiet macros are only a hint (an accountant's .xlsm is real)."""

    id = "attachment.office_macro"
    category = "attachment"
    severity = "medium"
    title = "{name} contains macros"
    explanation = "The Office file {name} contains {language} macros. Macros are small programs inside a document."
    advice = (
        "Do not click Enable Content or Enable Macros. If you expected this file, ask the sender by phone "
        "whether it should have macros."
    )
    notes = {
        "autoexec": "They start by themselves when the file is opened ({autoexec}).",
        "execute": "They can start other programs ({execute}).",
        "download": "They fetch things from the internet ({download}).",
        "write": "They can write files on your computer ({write}).",
        "lure": "The document asks you to click Enable Content. That is how harmful macros get started.",
        "quiet": "We found nothing that starts by itself. Some firms use macros in their own sheets.",
        "unchecked": "This type of file can hold macros. We could not look inside it.",
        "hidden_name": "Its name ends in .{ext}, a type that never holds macros. The name hides what the "
        "file really is.",
        "outside": "It comes from outside your firm. Even a real sender's mail account can be taken over.",
        "colleague": "It comes from a colleague, and your mail provider confirmed that. Still ask them before you "
        "allow its macros: a colleague's mail account can be taken over too.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        outside = not _from_own_firm(msg, ctx)
        for f in _all_files(msg):
            if _skip(f):
                continue
            m = f.macros
            notes: list[str] = []
            severity: Severity
            if m is not None and m.present:
                for key in ("autoexec", "execute", "download", "write"):
                    if getattr(m, key):
                        notes.append(key)
                if m.lure:
                    notes.append("lure")
                if m.suspicious or (m.autoexec and m.lure):
                    severity = "high"
                elif m.autoexec or m.execute or m.download or m.write or m.lure:
                    severity = "medium"
                else:
                    severity, notes = "low", ["quiet"]
                if _macro_name_hides(f):
                    severity = "high"
                    notes.insert(0, "hidden_name")
                elif severity == "low" and outside:
                    severity = "medium"
                    notes.append("outside")
                elif severity == "high" and not outside and not (m.download or m.lure):
                    severity = "medium"  # a confirmed colleague's spreadsheet that runs itself: ask, don't panic
                    notes.append("colleague")
                language = m.language
            elif f.macro_unchecked or (m is None and f.ext in office.MACRO_ENABLED_EXTS and f.data is None):
                severity, notes, language = "low", ["unchecked"], "possible"
                if f.head == b"" and f.path:
                    continue  # a member we could not read at all: nothing to say
                if outside and f.ext in office.MACRO_ENABLED_EXTS:
                    severity = "medium"  # named as a macro document, from outside
                    notes.append("outside")
            else:
                continue
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={
                    "name": f.shown,
                    "language": language,
                    "autoexec": m.autoexec if m else "",
                    "execute": m.execute if m else "",
                    "download": m.download if m else "",
                    "write": m.write if m else "",
                    "ext": f.ext or "(none)",
                },
                evidence=_evidence(f, Part=m.part if m else ""),
                notes=tuple(notes),
                severity=severity,
            )


# Names under which macros are at home: the macro-enabled Office types, the old formats, and Outlook items
# (an .msg carries its attachments inside it).
_MACRO_NAMES = office.MACRO_ENABLED_EXTS | office.OLE_OFFICE_EXTS | {"msg"}


def _macro_name_hides(f: File) -> bool:
    """Macros in a file whose name says it holds none: a .docx with a VBA project, a .pdf that is an old
    Word file."""
    return f.ext not in _MACRO_NAMES


def _from_own_firm(msg: Message, ctx: Context) -> bool:
    """The From address is of the user's own domain and their provider confirmed it."""
    a = msg.from_addr
    return a is not None and ctx.is_own_domain(a.domain) and _sender_confirmed(msg, ctx)


def _is_web(target: str) -> bool:
    return bool(re.match(r"(?i)\s*(?:https?|mhtml|ftp)\s*:", target))


@register
class RemoteTemplate(Rule):
    """A Word file whose template is fetched from the internet when it opens ("template injection"): the
    fetched template brings the macros or the exploit, so the attached file itself looks clean. A template
    on a file share (\\\\server\\...) is common inside firms, but from outside it also makes Windows send
    your login to that server."""

    id = "attachment.remote_template"
    category = "attachment"
    severity = "high"
    title = "{name} loads a part of itself from {where}"
    explanation = (
        "When you open {name}, Word fetches its template from {target}. The harmful part of such a file is in "
        "what it fetches, so the file itself can look clean."
    )
    advice = "Do not open it. Move the mail to quarantine. If you expected it, ask the sender to send a PDF."
    advice_by_severity = {
        "medium": "Open it only if you expected it from this sender. If you are unsure, call them first.",
    }
    notes = {
        "share": "The template sits on a file share. Windows may send your login name to that computer.",
        "more": "It names other outside addresses as well: {others}.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            o = f.office_report
            if o is None or not o.templates:
                continue
            web = [t for t in o.templates if _is_web(t)]
            target = (web or o.templates)[0]
            notes = [] if web else ["share"]
            if len(o.templates) > 1:
                notes.append("more")
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": f.shown, "target": visible(target), "where": "the internet" if web else "a file share",
                       "others": ", ".join(visible(t) for t in o.templates if t != target)},
                evidence=_evidence(f, **{"Template": [visible(t) for t in o.templates], "Part": _parts(o, ".rels")}),
                notes=tuple(notes),
                severity="high" if web else "medium",
            )


def _parts(o: office.OfficeReport, suffix: str) -> list[str]:
    return list(dict.fromkeys(p for p in o.parts if p.lower().endswith(suffix)))


@register
class OfficeObject(Rule):
    """Objects in an Office file that reach outside it or carry a file: an object linked to an address on
    the internet (CVE-2017-0199), a file packed inside the document (an OLE "Package": double-click runs
    it), and the old Equation Editor (CVE-2017-11882). Ordinary embedded charts and sheets stay quiet."""

    id = "attachment.office_object"
    category = "attachment"
    severity = "high"
    title = "{name} {what}"
    explanation = "The Office file {name} holds an object that {reach}."
    advice = "Do not open it, and do not double-click anything inside it. Move the mail to quarantine."
    advice_by_severity = {
        "medium": "Do not double-click the icon inside the document. If you expected the file, ask the sender "
        "what it holds.",
    }
    notes = {
        "link": "Word or Excel loads it from {target} when the file opens. Attacks use this to run code.",
        "package": "Inside it is a file, {packed}, which is {label}. A double-click on its icon starts it.",
        "packed_file": "Inside it is a file, {packed}. A double-click on its icon opens it.",
        "equation": "It holds an object for the old Equation Editor. Attacks use its flaws to run code.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            o = f.office_report
            if o is None or not (o.links or o.embedded):
                continue
            notes: list[str] = []
            severities: list[Severity] = []
            packed, label, target = "", "", ""
            if o.links:
                notes.append("link")
                severities.append("high")
                target = o.links[0]
            for e in o.embedded:
                if e.equation and "equation" not in notes:
                    notes.append("equation")
                    severities.append("high")
                elif e.name and not packed:
                    child = next((c for c in f.children if c.embedded_in == e.part), None)
                    packed = e.name
                    danger = _member_danger(child) if child is not None else None
                    if danger is not None:
                        notes.append("package")
                        label = _a(danger[1])
                        severities.append(danger[0])
                    else:
                        notes.append("packed_file")
                        severities.append("medium")
            if not notes:
                continue
            if f.in_mail:
                notes.append("in_mail")
            what = "loads an object from outside" if o.links else "hides an object inside"
            yield Hit(
                facts={"name": f.shown, "what": what, "target": visible(target), "packed": visible(packed),
                       "label": label,
                       "reach": "comes from outside the file" if o.links else "can run code"},
                evidence=_evidence(f, **{"Linked to": [visible(t) for t in o.links],
                                         "Part": [e.part for e in o.embedded] + _parts(o, ".rels"),
                                         "Packed file": visible(packed)}),
                notes=tuple(notes),
                severity=_max_severity(severities),
            )


@register
class OfficeDde(Rule):
    """DDE fields: an old Office feature that lets a document or a sheet start a program (DDEAUTO in Word,
    =cmd|'...'!A0 in a CSV). Office asks first, but people click Yes. Real documents no longer use it."""

    id = "attachment.office_dde"
    category = "attachment"
    severity = "high"
    title = "{name} can start a program on your computer"
    explanation = (
        "The file {name} holds a command that asks Office to start a program: {command}. Office will ask "
        "whether to update links or start it. Say No."
    )
    advice = "Do not open it. Move the mail to quarantine."
    notes = {"auto": "The command is set to run as soon as the file opens.", "in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            o = f.office_report
            if o is None or not o.dde:
                continue
            command = o.dde[0][:120]
            notes = ["auto"] if any(d.upper().startswith("DDEAUTO") for d in o.dde) else []
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": f.shown, "command": visible(command)},
                evidence=_evidence(f, **{"Command": [visible(d[:200]) for d in o.dde],
                                         "Part": _parts(o, ".xml")}),
                notes=tuple(notes),
            )


@register
class HiddenPart(Rule):
    """A part that the mail's structure hides: its multipart has no boundary, or a boundary its lines do
    not use, so some mail programs (and scanners) see no attachment while others show it. The file is
    judged by the other rules too; this finding says why it may not show. Harmless defects (a missing
    MIME-Version, odd padding) never count: only a file that the broken structure hides does."""

    id = "attachment.hidden_part"
    category = "attachment"
    severity = "medium"
    title = "The mail hides a file: {name}"
    explanation = (
        "The mail is built wrong in a way that hides the file {name}. Some mail programs and virus scanners "
        "do not see it, while others show it."
    )
    advice = "Do not open the file. If you expected one from this sender, ask them to send it again."
    advice_by_severity = {"low": "Open the file only if you expected it from this sender."}
    notes = {"harmless": "The file itself looks like {label}.", "in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in examine(msg).files:
            if not f.hidden or _skip(f):
                continue
            risky_file = (f.risky is not None and f.risky.severity != "low") or f.sniffed.kind in (
                "program", "shortcut", "ole") or f.double is not None
            notes = [] if risky_file else ["harmless"]
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": visible(f.name) or "(no name)", "label": _a(f.sniffed.label)},
                evidence=_evidence(f, **{"Mail defects": list(dict.fromkeys(msg.defects))[:10]}),
                notes=tuple(notes),
                severity="medium" if risky_file else "low",
            )


@register
class RtfObject(Rule):
    """RTF files with embedded objects that load themselves or use the old Equation Editor (CVE-2017-11882),
    a favourite of document exploits. Plain RTF letters have no such objects."""

    id = "attachment.rtf_object"
    category = "attachment"
    severity = "high"
    title = "{name} hides an object that runs when opened"
    explanation = (
        "The document {name} hides an object of the type {object_class}. Attacks use such objects to run code "
        "as soon as the file is opened in Word."
    )
    advice = "Do not open it. Move the mail to quarantine."
    notes = {"autoupdate": "The object is set to load itself when the file opens.", "in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            r = f.rtf
            if r is None or not (r.risky_class or r.autoupdate):
                continue
            notes = ["autoupdate"] if r.autoupdate else []
            if f.in_mail:
                notes.append("in_mail")
            yield Hit(
                facts={"name": f.shown, "object_class": r.risky_class or "OLE object"},
                evidence=_evidence(f, **{"Object": r.risky_class}),
                notes=tuple(notes),
                severity="high" if r.risky_class else "medium",
            )


@register
class ActiveHtml(Rule):
    """Web pages and SVG pictures sent as files open in the browser from your own disk: a login form there
    posts your password to the attacker, a script can redirect you or build a program to download (HTML
    smuggling). A plain HTML receipt has none of this and stays quiet."""

    id = "attachment.active_html"
    category = "attachment"
    severity = "high"
    title = "{name} {what}"
    explanation = "The attached file {name} is {page}. It opens in your web browser, not as a document."
    advice = (
        "Do not open it, and never type a password into a page that came as an attachment. To log in, type "
        "the address of the site yourself."
    )
    notes = {
        "password": "It shows a form that asks for a password and sends it to {target}.",
        "form": "It has a form that sends what you type to {target}.",
        "redirect": "It sends your browser on to {target} by itself.",
        "smuggling": "It holds a hidden file and saves it to your computer when opened. This trick gets "
        "programs past mail scanners.",
        "script": "It holds a script: code that runs in your browser.",
        "svg": "SVG is a picture format, but it can hold code. Real pictures do not need code.",
        "envelope": "Some banks and law firms send real secure messages like this one. Fakes copy their look. "
        "Open it only if you expect a secure message from this sender. If you are not sure, call them.",
        "envelope_service": "The form sends the password to {service}, a known service for secure mail, and "
        "the sender's address passed the checks. That is how real secure messages look. Still, open it "
        "only if you expect one from this sender.",
        "in_mail": _IN_MAIL_NOTE,
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            h = f.html
            if h is None or _skip(f) or (f.risky is not None and f.risky.kind in RUNS_CODE):
                continue  # (an .hta is reported as a program)
            notes: list[str] = []
            service = ""
            severity: Severity
            if h.password:
                notes.append("password")
                severity, what = "high", "asks for your password"
                if h.envelope and not h.smuggling:
                    sender = msg.from_addr.domain if msg.from_addr else ""
                    service = _envelope_service(h, sender)
                    if service and not f.in_mail and _sender_confirmed(msg, ctx):
                        severity = "medium"
                        notes.append("envelope_service")
                    else:
                        service = ""
                        notes.append("envelope")
            elif h.smuggling:
                notes.append("smuggling")
                severity, what = "high", "drops a hidden file"
            elif h.form and h.target:
                notes.append("form")
                severity, what = "medium", "is a form that sends data away"
            elif h.redirect and h.target:
                notes.append("redirect")
                severity, what = ("high" if h.svg else "medium"), "sends you to another website"
            elif h.script and h.svg:
                severity, what = "medium", "is a picture with hidden code"
            elif h.script:
                severity, what = "low", "is a web page with a script"
            else:
                continue
            if h.script and "smuggling" not in notes:
                notes.append("script")
            if h.svg:
                notes.append("svg")
            if f.in_mail:
                notes.append("in_mail")
            target = h.target or "another website"
            yield Hit(
                facts={
                    "name": f.shown,
                    "what": what,
                    "page": "an SVG picture" if h.svg else "a web page",
                    "target": target,
                    "service": service,
                },
                evidence=_evidence(f, Target=h.target),
                notes=tuple(notes),
                severity=severity,
            )


@register
class EicarTest(Rule):
    """The EICAR file is the anti-virus industry's harmless test string. Flagged (so the user, or their IT
    helper, sees what a warning looks like) but as suspicious, not dangerous: calling a harmless file
    dangerous in red while the text says it is harmless confused people."""

    id = "attachment.eicar_test"
    category = "attachment"
    severity = "medium"
    title = "{name} is the anti-virus test file"
    explanation = (
        "This is the harmless test file that virus scanners use to show a warning (called EICAR). It cannot do "
        "any damage. KlezGuard marks it so that you can see what a warning looks like."
    )
    advice = "If you or your IT helper sent it as a test, all is well. If not, move the mail to quarantine."
    notes = {"in_mail": _IN_MAIL_NOTE}

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        for f in _all_files(msg):
            if f.sniffed.kind != "eicar":
                continue
            yield Hit(
                facts={"name": f.shown},
                evidence=_evidence(f),
                notes=("in_mail",) if f.in_mail else (),
            )
