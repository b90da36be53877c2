"""The message model every rule reads: headers, addresses and the MIME parts it may look at.

A model is built either from a whole message or from a partial view (header block, MIME structure and
the first bytes of each part, as the IMAP scanner fetches them). Rules never see the difference,
except through `Part.complete`.
"""

import email.message
import email.utils
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from klezguard.core.fetchplan import extension
from klezguard.core.headers import (
    Address,
    decode_bytes,
    decode_words,
    first_address,
    message_ids,
    parse_addresses,
    to_text,
    unfold,
)


@dataclass(slots=True)
class Part:
    """One leaf of the MIME tree, numbered as IMAP numbers it ("1", "2.1")."""

    part_id: str
    content_type: str
    params: dict[str, str]
    disposition: str
    filename: str
    encoding: str
    size: int  # transfer-encoded size in bytes, as IMAP's BODYSTRUCTURE reports it
    data: bytes  # decoded content, or its first bytes when `complete` is False
    complete: bool
    description: str = ""
    defects: list[str] = field(default_factory=list)

    @property
    def extension(self) -> str:
        return extension(self.filename)

    @property
    def charset(self) -> str:
        return self.params.get("charset", "") or "utf-8"

    @property
    def is_attachment(self) -> bool:
        """True for files the user would see as attachments (not the message text itself)."""
        if self.filename:
            return True
        if self.disposition == "attachment":
            return True
        return not (
            self.content_type.startswith("text/")
            or self.content_type.startswith("multipart/")
            or self.content_type.startswith("message/")
        )

    def text(self) -> str:
        """The content as text, decoded with the declared charset (never raises)."""
        return decode_bytes(self.data, self.charset)

    @property
    def approx_decoded_size(self) -> int:
        if self.encoding == "base64":
            return self.size * 3 // 4 * 76 // 78
        return self.size


class Message:
    """A parsed message. Header access is lenient; derived values are computed once, on demand."""

    def __init__(
        self,
        headers: list[tuple[str, str]],
        parts: list[Part],
        content_type: str,
        content_params: dict[str, str],
        defects: list[str],
        partial: bool,
        size: int = 0,
        limits: tuple[str, ...] = (),
    ):
        self.limits = limits  # which limits of core/limits.py the message went over ("parts", "depth", ...)
        self.headers = headers
        self.parts = parts
        self.content_type = content_type
        self.content_params = content_params
        self.defects = defects
        self.partial = partial
        self.size = size
        self._index: dict[str, list[str]] = {}
        for name, value in headers:
            self._index.setdefault(name.lower(), []).append(value)

    # --- raw header access -------------------------------------------------------------------
    def header(self, name: str) -> str:
        """First value of a header, unfolded, with raw 8-bit text recovered ('' when absent)."""
        values = self._index.get(name.lower())
        return unfold(to_text(values[0])) if values else ""

    def header_all(self, name: str) -> list[str]:
        return [unfold(to_text(v)) for v in self._index.get(name.lower(), [])]

    def has(self, name: str) -> bool:
        return name.lower() in self._index

    def decoded(self, name: str) -> str:
        """First value of a header with RFC 2047 encoded words decoded."""
        values = self._index.get(name.lower())
        return decode_words(values[0]) if values else ""

    # --- addresses ---------------------------------------------------------------------------
    @cached_property
    def from_all(self) -> list[Address]:
        values = self._index.get("from", [])
        return parse_addresses(values[0]) if values else []

    @cached_property
    def from_addr(self) -> Address | None:
        """The author as From names it (the first address with an @)."""
        for a in self.from_all:
            if "@" in a.addr:
                return a
        return None

    @cached_property
    def reply_to(self) -> list[Address]:
        return [a for a in parse_addresses(self.header("reply-to")) if "@" in a.addr]

    @cached_property
    def sender(self) -> Address | None:
        return first_address(self.header("sender"))

    @cached_property
    def return_path(self) -> Address | None:
        """The envelope sender, as the receiving server recorded it (topmost Return-Path)."""
        value = self.header("return-path")
        if value.strip() in ("<>", ""):
            return None
        return first_address(value)

    @cached_property
    def null_return_path(self) -> bool:
        """Empty envelope sender (<>): how servers send bounces and auto-replies."""
        return self.header("return-path").replace(" ", "") == "<>"

    @cached_property
    def to(self) -> list[Address]:
        return [a for v in self.header_all("to") for a in parse_addresses(v) if "@" in a.addr]

    @cached_property
    def cc(self) -> list[Address]:
        return [a for v in self.header_all("cc") for a in parse_addresses(v) if "@" in a.addr]

    # --- identity and text -------------------------------------------------------------------
    @cached_property
    def message_id(self) -> str:
        return self.header("message-id")

    @cached_property
    def message_id_key(self) -> str:
        ids = message_ids(self.message_id)
        return ids[0] if ids else ""

    @cached_property
    def subject(self) -> str:
        return self.decoded("subject")

    @cached_property
    def from_display(self) -> str:
        return decode_words(self._index.get("from", [""])[0]) if self.has("from") else ""

    @property
    def is_multipart_report(self) -> bool:
        return self.content_type == "multipart/report"

    @cached_property
    def attachments(self) -> list[Part]:
        return [p for p in self.parts if p.is_attachment]

    @cached_property
    def body_parts(self) -> list[Part]:
        """The parts that are the message text (plain or HTML), not files."""
        return [
            p
            for p in self.parts
            if p.content_type in ("text/plain", "text/html") and not p.filename and p.disposition != "attachment"
        ]

    @cached_property
    def body_text(self) -> str:
        return "\n".join(p.text() for p in self.body_parts if p.content_type == "text/plain")

    @cached_property
    def body_html(self) -> str:
        return "\n".join(p.text() for p in self.body_parts if p.content_type == "text/html")

    @cached_property
    def is_mailing_list(self) -> bool:
        """List-Id and friends, or Precedence: list/bulk — mail that legitimately rewrites senders."""
        if any(self.has(h) for h in ("list-id", "list-post", "list-unsubscribe", "list-help", "mailing-list")):
            return True
        return self.header("precedence").lower() in ("list", "bulk")

    @cached_property
    def date(self) -> str:
        return self.header("date")

    def parsed_date(self) -> datetime | None:
        try:
            return email.utils.parsedate_to_datetime(self.date) if self.date else None
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
