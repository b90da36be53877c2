"""Scans IMAP folders: only what is new, only the bytes the rules need, never setting \\Seen.

First the header block, BODYSTRUCTURE, size, flags and date of a batch; then, grouped so that one
FETCH serves many messages, the first bytes of the parts the fetch plan asks for (bodies, reports,
attachments; archives whole up to a cap). Folders are opened read-only (EXAMINE), and every body fetch
is a BODY.PEEK, so the user's unread mail stays unread.

Later scans are incremental: UIDVALIDITY and the last UID seen (and HIGHESTMODSEQ with CONDSTORE)
say what is new. A changed UIDVALIDITY means the stored UIDs are void: the folder is scanned afresh.
"""

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import imapclient

from klezguard.core.context import Context
from klezguard.core.domains import is_freemail, org_domain
from klezguard.core.fetchplan import decoded_bytes_needed, encoded_bytes_needed
from klezguard.core.headers import message_ids, parse_addresses, to_text
from klezguard.core.limits import MAX_PARTS
from klezguard.core.message import Message
from klezguard.core.parse import PartInfo, from_partial
from klezguard.mail.accounts import Account
from klezguard.mail.bodystructure import leaves
from klezguard.mail.judge import UNCHECKED, Fetched, InProcessJudge, Judged, Summary
from klezguard.mail.watchdog import DEADLINE, Cancelled, guarded
from klezguard.rules import trust
from klezguard.rules.engine import Finding, Result, engine_version, evaluate, total_score, verdict_for
from klezguard.store.db import Store, unpack_view

log = logging.getLogger(__name__)

