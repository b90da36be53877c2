"""Fetching from IMAP folders: only what is new, only the bytes the rules need, never setting \\Seen.

First the header block, BODYSTRUCTURE, size, flags and date of a batch; then, grouped so that one
FETCH serves many messages, the first bytes of the parts the fetch plan asks for (bodies, reports,
attachments; archives whole up to a cap). Folders are opened read-only (EXAMINE), and every body fetch
is a BODY.PEEK, so the user's unread mail stays unread. Answers of any size are asked for in pieces,
each command under a deadline; what cannot be read is narrowed down to the one message behind it.

This module only reads the server: judging and storing are the application's (application/scan.py).
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import imapclient

from klezguard.core.fetchplan import decoded_bytes_needed, encoded_bytes_needed
from klezguard.core.limits import MAX_PARTS
from klezguard.core.parse import PartInfo
from klezguard.mail.bodystructure import leaves
from klezguard.mail.watchdog import DEADLINE, CancelFlag, guarded

log = logging.getLogger(__name__)

BATCH = 500
HEAD_ITEMS = ["BODY.PEEK[HEADER]", "BODYSTRUCTURE", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
SENT_ITEMS = ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM TO CC BCC)]"]
SEARCH_CHUNK = 20_000  # messages per UID SEARCH: its answer stays far below any line limit
HEAD_BUDGET = 16 * 1024 * 1024  # message bytes per header FETCH: a BODYSTRUCTURE grows with the parts
PART_BUDGET = 32 * 1024 * 1024  # part bytes fetched before they go to the judge and are let go
PART_ITEMS = 100  # parts of one message asked for in one FETCH
# What a FETCH answer that cannot be read raises while parsing (imapclient reads the whole answer first,
# so the connection stays usable): the batch is split until the one message behind it is found.
UNREADABLE = (imapclient.exceptions.ProtocolError, ValueError, IndexError, TypeError, KeyError, AttributeError,
              RecursionError, UnicodeError)


@dataclass
class Fetched:
    """What was fetched of one message."""

    uid: int
    head: bytes
    structure: list[PartInfo]
    parts: dict[str, bytes]
    size: int
    flags: tuple[str, ...]
    internaldate: float | None
    error: str = ""  # why it could not be fetched ('' when it was)


@dataclass(frozen=True)
class FolderInfo:
    """What EXAMINE tells about a folder."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None
    exists: int


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _flags(value) -> tuple[str, ...]:
    return tuple(_text(f) for f in value or ())


