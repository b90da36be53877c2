"""Builds a Message from raw bytes or from a partial view, never raising on malformed mail.

The stdlib parser with the compat32 policy is used: it is several times faster than policy.default
and its defects list is kept as evidence.
"""

import binascii
import email
import email.generator
import email.message
import email.parser
import email.policy
import email.utils
import io
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from klezguard.core.fetchplan import TEXT_BYTES, decoded_bytes_needed
from klezguard.core.headers import decode_words, to_text
from klezguard.core.limits import (
    MAX_BOUNDARY_LINES,
    MAX_DEFECTS,
    MAX_DEPTH,
    MAX_HEADER_FIELDS,
    MAX_PARAM_TEXT,
    MAX_PARTS,
)
from klezguard.core.message import Message, Part

_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_MAX_PART_BYTES = 64 * 1024 * 1024  # a bound on memory for absurd parts of local files


@dataclass(slots=True)
class PartInfo:
    """One leaf of the MIME structure as an IMAP BODYSTRUCTURE describes it."""

    part_id: str
    content_type: str
    params: dict[str, str] = field(default_factory=dict)
    disposition: str = ""
    disposition_params: dict[str, str] = field(default_factory=dict)
    encoding: str = "7bit"
    size: int = 0
    description: str = ""


def decode_transfer(encoded: bytes, encoding: str, truncated: bool = False) -> bytes:
    """Undoes a Content-Transfer-Encoding; a cut-off base64 or QP prefix decodes to its first bytes."""
    encoding = (encoding or "").strip().lower()
    if encoding == "base64":
        if not truncated:
            try:
                return binascii.a2b_base64(encoded)
            except (binascii.Error, ValueError):
                pass
        clean = _NOT_BASE64.sub(b"", encoded)
        if truncated:
            clean = clean[: len(clean) - len(clean) % 4]
        else:
            clean += b"=" * (-len(clean) % 4)
        try:
            return binascii.a2b_base64(clean)
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        if truncated:
            cut = encoded.rfind(b"=", max(0, len(encoded) - 2))
            if cut >= 0:
                encoded = encoded[:cut]
        try:
            return quopri.decodestring(encoded)
        except (ValueError, binascii.Error):
            return encoded
    return encoded


