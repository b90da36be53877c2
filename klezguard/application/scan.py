"""Scanning an account: what is new on the server is fetched (mail/fetcher.py), judged and stored.

Later scans are incremental: UIDVALIDITY and the last UID seen (and HIGHESTMODSEQ with CONDSTORE)
say what is new. A changed UIDVALIDITY means the stored UIDs are void: the folder is scanned afresh.
The same Scanner serves the command line, the app's helper process and the watcher, so they judge
alike; `scan_account` is the whole use case, quarantine recovery and stale verdicts included.
"""

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import imapclient

from klezguard.application import contacts
from klezguard.application import context as contexts
from klezguard.application.judge import UNCHECKED, InProcessJudge, Judged, Summary
from klezguard.application.quarantine import clean_out
from klezguard.application.rejudge import rejudge_stale
from klezguard.core.context import Context, SentIndex
from klezguard.core.message import Message
from klezguard.mail.accounts import Account
from klezguard.mail.fetcher import BATCH, Fetched, Fetcher
from klezguard.mail.quarantine import Quarantine
from klezguard.mail.watchdog import CancelFlag, Cancelled
from klezguard.rules.engine import Result, engine_version, main_reason
from klezguard.settings import Settings
from klezguard.store.db import Judgement, Store

JUDGE_CHUNK = 50


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


def judgement(item: Fetched, judged: Judged, engine: str) -> Judgement:
    s = judged.summary
    return Judgement(item.uid, s.message_id, s.from_display, s.from_addr.addr if s.from_addr else "", s.subject,
                     s.date, item.size, " ".join(item.flags), judged.result.verdict, judged.result.score,
                     judged.reason or main_reason(judged.result), judged.findings_json, judged.view, engine)


class Scanner:
    """Scans the folders of one account over one connection (imapclient is not thread-safe)."""

    def __init__(self, client: imapclient.IMAPClient, account: Account, store: Store,
                 progress: Callable[[Progress], None] | None = None, cancel: CancelFlag | None = None,
                 batch: int = BATCH, judge=None):
        self.fetcher = Fetcher(client, cancel=cancel, batch=batch)
        self.account = account
        self.store = store
        self.progress = progress or (lambda p: None)
        self.cancel = self.fetcher.cancel
        self.judge = judge or InProcessJudge()
        self.engine = engine_version()

    @property
    def capabilities(self) -> set[str]:
        return self.fetcher.capabilities

    def context(self) -> Context:
        return contexts.for_account(self.store, self.account)

    def index_sent(self) -> int:
        """Reads the Message-IDs, authors, recipients and their names of new mail in the Sent folder."""
        folder = self.fetcher.sent_folder()
        if not folder:
            return 0
        key = self.account.key
        state_name = f"\\Sent:{folder}"
        info = self.fetcher.examine(folder)
        state = self.store.folder_state(key, state_name)
        last = state[1] if state and state[0] == info.uidvalidity else 0
        count = 0
        for chunk, heads in self.fetcher.header_fields(self.fetcher.new_uids(last, info.exists)):
            sent = SentIndex()
            for head in heads:
                sent.add(head)
            self.store.add_sent(key, sent, (state_name, info.uidvalidity, max(chunk)))
            count += len(chunk)
        if not count and state is None:  # an empty Sent folder: indexed, with nothing in it
            self.store.set_folder_state(key, state_name, info.uidvalidity, 0, None)
        return count

    def scan_folder(self, folder: str, on_scanned: Callable[[Scanned], None] | None = None,
                    quiet: bool = False) -> FolderReport:
        """Judges what is new in `folder` (handed to `on_scanned`, or kept in the report). Messages an older
        engine judged from a view the store kept only in part are fetched again and judged silently: they
        are not new. `quiet`: nothing is reported (the quarantine folder)."""
        if quiet:
            shown, self.progress = self.progress, lambda p: None
            try:
                return self.scan_folder(folder)
            finally:
                self.progress = shown
        key = self.account.key
        report = FolderReport(folder)
        report.on_scanned = on_scanned
        info = self.fetcher.examine(folder)
        state = self.store.folder_state(key, folder)
        last = 0
        again: list[int] = []
        if state is None or state[0] != info.uidvalidity:
            self.store.reset_folder(key, folder, info.uidvalidity)
            report.rescanned_from_scratch = state is not None
        else:
            last = state[1]
            again = self.store.stale_uids(key, folder, info.uidvalidity, self.engine)
            if not again and info.uidnext and info.uidnext <= last + 1 and (
                    info.highestmodseq is None or info.highestmodseq == state[2]):
                return report  # nothing new, nothing changed
        found = self.fetcher.new_uids(last, info.exists) if info.uidnext != 1 else []
        known = self.store.known_uids(key, folder, info.uidvalidity) if found else set()
        uids = [u for u in found if u not in known]  # known: restored from quarantine, judged already
        last = max([last, *found])
        ctx = self.context()
        self.progress(Progress(folder, 0, len(uids) + len(again)))
        done = self._judge_all(folder, info.uidvalidity, uids, ctx, report, 0, len(uids) + len(again))
        if again:
            quiet_report = FolderReport(folder, on_scanned=lambda s: None)
            self._judge_all(folder, info.uidvalidity, again, ctx, quiet_report, done, len(uids) + len(again))
        self.store.set_folder_state(key, folder, info.uidvalidity, last, info.highestmodseq)
        return report

    def _judge_all(self, folder: str, uidvalidity: int, uids: list[int], ctx: Context, report: FolderReport,
                   done: int, total: int) -> int:
        # Pipelined: while the judge works on one batch (in a helper process where there is one), the
        # next batch is fetched. Results come back in small chunks: unpacking one big answer would hold the
        # interpreter long enough to make the window stutter.
        pending: list[tuple[list[Fetched], Future]] = []
        try:
            for items, fetched_bytes in self.fetcher.fetched(uids):
                report.bytes_fetched += fetched_bytes
                for chunk in pending:
                    done += self._collect(folder, uidvalidity, chunk, report, done, total)
                pending = [(items[i : i + JUDGE_CHUNK], self.judge.submit(items[i : i + JUDGE_CHUNK], ctx))
                           for i in range(0, len(items), JUDGE_CHUNK)]
                if self.cancel.is_set():
                    raise Cancelled()
        finally:  # what was fetched is judged and kept, also when the user cancels or the server stops
            for chunk in pending:
                done += self._collect(folder, uidvalidity, chunk, report, done, total)
        return done

    def _collect(self, folder: str, uidvalidity: int, pending: tuple[list[Fetched], Future], report: FolderReport,
                 done: int, total: int) -> int:
        items, future = pending
        judged: list[Judged] = future.result()
        self.store.save_judged(self.account.key, folder, uidvalidity,
                               [judgement(item, j, self.engine) for item, j in zip(items, judged, strict=True)])
        if folder != self.account.quarantine_folder:  # (what the user put away teaches nothing)
            contacts.learn_judged(self.store, self.account.key,
                                  [(contacts.learn_key(j.summary.message_id, folder, uidvalidity, item.uid), j.arrival)
                                   for item, j in zip(items, judged, strict=True)])
        for item, j in zip(items, judged, strict=True):
            scanned = Scanned(self.account.key, folder, uidvalidity, item.uid, j.summary, j.result, item.flags,
                              j.reason)
            report.count += 1
            if report.on_scanned is not None:
                report.on_scanned(scanned)
            else:
                report.new.append(scanned)
        self.progress(Progress(folder, done + len(items), total))
        return len(items)


