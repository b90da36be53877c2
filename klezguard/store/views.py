"""A message's partial view packed for the store: what the rules read, so a newer engine can judge it again
without the server."""

import json
import zlib
from dataclasses import dataclass
from typing import Any

from klezguard.errors import StoreError

VIEW_MAGIC = b"KGV1"


KEEP_PART = 256 * 1024  # bytes of one part a stored view keeps: all of any text, not a big archive
KEEP_HEAD = 4096  # what is kept of a bigger part (its type can still be told from it)


@dataclass
class View:
    """A stored partial view. `cut`: parts kept only in part (big archives and documents): the store keeps
    what the findings show (names, sizes, listings are in the findings), not megabytes of attachments."""

    head: bytes
    structure: list[dict[str, Any]]
    fetched: dict[str, bytes]
    cut: list[str]


def pack_view(header_block: bytes, structure: list[dict[str, Any]], fetched: dict[str, bytes],
              keep: int = KEEP_PART) -> bytes:
    """The partial view, compressed, so a newer engine can judge the message again without the server.

    A small JSON index followed by the raw bytes: encoding megabytes of attachment bytes as JSON text would
    hold the interpreter for tens of milliseconds and make the window stutter during a scan."""
    cut = [part_id for part_id, data in fetched.items() if len(data) > keep]
    parts = [(part_id, data if len(data) <= keep else data[:KEEP_HEAD]) for part_id, data in fetched.items()]
    meta = json.dumps({"head": len(header_block), "structure": structure, "cut": cut,
                       "parts": [[part_id, len(data)] for part_id, data in parts]}).encode("utf-8")
    body = b"".join([VIEW_MAGIC, len(meta).to_bytes(4, "big"), meta, header_block, *(data for _, data in parts)])
    return zlib.compress(body, 1)


def unpack_view(blob: bytes) -> View:
    body = zlib.decompress(blob)
    if not body.startswith(VIEW_MAGIC):
        raise StoreError("A stored message view is damaged.", "Scan the folder again.")
    size = int.from_bytes(body[4:8], "big")
    meta = json.loads(body[8 : 8 + size])
    offset = 8 + size
    head = body[offset : offset + meta["head"]]
    offset += meta["head"]
    fetched = {}
    for part_id, length in meta["parts"]:
        fetched[part_id] = body[offset : offset + length]
        offset += length
    return View(head, meta["structure"], fetched, meta.get("cut", []))
