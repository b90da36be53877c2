"""What a file is: by its name (the table of risky extensions), by what the mail says (Content-Type) and
by its first bytes (magic numbers). Only bytes are read; nothing is ever opened or run.

The table of risky extensions lives in `klezguard/data/extensions.json` (data apart from logic).
"""

import json
import re
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import filetype

from klezguard.core.fetchplan import extension

# --- the table of risky extensions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskyType:
    """One risky extension: its group (program, script, shortcut, disk_image, ...), how serious it is on
    its own and a short label for people ("Windows program")."""

    ext: str
    kind: str
    severity: Literal["low", "medium", "high"]  # the rules' Severity
    label: str
    blocked_by: tuple[str, ...]


@lru_cache(maxsize=1)
def risky_table() -> dict[str, RiskyType]:
    text = resources.files("klezguard.data").joinpath("extensions.json").read_text("utf-8")
    table = json.loads(text)["extensions"]
    return {
        ext: RiskyType(ext, v["kind"], v["severity"], v["label"], tuple(v.get("blocked_by", ())))
        for ext, v in table.items()
    }


def risky(ext: str) -> RiskyType | None:
    """The table entry of an extension (without the dot, any case), or None."""
    return risky_table().get(ext.lower()) if ext else None


# Kinds of the table that run code when opened (used to judge archive members and disguises).
RUNS_CODE = frozenset({"program", "script", "shortcut", "installer", "java", "office_addin", "help", "settings"})

# --- families of harmless-looking types ------------------------------------------------------------

# What the user thinks a file is, by extension: the decoys of double extensions and disguises.
DOCUMENT_EXTS = {
    "pdf": "PDF document",
    "doc": "Word document",
    "docx": "Word document",
    "xls": "Excel sheet",
    "xlsx": "Excel sheet",
    "ppt": "PowerPoint file",
    "pptx": "PowerPoint file",
    "odt": "document",
    "ods": "spreadsheet",
    "rtf": "document",
    "txt": "text file",
    "csv": "spreadsheet",
    "xml": "data file",
    "jpg": "picture",
    "jpeg": "picture",
    "png": "picture",
    "gif": "picture",
    "bmp": "picture",
    "tif": "picture",
    "tiff": "picture",
    "heic": "picture",
    "webp": "picture",
    "mp3": "sound file",
    "wav": "sound file",
    "wma": "sound file",
    "m4a": "sound file",
    "ogg": "sound file",
    "mp4": "video",
    "avi": "video",
    "mov": "video",
    "wmv": "video",
    "mpg": "video",
    "zip": "zip archive",
    "rar": "archive",
    "7z": "archive",
    "html": "web page",
    "htm": "web page",
    "eml": "mail",
    "msg": "mail",
    "ics": "calendar invite",
}
# Extensions that a double extension may end in besides the risky table: web pages pretending to be
# documents ("invoice.pdf.html") are a phishing classic.
WEB_PAGE_EXTS = frozenset({"htm", "html", "shtml", "xhtml", "mht", "mhtml", "svg"})
# Zip-based formats that are documents or programs, not archives to look into.
ZIP_DOCUMENT_EXTS = frozenset(
    "docx docm dotx dotm xlsx xlsm xltx xltm xlam pptx pptm potx potm ppsx ppsm ppam sldx sldm vsdx vsdm "
    "odt ods odp odg odf ott ots otp epub jar apk aab xpi ipa appx msix appxbundle msixbundle kmz nupkg whl "
    "3mf idml sketch pages numbers key".split()
)
ARCHIVE_EXTS = frozenset("zip rar 7z gz tgz bz2 tbz tbz2 xz txz tar".split())


def declared_family(content_type: str) -> tuple[str, str]:
    """(family, plain words) of a declared Content-Type that promises something harmless to look at;
    ('', '') for neutral types such as application/octet-stream or program types."""
    ct = content_type.lower()
    main, _, sub = ct.partition("/")
    if main == "audio":
        return "audio", "a sound file"
    if main == "video":
        return "video", "a video"
    if main == "image":
        return ("image", "a picture") if sub != "svg+xml" else ("", "")
    if ct in ("text/plain", "text/csv", "text/calendar", "text/richtext", "text/enriched"):
        return "text", "a text file"
    if ct in ("application/pdf", "application/x-pdf", "application/acrobat"):
        return "document", "a PDF document"
    if ct in ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/rtf"):
        return "document", "an Office document"
    if ct.startswith("application/vnd.openxmlformats-officedocument.") or ct.startswith("application/vnd.oasis."):
        return "document", "an Office document"
    return "", ""