class _Compat32Plain(email.policy.Compat32):
    """compat32 whose header folding skips the stdlib's Header machinery in the common case it leaves as
    it is: ASCII lines that each fit the line length, none empty, blank or ending in white space, each
    after the first starting with white space. For those `Header(value).encode()` returns the lines
    joined with `linesep`; everything else goes the stdlib's way, so the bytes are exactly those of
    `as_bytes()` with compat32."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, str) and value.isascii() and isinstance(name, str):
            lines = value.splitlines()
            limit = self.max_line_length or 1000000  # 0 or None: no wrapping, as Header.encode does
            used = len(name) + 2
            plain = bool(lines)
            for n, line in enumerate(lines):
                if (not line or len(line) + used > limit or line[-1] in " \t" or line.isspace()
                        or (n and line[0] not in " \t")):  # (Header.encode refuses "\nName:" in a value)
                    plain = False
                    break
                used = 0
            if plain:
                return f"{name}: {self.linesep.join(lines)}{self.linesep}".encode("ascii", "surrogateescape")
        return super().fold_binary(name, value)


_AS_BYTES_POLICY = _Compat32Plain()
_LINE_END = re.compile(r"\r\n|\r|\n")  # the generator's own NLCRE


# The rules read at most TEXT_BYTES of an enclosed message (as IMAP fetches it); re-serialising one stops
# once twice that much is written, so a returned message of thousands of parts costs no more than that.
ENCLOSED_BYTES = 2 * TEXT_BYTES


class _BytesGenerator(email.generator.BytesGenerator):
    """BytesGenerator writing a body's lines in one go (the stdlib writes each line and each line end
    separately: splitting on NLCRE and joining with _NL is exactly a substitution of _NL for each line end),
    and leaving out the parts that would start after `budget` bytes. Parts are written in order, so the first
    `budget` bytes are those of the whole serialisation, and more than that is written when anything was
    left out."""

    def __init__(self, *args: Any, budget: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._budget = budget if budget is not None else [ENCLOSED_BYTES]

    def clone(self, fp: Any) -> "_BytesGenerator":
        twin = super().clone(fp)
        twin._budget = self._budget
        return twin

    def flatten(self, msg: Any, unixfrom: bool = False, linesep: str | None = None) -> None:
        if self._budget[0] < 0:
            return  # a part after the budget ran out: left out
        super().flatten(msg, unixfrom, linesep)

    def write(self, s: str) -> None:
        self._budget[0] -= len(s)
        super().write(s)

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(self._NL.join(_LINE_END.split(lines)))  # type: ignore[attr-defined]


def _as_bytes(m: email.message.Message) -> bytes:
    """`m.as_bytes()` under compat32 (the parser's policy), with faster header folding and body writing;
    exactly its first ENCLOSED_BYTES bytes or more, never less (the parts after those may be left out)."""
    if m.policy is not email.policy.compat32:
        return m.as_bytes()
    out = io.BytesIO()
    _BytesGenerator(out, mangle_from_=False, policy=_AS_BYTES_POLICY).flatten(m, unixfrom=False)
    return out.getvalue()


def _payload_bytes(part: email.message.Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        # message/rfc822: keep the enclosed message as bytes, the way IMAP would hand it over.
        try:
            if part.get_content_type() == "message/delivery-status":
                # The stdlib splits a delivery report into one pseudo-message per block (per-message
                # fields, then one block per recipient): keep them all, as IMAP would hand them over.
                return b"".join(_as_bytes(b) for b in payload if isinstance(b, email.message.Message))
            inner = payload[0]
            return _as_bytes(inner) if isinstance(inner, email.message.Message) else b""
        except Exception:  # noqa: BLE001 - re-serialising broken mail can fail in many ways
            return b""
    if payload is None:
        return b""
    text = str(payload)
    try:
        return text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _bounded(m: email.message.Message, header: str) -> email.message.Message:
    """`m`, or a stand-in holding only the first MAX_PARAM_TEXT characters of `header`: the stdlib's
    parameter parser takes time that grows with the square of their number."""
    value = m.get(header)
    if value is None or len(str(value)) <= MAX_PARAM_TEXT:
        return m
    short = email.message.Message()
    short[header] = str(value)[:MAX_PARAM_TEXT]
    return short


_Params = list[tuple[str, Any]] | None  # a value is a string, or a (charset, language, text) of RFC 2231


# The plain form most Content-Type and Content-Disposition headers take ('text/plain; charset="utf-8"'):
# read without the stdlib's parameter machinery (quote counting, RFC 2231 continuations, quoting and
# unquoting twice), which costs more than the rest of building a part. Anything else (quotes or
# backslashes inside a value, '*' names, '<...>', odd characters) goes the stdlib's way; a test compares
# both on every form this accepts.
_PLAIN_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("?)([A-Za-z0-9 ._/+:,=@()?-]*)\2\s*')
_PLAIN_HEAD = re.compile(r"[A-Za-z0-9!#$&^_.+/\s-]*")


def _plain_params(value: object) -> "_Params | Literal[False]":
    """`get_params` of a plain header value, or False when it is not plain."""
    if type(value) is not str or len(value) > MAX_PARAM_TEXT or not value.isascii():
        return False
    head, *pairs = value.split(";")
    if not _PLAIN_HEAD.fullmatch(head):
        return False
    out: list[tuple[str, Any]] = [(head.strip(), "")]
    for pair in pairs:
        plain = _PLAIN_PARAM.fullmatch(pair)
        if not plain or (not plain.group(2) and plain.group(3) != plain.group(3).strip()):
            return False
        out.append((plain.group(1).lower(), plain.group(3)))
    return out


class _Fields:
    """A part's MIME headers read in one pass over its fields: `get` answers as `Message.get` does (the
    first field of that name, through the policy), without a scan of every field for each name."""

    __slots__ = ("_m", "_first")

    def __init__(self, m: email.message.Message) -> None:
        self._m = m
        first: dict[str, tuple[str, Any]] = {}
        for name, value in m._headers:  # type: ignore[attr-defined]  # noqa: SLF001
            first.setdefault(name.lower(), (name, value))
        self._first = first

    def get(self, header: str, failobj: Any = None) -> Any:
        found = self._first.get(header)
        return failobj if found is None else self._m.policy.header_fetch_parse(*found)


def _param_list(m: email.message.Message, header: str, fields: "_Fields | None" = None) -> _Params:
    """`get_params` of a header (None when it is missing or its parameters cannot be read)."""
    value = (fields or m).get(header)
    if value is None:
        return None
    plain = _plain_params(value)
    if plain is not False:
        return plain
    try:
        return _bounded(m, header).get_params(header=header)
    except Exception:  # noqa: BLE001
        return None


def _params_of(pairs: _Params) -> dict[str, str]:
    out = {}
    for key, value in (pairs or [])[1:]:
        if isinstance(value, tuple):
            value = email.utils.collapse_rfc2231_value(value)
        out[str(key).lower()] = to_text(value)
    return out


def _params(m: email.message.Message, header: str) -> dict[str, str]:
    return _params_of(_param_list(m, header))


def _filename_of(disposition: _Params, content_type: _Params) -> str:
    """The file name from the two headers' parameter lists, as `get_param` would find it in each."""
    for param, pairs in (("filename", disposition), ("name", content_type)):
        value = next((v for k, v in pairs or () if k.lower() == param), None)
        if value:
            if isinstance(value, tuple):
                value = email.utils.collapse_rfc2231_value(value)
            return decode_words(value, keep_space=True)
    return ""


