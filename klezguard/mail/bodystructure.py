"""Turns an IMAP BODYSTRUCTURE (as imapclient parses it) into the leaves the message model reads.

Numbering follows RFC 3501: the body of a single-part message is part 1; children of a multipart
are 1, 2, ...; nested multiparts give 2.1, 2.2. A message/rfc822 part is a leaf here: its first bytes
(the enclosed headers) are what the rules read.
"""

from klezguard.core.limits import MAX_DEPTH, MAX_PARTS
from klezguard.core.parse import PartInfo


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return str(value)


def _params(value) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = list(value)
    return {_text(items[i]).lower(): _text(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def _disposition(value) -> tuple[str, dict[str, str]]:
    if isinstance(value, tuple | list) and value:
        return _text(value[0]).lower(), _params(value[1] if len(value) > 1 else None)
    return "", {}


def _is_multipart(body) -> bool:
    return bool(body) and isinstance(body[0], list | tuple) and not isinstance(body[0], bytes | str)


def _leaf(body, part_id: str) -> PartInfo:
    main = _text(body[0]).lower()
    sub = _text(body[1]).lower()
    content_type = f"{main}/{sub}"
    size = body[6] if len(body) > 6 and isinstance(body[6], int) else 0
    # Extension data follows the type-specific fields: text has `lines`; message/rfc822 has
    # envelope, body and lines.
    if main == "text":
        ext = 8
    elif content_type in ("message/rfc822", "message/global"):
        ext = 10
    else:
        ext = 7
    disposition = body[ext + 1] if len(body) > ext + 1 else None
    disp, disp_params = _disposition(disposition)
    return PartInfo(
        part_id=part_id,
        content_type=content_type,
        params=_params(body[2]),
        disposition=disp,
        disposition_params=disp_params,
        encoding=_text(body[5]).lower() or "7bit",
        size=size,
        description=_text(body[4]),
    )


def leaves(body, part_id: str = "") -> list[PartInfo]:
    """The leaf parts of a BODYSTRUCTURE, in order, with their IMAP part numbers: at most MAX_PARTS and
    one more (so that the message model sees there were more), following at most MAX_DEPTH multipart
    levels (a deeper one is kept as a multipart leaf, as the whole-message parser does). Iterative."""
    found: list[PartInfo] = []
    stack = [(body, part_id, 0)]
    while stack and len(found) <= MAX_PARTS:
        node, node_id, depth = stack.pop()
        if _is_multipart(node):
            if depth < MAX_DEPTH:
                children = [(child, f"{node_id}.{i}" if node_id else str(i), depth + 1)
                            for i, child in enumerate(_children(node), 1)]
                stack.extend(reversed(children))
                continue
            found.append(PartInfo(part_id=node_id or "1", content_type="multipart/" + _subtype(node)))
            continue
        found.append(_leaf(node, node_id or "1"))
    return found


def _children(node) -> list:
    return list(node[0])


def _subtype(node) -> str:
    for item in node:
        if isinstance(item, bytes | str):
            return _text(item).lower() or "mixed"
    return "mixed"