class Fetcher:
    """Reads the folders of one account over one connection (imapclient is not thread-safe)."""

    def __init__(self, client: imapclient.IMAPClient, cancel: CancelFlag | None = None, batch: int = BATCH):
        self.client = client
        self.cancel: CancelFlag = cancel if cancel is not None else threading.Event()
        self.batch = batch
        self.deadline = DEADLINE
        self.capabilities = {_text(c).upper() for c in client.capabilities()}
        if "CONDSTORE" in self.capabilities:
            try:
                client.enable("CONDSTORE")
            except imapclient.exceptions.IMAPClientError:
                log.debug("server refused ENABLE CONDSTORE")

    def special_folder(self, flag: bytes) -> str | None:
        try:
            return self.client.find_special_folder(flag)
        except imapclient.exceptions.IMAPClientError:
            return None

    def exists(self, folder: str) -> bool:
        with self._guard("LIST"):
            return any(_text(name) == folder for _flags, _delim, name in self.client.list_folders("", folder))

    def sent_folder(self) -> str | None:
        return self.special_folder(imapclient.imapclient.SENT)

    def examine(self, folder: str) -> FolderInfo:
        """Opens `folder` read-only."""
        with self._guard("SELECT"):
            info = self.client.select_folder(folder, readonly=True)
        modseq = info.get(b"HIGHESTMODSEQ")
        return FolderInfo(int(info.get(b"UIDVALIDITY", 0)), int(info.get(b"UIDNEXT", 0) or 0),
                          int(modseq) if modseq is not None else None, int(info.get(b"EXISTS", 0) or 0))

    def header_fields(self, uids: list[int]) -> Iterator[tuple[list[int], list[bytes]]]:
        """(uids, header blocks) of the sent mail, a batch at a time: Message-ID, From, To, Cc, Bcc."""
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            try:
                with self._guard("FETCH"):
                    rows = self.client.fetch(chunk, SENT_ITEMS)
            except UNREADABLE:
                log.warning("an answer about sent mail could not be read; those messages are skipped")
                rows = {}
            yield chunk, [next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"") or b""
                          for data in rows.values()]

    # --- fetching, in pieces of bounded size -------------------------------------------------------
    def _guard(self, what: str):
        return guarded(self.client, what, cancel=self.cancel, seconds=self.deadline)

    def new_uids(self, last: int, exists: int) -> list[int]:
        """UIDs above `last`, asked for SEARCH_CHUNK messages at a time: one answer for a folder of
        200,000 messages with 10-digit UIDs would be a 2 MB line."""
        spans = [None] if exists <= SEARCH_CHUNK else [
            f"{n}:{min(exists, n + SEARCH_CHUNK - 1)}" for n in range(1, exists + 1, SEARCH_CHUNK)]
        found: set[int] = set()
        for span in spans:
            with self._guard("SEARCH"):
                found.update(self.client.search([*([span] if span else []), "UID", f"{last + 1}:*"]))
        return sorted(u for u in found if u > last)

    def fetched(self, uids: list[int]) -> Iterator[tuple[list[Fetched], int]]:
        """(items, bytes) for the new messages, a piece at a time: header blocks and structures first
        (a piece holds at most HEAD_BUDGET of message size), then the planned first bytes of the parts
        (at most PART_BUDGET a piece). Memory follows the budgets, not the folder or the batch."""
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            with self._guard("FETCH"):
                sizes = {uid: int(d.get(b"RFC822.SIZE", 0) or 0)
                         for uid, d in self.client.fetch(chunk, ["RFC822.SIZE"]).items()}
            for group in _pieces([u for u in chunk if u in sizes], sizes.__getitem__, HEAD_BUDGET):
                heads, failed = self._heads(group)
                plans = {uid: _plan(head["structure"]) for uid, head in heads.items()}
                if failed:
                    yield failed, 0
                weights = {uid: plan[1] for uid, plan in plans.items()}
                for piece in _pieces([u for u in group if u in heads], weights.__getitem__, PART_BUDGET):
                    yield self._with_parts(piece, heads, plans)

    def _heads(self, uids: list[int]) -> tuple[dict[int, dict], list[Fetched]]:
        """Header blocks and structures of `uids`. An answer that cannot be read is asked for again in
        halves, down to the one message behind it, which is kept as 'could not check'."""
        try:
            with self._guard("FETCH"):
                data = self.client.fetch(uids, HEAD_ITEMS)
        except UNREADABLE as exc:
            if len(uids) == 1:
                return {}, [_failed(uids[0], "Your mail server's description of this message could not be read",
                                    exc)]
            half = len(uids) // 2
            first, failed_first = self._heads(uids[:half])
            second, failed_second = self._heads(uids[half:])
            return {**first, **second}, failed_first + failed_second
        heads = {}
        failed = []
        for uid in uids:
            if uid not in data:
                continue  # expunged meanwhile
            try:
                data[uid]["structure"] = leaves(data[uid].get(b"BODYSTRUCTURE"))
            except UNREADABLE as exc:
                failed.append(_failed(uid, "Your mail server described this message in a way that cannot be read",
                                      exc))
                continue
            heads[uid] = data[uid]
        return heads, failed

    def _with_parts(self, uids: list[int], heads: dict[int, dict], plans: dict) -> tuple[list[Fetched], int]:
        """The planned first bytes of each part of `uids`: one FETCH for a part many messages share,
        and the parts of a message with many of them together, PART_ITEMS at a time."""
        fetched_bytes = 0
        wanted: dict[tuple[str, int], list[int]] = defaultdict(list)
        for uid in uids:
            for part_id, need in plans[uid][0]:
                wanted[(part_id, need)].append(uid)
        shared = {key: group for key, group in wanted.items() if len(group) > 1}
        alone: dict[int, list[str]] = defaultdict(list)
        for (part_id, need), group in wanted.items():
            if len(group) == 1:
                alone[group[0]].append(f"BODY.PEEK[{part_id}]<0.{need}>")
        requests = [(group, [f"BODY.PEEK[{part_id}]<0.{need}>"]) for (part_id, need), group in sorted(shared.items())]
        for uid, items in alone.items():
            requests += [([uid], items[i : i + PART_ITEMS]) for i in range(0, len(items), PART_ITEMS)]
        parts: dict[int, dict[str, bytes]] = defaultdict(dict)
        failed: dict[int, str] = {}
        for group, items in requests:
            try:
                with self._guard("FETCH"):
                    answer = self.client.fetch(group, items)
            except UNREADABLE as exc:
                for uid in group:
                    failed[uid] = f"Your mail server's answer for its content could not be read ({type(exc).__name__})"
                continue
            asked = set(group)
            for uid, data in answer.items():
                if uid not in asked:
                    continue  # a server's answer about a message not asked for is ignored
                for key, value in data.items():
                    name = key.decode("ascii", "replace") if isinstance(key, bytes) else str(key)
                    if name.startswith("BODY["):
                        part_id = name[5 : name.index("]")] if "]" in name else ""
                        parts[uid][part_id] = value or b""
                        fetched_bytes += len(value or b"")
        items_out = []
        for uid in uids:
            data = heads[uid]
            internal = data.get(b"INTERNALDATE")
            head = data.get(b"BODY[HEADER]", b"") or b""
            fetched_bytes += len(head)
            items_out.append(Fetched(uid, head, data["structure"], parts.get(uid, {}),
                                     int(data.get(b"RFC822.SIZE", 0) or 0), _flags(data.get(b"FLAGS")),
                                     internal.timestamp() if internal else None, error=failed.get(uid, "")))
        return items_out, fetched_bytes

