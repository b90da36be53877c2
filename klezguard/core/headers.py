"""Lenient decoding of header values: encoded words, raw 8-bit bytes and address lists.

Mail in the wild is full of broken encodings; none of these functions raises on bad input.
"""

import codecs
import email.header
import email.utils
import re
from dataclasses import dataclass

_WS = re.compile(r"\s+")


_SURROGATE = re.compile("[\ud800-\udfff]")
# Python codecs that are not character sets: they turn escape sequences in the mail into any character,
# lone surrogates included (which no file, database or terminal can write), or they are not text at all.
_NOT_CHARSETS = frozenset({"unicode_escape", "raw_unicode_escape", "escape", "punycode", "idna", "undefined",
                           "mbcs", "oem", "charmap"})


def scrub(text: str) -> str:
    """Text that can always be stored and printed: a lone surrogate becomes U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")  # fails exactly when a lone surrogate is in it; much faster than the regex
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def to_text(value: object) -> str:
    """A header value as text: undoes the parser's surrogate escapes of raw 8-bit bytes (UTF-8 first)."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    text = str(value)
    if text.isascii():
        return text  # fast path: surrogate escapes are never ASCII
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return scrub(text)


def _charset(name: str) -> str | None:
    """The codec for a declared charset, or None when the name is unknown or not a character set."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):  # ValueError: a charset name with a NUL in it
        return None
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str, fallback: str = "utf-8") -> str:
    """Bytes as text in the declared charset; an unknown, garbled or escaping charset name falls back,
    and the result never holds a lone surrogate. Never raises."""
    codec = _charset(charset) if charset else None
    try:
        text = data.decode(codec or fallback, "replace")
    except (LookupError, ValueError, TypeError):
        text = data.decode(fallback, "replace")
    return scrub(text)


def unfold(value: str) -> str:
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # its only white space is single spaces: nothing to join
    return _WS.sub(" ", value).strip()


def decode_words(value: object, keep_space: bool = False) -> str:
    """Decodes RFC 2047 encoded words; leaves anything it cannot decode as it was.

    `keep_space` keeps white space as it is (file names: padding is a trick worth seeing).
    """
    text = to_text(value)
    tidy = (lambda t: t.replace("\r", "").replace("\n", "")) if keep_space else unfold
    if "=?" not in text:
        return tidy(text)
    try:
        parts = email.header.decode_header(text)
    except Exception:  # noqa: BLE001 - the email package raises many types on garbage
        return tidy(text)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset or "ascii", fallback="latin-1"))
        else:
            out.append(chunk)
    return scrub(tidy("".join(out)))


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: what the name says and where the mail really comes from or goes to."""

    name: str
    addr: str

    @property
    def local(self) -> str:
        return self.addr.rpartition("@")[0] if "@" in self.addr else self.addr

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2].lower().rstrip(".") if "@" in self.addr else ""

    def __str__(self) -> str:
        if self.name and self.name != self.addr:
            return f"{self.name} <{self.addr}>"
        return self.addr


# The plain forms most headers take ("Anna Weber <anna@x.example>", "anna@x.example"): read without the
# stdlib's full RFC 5322 parser, which costs more than all the rest of reading the header. Anything else
# (quotes, commas, comments, encoded words, groups, several addresses) goes to the full parser; a test
# compares both on every form this accepts.
_ATOM_ADDR = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_PLAIN = re.compile(rf"\s*(?:([A-Za-z0-9][A-Za-z0-9 '_-]*?)\s*)?<({_ATOM_ADDR})>\s*|\s*({_ATOM_ADDR})\s*")


def parse_addresses(value: object) -> list[Address]:
    """All addresses of an address header, decoding names; junk yields what can be recognised."""
    text = to_text(value)
    if not text.strip():
        return []
    plain = _PLAIN.fullmatch(text)
    if plain and ".." not in text:
        name, addr, bare = plain.groups()
        return [Address(" ".join(name.split()) if name else "", addr or bare)]
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # noqa: BLE001
        pairs = []
    result = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>")
        name = decode_words(name).strip().strip('"').strip()
        if not addr and not name:
            continue
        result.append(Address(name, addr))
    return result


def first_address(value: object) -> Address | None:
    found = [a for a in parse_addresses(value) if "@" in a.addr]
    return found[0] if found else None


_ANGLE_ID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: object) -> list[str]:
    """Message-IDs in a header (Message-ID, References, In-Reply-To), without angle brackets."""
    text = to_text(value)
    ids = _ANGLE_ID.findall(text)
    if not ids and text.strip() and " " not in text.strip():
        ids = [text.strip()]
    return [i.strip().lower() for i in ids]