@dataclass
class AccountScan:
    """What one scan of an account did."""

    count: int = 0  # messages judged
    cancelled: bool = False
    rejudged: int = 0  # stored messages judged again by a newer engine
    notes: list[str] = field(default_factory=list)  # what recovering an interrupted move found, said once


def scan_account(client: imapclient.IMAPClient, account: Account, store: Store,
                 on_scanned: Callable[[Scanned], None] | None = None,
                 progress: Callable[[Progress], None] | None = None, cancel: CancelFlag | None = None,
                 judge=None, folders: list[str] | None = None, keep_days: int | None = None) -> AccountScan:
    """The scan of one account, as the command line, the app's helper and the app's worker run it:
    an interrupted move or restore is finished first, the Sent folder read, stored verdicts of an older
    engine judged again, then each folder scanned. A cancel keeps what was judged so far."""
    outcome = AccountScan()
    recovery = Quarantine(client, account, store)
    recovery.recover()
    outcome.notes = list(dict.fromkeys([*recovery.problems, *recovery.notes]))
    days = Settings().get("quarantine_days") if keep_days is None else keep_days
    if days > 0:  # the clean-out the user chose in Settings (off unless chosen)
        cleaned = clean_out(recovery, store, account.key, days)
        if cleaned.done:
            outcome.notes.append(f"{len(cleaned.done)} message(s) kept in quarantine for over {days} days were "
                                 "deleted, as your settings say.")
        outcome.notes.extend(t for t in cleaned.notes if t not in outcome.notes)
    scanner = Scanner(client, account, store, progress=progress, cancel=cancel, judge=judge)
    try:  # (a cancel can come while the Sent folder is read, too: an account removed during its scan)
        scanner.index_sent()
        outcome.rejudged = rejudge_stale(store, account.key, scanner.context())
        for folder in folders or account.folders:
            if folder.upper() != "INBOX" and not scanner.fetcher.exists(folder):
                outcome.notes.append(f"The folder {folder} is not on the server (any more), so KlezGuard skipped "
                                     "it. Choose the folders to watch again in the account's settings.")
                continue
            outcome.count += scanner.scan_folder(folder, on_scanned=on_scanned).count
        # Quietly: mail KlezGuard put there that the store does not know (a removed account added back, a
        # new database) gets its findings back in the Quarantine view; none of it is news
        if scanner.fetcher.exists(account.quarantine_folder):
            scanner.scan_folder(account.quarantine_folder, quiet=True)
    except Cancelled:
        outcome.cancelled = True
    return outcome