BATCH = 500
JUDGE_CHUNK = 50
HEAD_ITEMS = ["BODY.PEEK[HEADER]", "BODYSTRUCTURE", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
SEARCH_CHUNK = 20_000  # messages per UID SEARCH: its answer stays far below any line limit
HEAD_BUDGET = 16 * 1024 * 1024  # message bytes per header FETCH: a BODYSTRUCTURE grows with the parts
PART_BUDGET = 32 * 1024 * 1024  # part bytes fetched before they go to the judge and are let go
PART_ITEMS = 100  # parts of one message asked for in one FETCH
# What a FETCH answer that cannot be read raises while parsing (imapclient reads the whole answer first,
# so the connection stays usable): the batch is split until the one message behind it is found.
_UNREADABLE = (imapclient.exceptions.ProtocolError, ValueError, IndexError, TypeError, KeyError, AttributeError,
               RecursionError, UnicodeError)


@dataclass
class Progress:
    folder: str
    done: int
    total: int


@dataclass
class Scanned:
    """One newly judged message: where it is, what it is, and the verdict."""

    account: str
    folder: str
    uidvalidity: int
    uid: int
    message: Message | Summary  # the scanner hands over a Summary: subject, sender, Message-ID, date
    result: Result
    flags: tuple[str, ...] = ()
    note: str = ""  # why it could not be checked, when it could not

    @property
    def unchecked(self) -> bool:
        return self.result.verdict == UNCHECKED

    @property
    def source(self) -> str:
        return f"{self.folder};UID={self.uid}"


@dataclass
class FolderReport:
    """What a scan of one folder found. `new` holds the judged messages, unless the caller took each one
    as it came (`on_scanned`): a first scan of a big folder then needs no memory per message."""

    folder: str
    new: list[Scanned] = field(default_factory=list)
    count: int = 0
    on_scanned: Callable[[Scanned], None] | None = None
    rescanned_from_scratch: bool = False
    bytes_fetched: int = 0


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _flags(value) -> tuple[str, ...]:
    return tuple(_text(f) for f in value or ())


def main_reason(result: Result) -> str:
    scored = [f for f in result.findings if f.score > 0]
    return scored[0].title if scored else ""


class Scanner:
    """Scans the folders of one account over one connection (imapclient is not thread-safe)."""

    def __init__(self, client: imapclient.IMAPClient, account: Account, store: Store,
                 progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None,
                 batch: int = BATCH, judge=None):
        self.client = client
        self.account = account
        self.store = store
        self.progress = progress or (lambda p: None)
        self.cancel = cancel or threading.Event()
        self.batch = batch
        self.deadline = DEADLINE
        self.judge = judge or InProcessJudge()
        self.engine = engine_version()
        self.capabilities = {_text(c).upper() for c in client.capabilities()}
        if "CONDSTORE" in self.capabilities:
            try:
                client.enable("CONDSTORE")
            except imapclient.exceptions.IMAPClientError:
                log.debug("server refused ENABLE CONDSTORE")

    # --- what the engine knows about this account --------------------------------------------
    def context(self) -> Context:
        key = self.account.key
        domain = self.account.email.rpartition("@")[2]
        own = [] if is_freemail(domain) else [domain]
        sent = self.store.sent_ids(key)
        correspondents = self.store.correspondents(key)
        ctx = Context.build(own_domains=own, trusted_authserv=self.account.trusted_authserv,
                            own_addresses=[self.account.email])
        ctx.trusted_senders = self.store.trusted_senders()
        ctx.sent_ids = sent if sent else None
        ctx.correspondents = frozenset(a for a in correspondents if org_domain(a.rpartition("@")[2]) not in
                                       ctx.own_domains)
        return ctx

    # --- folders ------------------------------------------------------------------------------
    def special_folder(self, flag: bytes) -> str | None:
        try:
            return self.client.find_special_folder(flag)
        except imapclient.exceptions.IMAPClientError:
            return None

    def index_sent(self) -> int:
        """Reads Message-IDs and recipients of new mail in the Sent folder (headers only)."""
        folder = self.special_folder(imapclient.imapclient.SENT)
        if not folder:
            return 0
        key = self.account.key
        state_name = f"\\Sent:{folder}"
        with self._guard("SELECT"):
            info = self.client.select_folder(folder, readonly=True)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        state = self.store.folder_state(key, state_name)
        last = state[1] if state and state[0] == uidvalidity else 0
        uids = self._new_uids(last, int(info.get(b"EXISTS", 0) or 0))
        count = 0
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            try:
                with self._guard("FETCH"):
                    rows = self.client.fetch(chunk, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID TO CC BCC)]"])
            except _UNREADABLE:
                log.warning("an answer about sent mail could not be read; those messages are skipped")
                rows = {}
            ids, recipients = set(), set()
            for data in rows.values():
                raw = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"") or b""
                text = raw.decode("utf-8", "replace")
                for line in text.replace("\r\n ", " ").replace("\n ", " ").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "message-id":
                        ids.update(message_ids(value))
                    elif name.lower() in ("to", "cc", "bcc"):
                        recipients.update(a.addr.lower() for a in parse_addresses(to_text(value)) if "@" in a.addr)
            with self.store.transaction() as db:
                self.store.add_sent(db, key, ids, recipients)
                self.store.set_folder_state(db, key, state_name, uidvalidity, max(chunk), None)
            count += len(chunk)
        return count

    def scan_folder(self, folder: str, on_scanned: Callable[[Scanned], None] | None = None) -> FolderReport:
        key = self.account.key
        report = FolderReport(folder)
        report.on_scanned = on_scanned
        with self._guard("SELECT"):
            info = self.client.select_folder(folder, readonly=True)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        uidnext = int(info.get(b"UIDNEXT", 0) or 0)
        modseq = info.get(b"HIGHESTMODSEQ")
        modseq = int(modseq) if modseq is not None else None
        state = self.store.folder_state(key, folder)
        last = 0
        if state is None or state[0] != uidvalidity:
            with self.store.transaction() as db:
                self.store.reset_folder(db, key, folder, uidvalidity)
            report.rescanned_from_scratch = state is not None
        else:
            last = state[1]
            if uidnext and uidnext <= last + 1 and (modseq is None or modseq == state[2]):
                return report  # nothing new, nothing changed
        found = self._new_uids(last, int(info.get(b"EXISTS", 0) or 0)) if uidnext != 1 else []
        known = self.store.known_uids(key, folder, uidvalidity) if found else set()
        uids = [u for u in found if u not in known]  # known: restored from quarantine, judged already
        last = max([last, *found])
        ctx = self.context()
        self.progress(Progress(folder, 0, len(uids)))
        # Pipelined: while the judge works on one batch (in a helper process where there is one), the
        # next batch is fetched. Results come back in small chunks: unpacking one big answer would hold the
        # interpreter long enough to make the window stutter.
        pending: list[tuple[list[Fetched], Future]] = []
        done = 0
        try:
            for items, fetched_bytes in self._fetched(uids):
                report.bytes_fetched += fetched_bytes
                for chunk in pending:
                    done += self._collect(folder, uidvalidity, chunk, report, done, len(uids))
                pending = [(items[i : i + JUDGE_CHUNK], self.judge.submit(items[i : i + JUDGE_CHUNK], ctx))
                           for i in range(0, len(items), JUDGE_CHUNK)]
                if self.cancel.is_set():
                    raise Cancelled()
        finally:  # what was fetched is judged and kept, also when the user cancels or the server stops
            for chunk in pending:
                done += self._collect(folder, uidvalidity, chunk, report, done, len(uids))
        with self.store.transaction() as db:
            self.store.set_folder_state(db, key, folder, uidvalidity, last, modseq)
        return report

    def _collect(self, folder, uidvalidity, pending, report: FolderReport, done: int, total: int) -> int:
        items, future = pending
        for scanned in self._store_batch(folder, uidvalidity, items, future.result()):
            report.count += 1
            if report.on_scanned is not None:
                report.on_scanned(scanned)
            else:
                report.new.append(scanned)
        self.progress(Progress(folder, done + len(items), total))
        return len(items)

    # --- fetching, in pieces of bounded size -------------------------------------------------------
    def _guard(self, what: str):
        return guarded(self.client, what, cancel=self.cancel, seconds=self.deadline)

    def _new_uids(self, last: int, exists: int) -> list[int]:
        """UIDs above `last`, asked for SEARCH_CHUNK messages at a time: one answer for a folder of
        200,000 messages with 10-digit UIDs would be a 2 MB line."""
        spans = [None] if exists <= SEARCH_CHUNK else [
            f"{n}:{min(exists, n + SEARCH_CHUNK - 1)}" for n in range(1, exists + 1, SEARCH_CHUNK)]
        found: set[int] = set()
        for span in spans:
            with self._guard("SEARCH"):
                found.update(self.client.search([*([span] if span else []), "UID", f"{last + 1}:*"]))
        return sorted(u for u in found if u > last)

    def _fetched(self, uids: list[int]):
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
        except _UNREADABLE as exc:
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
            except _UNREADABLE as exc:
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
            except _UNREADABLE as exc:
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

    def _store_batch(self, folder: str, uidvalidity: int, items: list[Fetched], judged: list[Judged]) -> list[Scanned]:
        scanned = []
        rows = []
        for item, j in zip(items, judged, strict=True):
            s = j.summary
            rows.append({
                "account": self.account.key, "folder": folder, "uidvalidity": uidvalidity, "uid": item.uid,
                "message_id": s.message_id, "from_display": s.from_display,
                "from_addr": s.from_addr.addr if s.from_addr else "", "subject": s.subject,
                "date": s.date, "size": item.size, "flags": " ".join(item.flags), "verdict": j.result.verdict,
                "score": j.result.score, "reason": j.reason or main_reason(j.result), "findings": j.findings_json,
                "view": j.view, "engine": self.engine, "scanned_at": time.time(),
            })
            scanned.append(Scanned(self.account.key, folder, uidvalidity, item.uid, s, j.result, item.flags, j.reason))
        with self.store.transaction() as db:
            for row in rows:
                self.store.put_message(db, row)
            if items:
                self.store.set_folder_state(db, self.account.key, folder, uidvalidity, max(i.uid for i in items), None)
        return scanned