def _filename(m: email.message.Message) -> str:
    return _filename_of(_param_list(m, "content-disposition"), _param_list(m, "content-type"))


def _disposition(m: "email.message.Message | _Fields") -> str:
    value = to_text(m.get("content-disposition", ""))
    return value.split(";", 1)[0].strip().lower()


def _leaves(root: email.message.Message, limits: set[str]) -> list[tuple[str, email.message.Message, str]]:
    """(IMAP part number, part, declared type) of each leaf in order: at most MAX_PARTS, at most MAX_DEPTH
    multipart levels (a deeper multipart is kept as one opaque leaf). Iterative, so no nesting exhausts
    the stack."""
    found: list[tuple[str, email.message.Message, str]] = []
    stack: list[tuple[str, email.message.Message, int]] = [("", root, 0)]
    while stack:
        part_id, m, depth = stack.pop()
        payload = m.get_payload()
        declared = m.get_content_type()
        multipart = declared.split("/")[0] == "multipart"
        if multipart and isinstance(payload, list) and depth < MAX_DEPTH:
            children = [(f"{part_id}.{i}" if part_id else str(i), sub, depth + 1)
                        for i, sub in enumerate(payload, 1) if isinstance(sub, email.message.Message)]
            stack.extend(reversed(children))
            continue
        if multipart and depth >= MAX_DEPTH:
            limits.add("depth")
        if len(found) >= MAX_PARTS:
            limits.add("parts")
            break
        found.append((part_id or "1", m, declared))
    return found


def _cut_parts(raw: bytes, limits: set[str]) -> bytes:
    """A whole message with more boundary-like lines than MAX_BOUNDARY_LINES is cut after the last one
    allowed: the parser's own time grows with the parts, and the rules look at MAX_PARTS of them."""
    if len(raw) <= 3 * MAX_BOUNDARY_LINES or raw.count(b"\n--") <= MAX_BOUNDARY_LINES:
        return raw
    pos = -1
    for _ in range(MAX_BOUNDARY_LINES + 1):
        pos = raw.find(b"\n--", pos + 1)
    limits.add("parts")
    return raw[:pos + 1]


_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")


def content_type_of(value: str) -> str:
    """A MIME type as one clean token: a folded header or a server's answer can carry line breaks and
    more words after the type, which must never reach evidence or a report as lines of their own."""
    words = to_text(value).strip().lower().split(None, 1)
    token = words[0].split(";", 1)[0] if words else ""
    return token if _MIME_TYPE.fullmatch(token) else "application/octet-stream"


def _defect_names(defects: Iterable[object]) -> list[str]:
    return [type(d).__name__ for d in defects]


