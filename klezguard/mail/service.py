"""One interface over an IMAP account and a local mailbox, for the desktop app's background workers.

Every method runs on the account's own worker thread (imapclient is not thread-safe) and may block;
none of them touches the GUI.
"""

import threading
from collections.abc import Callable

import imapclient

from klezguard.core.parse import PartInfo, from_partial
from klezguard.errors import ConnectionDropped, KnownError, LoginFailed
from klezguard.mail import credentials
from klezguard.mail.accounts import Account
from klezguard.mail.connection import connect, translated
from klezguard.mail.local import LocalMailbox
from klezguard.mail.quarantine import Entry, Quarantine
from klezguard.mail.scanner import Progress, Scanned, Scanner
from klezguard.mail.watch import Watcher, WatchEvent
from klezguard.rules import trust
from klezguard.store.db import Store

ProgressFn = Callable[[str, int, int], None]


class ImapService:
    def __init__(self, account: Account, store: Store, password: str | None = None, judge=None,
                 scan_process=None):
        self.account = account
        self.judge = judge
        self.scan_process = scan_process  # the app scans in a helper process (see scanprocess.py)
        self.store = store
        self.key = account.key
        self.title = account.email
        self.quarantine_folder = account.quarantine_folder
        self._password = password
        self._client: imapclient.IMAPClient | None = None
        self.notes: list[str] = []
        self.last_count = 0

    def password(self) -> str:
        password = self._password or credentials.password_from_env() or credentials.get_password(self.key)
        if not password:
            raise LoginFailed(f"KlezGuard has no password for {self.account.email}.",
                              "Open the account settings and type it again.")
        return password

    def open(self) -> imapclient.IMAPClient:
        if self._client is None:
            self._client = connect(self.account.server, self.password(), email=self.account.email,
                                   allow_plain=self.account.allow_plain)
            recovery = Quarantine(self._client, self.account, self.store)
            recovery.recover()
            self.notes.extend(text for text in [*recovery.problems, *recovery.notes] if text not in self.notes)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection may fail again
                pass
            self._client = None

    def _run(self, work):
        """Runs `work(client)`; a dropped connection is retried once on a fresh one."""
        with translated(self.account.server, self.account.email):
            try:
                return work(self.open())
            except (OSError, EOFError, imapclient.exceptions.IMAPClientAbortError, ConnectionDropped):
                self._drop()
                return work(self.open())

    def _drop(self) -> None:
        """Forgets a broken connection, closing its socket."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001, S110 - the socket is broken already
                pass

    def scan(self, progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> list[Scanned]:
        if self.scan_process is not None and str(self.store.path) != ":memory:":
            self.last_count, found, notes = self.scan_process.scan(self.account, self.password(),
                                                                   str(self.store.path), progress, cancel)
            self.notes.extend(n for n in notes if n not in self.notes)
            return found

        def work(client):
            def report(p: Progress):
                if progress:
                    progress(p.folder, p.done, p.total)

            scanner = Scanner(client, self.account, self.store, progress=report, cancel=cancel, judge=self.judge)
            scanner.index_sent()
            found = []  # only what needs a look: a first scan of 100,000 messages keeps no list of them all
            self.last_count = 0
            for folder in self.account.folders:
                report = scanner.scan_folder(folder, on_scanned=lambda s: found.append(s)
                                             if s.result.flagged or s.unchecked else None)
                self.last_count += report.count
            return found

        return self._run(work)

    def move(self, folder: str, uidvalidity: int, uid: int) -> Entry:
        def work(client):
            q = Quarantine(client, self.account, self.store)
            entry = q.move(folder, uidvalidity, uid)
            self.notes.extend(q.notes)
            return entry

        return self._run(work)

    def restore(self, entry_id: int) -> Entry:
        return self._run(lambda client: Quarantine(client, self.account, self.store).restore(entry_id))

    def watch(self, on_event: Callable[[WatchEvent], None], stop: threading.Event) -> None:
        """Blocks until `stop` is set; uses its own connection so scans can go on meanwhile."""
        Watcher(lambda: connect(self.account.server, self.password(), email=self.account.email,
                                allow_plain=self.account.allow_plain),
                self.account, self.store, on_event, stop).run()

    def context(self):
        client = self.open()
        return Scanner(client, self.account, self.store).context()


class LocalService:
    """The same interface over a local mailbox (the demo, or mail files the user opened)."""

    def __init__(self, mailbox: LocalMailbox):
        self.box = mailbox
        self.store = mailbox.store
        self.key = mailbox.key
        self.title = mailbox.source.name
        self.quarantine_folder = mailbox.folder
        self.notes: list[str] = []
        self.last_count = 0

    def open(self):
        return None

    def close(self) -> None:
        pass

    def scan(self, progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> list[Scanned]:
        found = self.box.scan("INBOX", progress=progress, cancel=cancel)
        self.last_count = len(found)
        return found

    def move(self, folder: str, uidvalidity: int, uid: int) -> Entry:
        return self.box.move(folder, uidvalidity, uid)

    def restore(self, entry_id: int) -> Entry:
        return self.box.restore(entry_id)

    def watch(self, on_event, stop: threading.Event) -> None:
        stop.wait()  # local files do not change under us

    def context(self):
        return self.box.context()


def stored_message(store: Store, row_id: int):
    """The message model of a stored row, rebuilt from its saved partial view (no network)."""
    view = store.view(row_id)
    if view is None:
        return None
    return from_partial(view.head, [PartInfo(**p) for p in view.structure], view.fetched)


def trust_sender(service, store: Store, row_id: int) -> tuple[str, str]:
    """Trusts the sender of a stored message, bound to its authenticated domain. Raises KnownError when
    the provider did not confirm the sender (trusting it would let forgers in too)."""
    msg = stored_message(store, row_id)
    if msg is None:
        raise KnownError("KlezGuard no longer has this message.", "Scan again and try once more.")
    key = trust.trust_key(msg, service.context())
    if key is None:
        raise KnownError(
            "Your provider did not confirm who sent this message, so KlezGuard cannot trust the sender safely.",
            "Anyone could send mail in that name. The message itself is marked as not a threat.")
    store.trust(*key)
    return key