# --- content sniffing -----------------------------------------------------------------------------

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_EICAR_TAIL = b" \t\r\n\x1a"


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the first bytes of a file are. kind: program, shortcut, eicar, ole, onenote, zip, rar, 7z, gzip,
    bz2, xz, tar, pdf, rtf, disk_image, html, svg, image, audio, video, text, empty, unknown."""

    kind: str
    label: str
    mime: str = ""


_COMMENTS = rb"(?:<!--(?:(?!-->).)*-->\s*)*"  # (a comment cannot span '-->': no runaway backtracking)
_HTML_START = re.compile(
    rb"^\s*" + _COMMENTS + rb"<(?:!doctype\s+html|html|head|body|script|meta|iframe|form)\b", re.I | re.S
)
_SVG_START = re.compile(
    rb"^\s*(?:<\?xml[^<>]*>\s*)?" + _COMMENTS + rb"(?:<!doctype\s+svg[^<>]*>\s*)?<svg\b", re.I | re.S
)
_LNK_HEADER = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F"
_ARCHIVE_MAGIC = (
    (b"PK\x03\x04", "zip", "zip archive"),
    (b"PK\x05\x06", "zip", "zip archive"),
    (b"Rar!\x1a\x07", "rar", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "7-Zip archive"),
    (b"\x1f\x8b", "gzip", "gzip archive"),
    (b"BZh", "bz2", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz", "xz archive"),
    (b"MSCF\x00\x00\x00\x00", "cab", "cabinet archive"),
)
_ONENOTE = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")  # the OneNote section file GUID
_FAMILY_LABEL = {"image": "picture", "audio": "sound file", "video": "video"}


# Office (docx, xlsx, xlsm, pptx, ...) and OpenDocument files are zip files inside: the name of the first
# member tells them from an archive, so the evidence can say "Office file" and not "zip archive".
_OOXML_FIRST = (b"[Content_Types].xml", b"_rels/", b"docProps/", b"word/", b"xl/", b"ppt/", b"customXml/", b"visio/")
OFFICE_ZIP_LABEL = "Office file (zip-based)"
_MIMETYPE_LABELS = (
    (b"application/vnd.oasis.opendocument.", "OpenDocument file (zip-based)"),
    (b"application/epub+zip", "e-book (zip-based)"),
)


def _zip_document_label(data: bytes) -> str:
    """'Office file (zip-based)' and the like when the zip's first member shows a document format."""
    if len(data) < 30:
        return ""
    name_len, extra_len = struct.unpack_from("<HH", data, 26)
    name = data[30 : 30 + name_len]
    if name.startswith(_OOXML_FIRST):
        return OFFICE_ZIP_LABEL
    if name == b"mimetype":
        start = 30 + name_len + extra_len
        content = data[start : start + 80]
        for prefix, label in _MIMETYPE_LABELS:
            if content.startswith(prefix):
                return label
    return ""


def is_eicar(data: bytes) -> bool:
    """The EICAR anti-virus test file: the 68-byte string, optionally followed by white space (128 bytes
    at most in all)."""
    if not data.startswith(EICAR[:16]):
        return False
    head = data[:129]
    return len(head) <= 128 and head.rstrip(_EICAR_TAIL) == EICAR


def _windows_program(data: bytes) -> bool:
    """'MZ' and a binary DOS header (a text that starts with 'MZ' is not a program)."""
    if data[:2] != b"MZ":
        return False
    if len(data) >= 64:
        (e_lfanew,) = struct.unpack_from("<I", data, 0x3C)
        if 0x40 <= e_lfanew <= len(data) - 4 and data[e_lfanew : e_lfanew + 4] == b"PE\x00\x00":
            return True
    return b"\x00" in data[2:64] or b"program cannot be run in DOS mode" in data[:512]