def from_bytes(raw: bytes) -> Message:
    """Parses a whole message; every part's content is available to the rules."""
    limits: set[str] = set()
    root: email.message.Message | None
    try:
        root = email.message_from_bytes(_cut_parts(raw, limits))
    except RecursionError:  # the stdlib parser recurses once per nesting level: keep the headers only
        limits.add("depth")
        root = _headers_only(raw)
    except Exception as exc:  # noqa: BLE001 - the contract is: malformed mail never raises
        return Message([], [], "text/plain", {}, [f"Unparseable: {type(exc).__name__}"], False, len(raw))
    if root is None:
        return Message([], [], "text/plain", {}, ["Unparseable"], False, len(raw), limits=tuple(sorted(limits)))
    defects = _defect_names(root.defects)
    parts = []
    root_is_leaf, root_params = False, None  # (a single-part message: its type's parameters are read once)
    for part_id, m, declared in _leaves(root, limits):
        cut_here = isinstance(m.get_payload(), list) and declared.split("/")[0] == "multipart"  # too deep
        encoded = b"" if cut_here else _payload_bytes(m)
        if len(encoded) > _MAX_PART_BYTES:
            encoded = encoded[:_MAX_PART_BYTES]
        fields = _Fields(m)
        encoding = to_text(fields.get("content-transfer-encoding", "")).strip().lower() or "7bit"
        part_defects = _defect_names(m.defects) if m is not root else []
        defects.extend(part_defects)
        content_type = content_type_of(declared)
        type_params = _param_list(m, "content-type", fields)
        if m is root:
            root_is_leaf, root_params = True, type_params
        parts.append(
            Part(
                part_id=part_id,
                content_type=content_type,
                params=_params_of(type_params),
                disposition=_disposition(fields),
                filename=_filename_of(_param_list(m, "content-disposition", fields), type_params),
                encoding=encoding if content_type != "message/rfc822" else "7bit",
                size=len(encoded),
                data=decode_transfer(encoded, encoding) if content_type != "message/rfc822" else encoded,
                complete=True,
                description=decode_words(fields.get("content-description", "")),
                defects=part_defects,
            )
        )
    return Message(
        headers=_header_fields(root, limits),
        parts=parts,
        content_type=content_type_of(root.get_content_type()),
        content_params=_params_of(root_params) if root_is_leaf else _params(root, "content-type"),
        defects=defects[:MAX_DEFECTS],
        partial=False,
        size=len(raw),
        limits=tuple(sorted(limits)),
    )


def _headers_only(raw: bytes) -> email.message.Message | None:
    try:
        return email.parser.BytesHeaderParser().parsebytes(raw[: _header_end(raw)])
    except Exception:  # noqa: BLE001
        return None


def _header_fields(root: email.message.Message, limits: set[str]) -> list[tuple[str, str]]:
    # raw, ordered, unfolded later; typeshed's Message stub leaves out the private _headers list
    fields: list[tuple[str, str]] = root._headers  # type: ignore[attr-defined]  # noqa: SLF001
    if len(fields) > MAX_HEADER_FIELDS:
        limits.add("headers")
    return [(k, v) for k, v in fields[:MAX_HEADER_FIELDS]]