def rejudge(store: Store, account: str, ctx: Context, sender: str | None = None) -> int:
    """Judges stored messages again with the current rules, from their stored partial view: after an
    update of KlezGuard (or after the user trusted `sender`), no message needs to be fetched again.
    Messages the user cleared keep the user's word. A view whose big attachments the store kept only in
    part is not judged again by a newer engine (it keeps its verdict until it is scanned again); trusting
    its sender removes the findings that trust silences. Returns how many were judged."""
    engine = engine_version()
    if sender is None:
        rows = store.query("SELECT id, view, findings FROM messages WHERE account=? AND engine != ? "
                           "AND view IS NOT NULL AND cleared=0", (account, engine))
    else:
        rows = store.query("SELECT id, view, findings FROM messages WHERE account=? AND from_addr=? COLLATE NOCASE "
                           "AND view IS NOT NULL AND cleared=0", (account, sender))
    judged = 0
    for start in range(0, len(rows), BATCH):
        updates = []
        for row_id, blob, stored in rows[start : start + BATCH]:
            view = unpack_view(blob)
            msg = from_partial(view.head, [PartInfo(**p) for p in view.structure], view.fetched)
            if view.cut:
                if sender is None or not trust.is_trusted(msg, ctx):
                    continue
                kept = [Finding(**f) for f in json.loads(stored) if f.get("category") not in trust.TRUSTED_CATEGORIES]
                score = total_score(kept)
                result = Result(verdict_for(score), score, kept)
            else:
                result = evaluate(msg, ctx)
            judged += 1
            updates.append((result.verdict, result.score, main_reason(result),
                            json.dumps([f.to_dict() for f in result.findings], default=str), engine, row_id))
        with store.transaction() as db:
            db.executemany("UPDATE messages SET verdict=?, score=?, reason=?, findings=?, engine=? WHERE id=?",
                           updates)
    return judged


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