def sniff(data: bytes) -> Sniffed:
    """Recognises a file by its first bytes (4 KB are always enough)."""
    if not data:
        return Sniffed("empty", "empty file")
    if is_eicar(data):
        return Sniffed("eicar", "anti-virus test file")
    if _windows_program(data):
        return Sniffed("program", "Windows program", "application/x-msdownload")
    if data[:4] == b"\x7fELF":
        return Sniffed("program", "Linux program", "application/x-executable")
    if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        return Sniffed("program", "Mac program", "application/x-mach-binary")
    if data[:20] == _LNK_HEADER:
        return Sniffed("shortcut", "Windows shortcut", "application/x-ms-shortcut")
    if data[:16] == _ONENOTE:
        return Sniffed("onenote", "OneNote file")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return Sniffed("ole", "Office file (old format)", "application/x-ole-storage")
    for magic, kind, label in _ARCHIVE_MAGIC:
        if data.startswith(magic):
            return Sniffed(kind, _zip_document_label(data) or label if magic == b"PK\x03\x04" else label)
    if b"%PDF-" in data[:1024]:
        return Sniffed("pdf", "PDF document", "application/pdf")
    if data[:5] == b"{\\rtf" or data[:4] == b"{\\rt":
        return Sniffed("rtf", "RTF document", "application/rtf")
    if data[:8] == b"vhdxfile" or data[:8] == b"conectix":
        return Sniffed("disk_image", "disk image")
    if len(data) > 262 and data[257:262] == b"ustar":
        return Sniffed("tar", "tar archive")
    guess = filetype.guess(data[:8192])
    if guess is not None:
        family = guess.mime.split("/", 1)[0]
        if family in _FAMILY_LABEL:
            return Sniffed(family, _FAMILY_LABEL[family], guess.mime)
    if _SVG_START.match(data[:2048]):
        return Sniffed("svg", "SVG picture", "image/svg+xml")
    if _HTML_START.match(data[:2048]):
        return Sniffed("html", "web page", "text/html")
    if b"\x00" not in data[:1024] and (guess is None or guess.mime == "application/x-msdownload"):
        return Sniffed("text", "text")  # ('MZ' followed by text is not a program)
    if guess is not None:
        return Sniffed("unknown", f"{guess.extension} file", guess.mime)
    return Sniffed("unknown", "unknown")


# --- file names -------------------------------------------------------------------------------------

_PAD = " \u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_PAD_RUN = re.compile(f"[{_PAD}]{{5,}}")
_EXT_TOKEN = re.compile(r"^[a-z][a-z0-9]{1,4}$")


@dataclass(frozen=True, slots=True)
class DoubleExtension:
    decoy: str  # the harmless-looking extension shown to the user ("pdf")
    real: str  # the extension Windows uses ("exe")
    padded: bool  # spaces or dots push the real extension out of view


def double_extension(name: str) -> DoubleExtension | None:
    """'invoice.pdf.exe', 'invoice.pdf      .exe', 'report.doc....scr': a harmless-looking extension
    before the real one. Numbers and dates are not extensions ('v1.2.zip', 'scan.2024.11.03.pdf')."""
    real = extension(name)
    if not real:
        return None
    base = name.strip().rstrip(". ")
    stem = base[: base.rfind(".")]
    trimmed = stem.rstrip(_PAD + ".")
    padded = len(stem) - len(trimmed) >= 2 and (
        bool(_PAD_RUN.search(stem[len(trimmed) :])) or stem[len(trimmed) :].count(".") >= 2
    )
    dot = trimmed.rfind(".")
    if dot < 0:
        return None
    decoy = trimmed[dot + 1 :].strip().lower()
    if not _EXT_TOKEN.match(decoy) or decoy not in DOCUMENT_EXTS or decoy == real:
        return None
    if risky(real) or real in WEB_PAGE_EXTS or padded:
        return DoubleExtension(decoy, real, padded)
    return None


def padding_run(name: str) -> int:
    """Length of the longest run of spaces in a name (5 or more), else 0."""
    runs = [len(m.group()) for m in _PAD_RUN.finditer(name)]
    return max(runs, default=0)


_RTL_LETTER = frozenset({"R", "AL"})
_OVERRIDES = {"\u202e": "rtl", "\u202d": "ltr"}
_ENDS = "\u202c\u2069"


def has_rtl_letters(text: str) -> bool:
    """True if the text holds Hebrew, Arabic or other right-to-left letters."""
    return any(unicodedata.bidirectional(ch) in _RTL_LETTER for ch in text if ord(ch) > 0x58F)


def displayed_as(name: str) -> str:
    """How a mail program shows a name with a RIGHT-TO-LEFT OVERRIDE: the text after it runs backwards
    (up to a POP DIRECTIONAL FORMATTING). Other control characters are dropped. Simplified bidi: enough
    for the file-name trick, not a full Unicode bidi implementation."""
    out: list[str] = []
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "\u202e":
            end = i + 1
            while end < len(name) and name[end] not in _ENDS:
                end += 1
            segment = "".join(c for c in name[i + 1 : end] if unicodedata.category(c) != "Cf")
            out.append(segment[::-1])
            i = end + 1
            continue
        if unicodedata.category(ch) != "Cf":
            out.append(ch)
        i += 1
    return "".join(out)