def _plan(structure: list[PartInfo]) -> tuple[list[tuple[str, int]], int]:
    """The parts to fetch the first bytes of, with how many, and the bytes that will take. Grouped by the
    plan's length, not the part's size: asking for more than a part holds returns the whole part, and one
    FETCH then serves every message with that part."""
    wanted = []
    total = 0
    for part in structure[:MAX_PARTS]:
        if not part.size or part.content_type.startswith("multipart/"):
            continue
        need = encoded_bytes_needed(decoded_bytes_needed(part.content_type, _filename_hint(part)), part.encoding)
        wanted.append((part.part_id, need))
        total += min(need, part.size)
    return wanted, total


def _pieces(items: list, weight, budget: int) -> list[list]:
    """`items` in order, cut into runs whose weights add up to at most `budget` (one item at least)."""
    pieces: list[list] = []
    current: list = []
    total = 0
    for item in items:
        w = weight(item)
        if current and total + w > budget:
            pieces.append(current)
            current, total = [], 0
        current.append(item)
        total += w
    if current:
        pieces.append(current)
    return pieces


def _failed(uid: int, why: str, exc: BaseException) -> Fetched:
    log.warning("message %s could not be fetched: %s", uid, type(exc).__name__)
    return Fetched(uid, b"", [], {}, 0, (), None, error=f"{why} ({type(exc).__name__}).")


def _filename_hint(part: PartInfo) -> str:
    for params in (part.disposition_params, part.params):
        for key, value in params.items():
            if key.startswith(("filename", "name")):
                return value.rsplit("'", 1)[-1]
    return ""