def _synthetic_headers(info: PartInfo) -> email.message.Message:
    """A header-only message carrying a BODYSTRUCTURE leaf's parameters, decoded like a real part."""
    m = email.message.Message()

    def params(pairs: dict[str, str]) -> str:
        return "".join(f'; {k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                       for k, v in pairs.items())

    m["Content-Type"] = info.content_type + params(info.params)
    if info.disposition or info.disposition_params:
        m["Content-Disposition"] = (info.disposition or "attachment") + params(info.disposition_params)
    return m


def from_partial(
    header_block: bytes, structure: list[PartInfo], fetched: dict[str, bytes], size: int = 0
) -> Message:
    """Builds a Message from what the scanner fetched: headers, structure and each part's first bytes.

    `fetched` maps part ids to the transfer-encoded bytes fetched from the start of each part
    (as many as `fetchplan` asks for; a part missing here has no content to look at).
    """
    try:
        root = email.parser.BytesHeaderParser().parsebytes(header_block)
    except Exception as exc:  # noqa: BLE001
        return Message([], [], "text/plain", {}, [f"Unparseable: {type(exc).__name__}"], True, size)
    limits: set[str] = set()
    if len(structure) > MAX_PARTS:
        limits.add("parts")
    parts = []
    for info in structure[:MAX_PARTS]:
        content_type = content_type_of(info.content_type)
        if content_type.startswith("multipart/") and info.part_id.count(".") + 1 >= MAX_DEPTH:
            limits.add("depth")  # the server's structure nests deeper than the rules follow
        encoded = fetched.get(info.part_id, b"")
        complete = len(encoded) >= info.size
        encoding = (info.encoding or "").lower() if content_type != "message/rfc822" else "7bit"
        data = decode_transfer(encoded, encoding, truncated=not complete)
        named = any(k.lower().startswith(("filename", "name")) for k in (*info.params, *info.disposition_params))
        filename = _filename(_synthetic_headers(info)) if named else ""
        limit = decoded_bytes_needed(content_type, filename)
        parts.append(
            Part(
                part_id=info.part_id,
                content_type=content_type,
                params={k.lower(): v for k, v in info.params.items()},
                disposition=(info.disposition or "").lower(),
                filename=filename,
                encoding=encoding,
                size=info.size,
                data=data[:limit] if not complete else data,
                complete=complete,
                description=decode_words(info.description),
            )
        )
    return Message(
        headers=_header_fields(root, limits),
        parts=parts,
        content_type=content_type_of(root.get_content_type()),
        content_params=_params(root, "content-type"),
        defects=_defect_names(root.defects)[:MAX_DEFECTS],
        partial=True,
        size=size,
        limits=tuple(sorted(limits)),
    )


def partial_view(raw: bytes) -> tuple[bytes, list[PartInfo], dict[str, bytes]]:
    """What an IMAP scanner would fetch of `raw` under the fetch plan (used by tests and benchmarks).

    The structure comes from the stdlib parser (as the server's BODYSTRUCTURE would), the header block
    and the part prefixes are sliced from the raw bytes.
    """
    from klezguard.core.fetchplan import encoded_bytes_needed

    head_end = _header_end(raw)
    header_block = raw[:head_end]
    full = from_bytes(raw)
    structure, fetched = [], {}
    try:
        leaves = {part_id: m for part_id, m, _ in _leaves(email.message_from_bytes(_cut_parts(raw, set())), set())}
    except RecursionError:
        leaves = {}
    for part in full.parts:
        m = leaves.get(part.part_id)
        info = PartInfo(
            part_id=part.part_id,
            content_type=part.content_type,
            params=_raw_params(m, "content-type") if m is not None else {},
            disposition=part.disposition,
            disposition_params=_raw_params(m, "content-disposition") if m is not None else {},
            encoding=part.encoding,
            size=part.size,
            description=to_text(m.get("content-description", "")) if m is not None else "",
        )
        structure.append(info)
        cut_here = m is None or (isinstance(m.get_payload(), list) and m.get_content_maintype() == "multipart")
        encoded = b"" if cut_here or m is None else _payload_bytes(m)
        need = encoded_bytes_needed(decoded_bytes_needed(part.content_type, part.filename), part.encoding)
        fetched[part.part_id] = encoded[:need]
    # A server reports every part and every level; what the rules leave out shows in the structure.
    if "parts" in full.limits and len(structure) == MAX_PARTS:
        structure.append(PartInfo(part_id="more", content_type="application/octet-stream"))
    if "depth" in full.limits and not any(i.content_type.startswith("multipart/")
                                          and i.part_id.count(".") + 1 >= MAX_DEPTH for i in structure):
        structure.append(PartInfo(part_id=".".join(["1"] * MAX_DEPTH), content_type="multipart/mixed"))
    return header_block, structure, fetched


def _raw_params(m: email.message.Message, header: str) -> dict[str, str]:
    """Parameters as a server reports them: names and values as written, RFC 2231 pieces unjoined."""
    value = to_text(m.get(header, ""))
    out = {}
    for piece in _split_params(value)[1:]:
        key, _, val = piece.partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if key.strip():
            out[key.strip().lower()] = val
    return out


def _split_params(value: str) -> list[str]:
    pieces, current, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current).strip())
    return pieces


def _header_end(raw: bytes) -> int:
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    return min(ends) if ends else len(raw)
