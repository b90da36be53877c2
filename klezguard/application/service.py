"""One interface over an IMAP account and a local mailbox, for the desktop app's background workers.

Every method runs on the account's own worker thread (imapclient is not thread-safe) and may block;
none of them touches the GUI. Each is one use case of this package, so the app does each job exactly as
the command line does.
"""

import threading
from collections.abc import Callable

import imapclient

from klezguard.application import context as contexts
from klezguard.application import quarantine as quarantining
from klezguard.application.local import context_of, scan_mailbox
from klezguard.application.rejudge import rejudge_stale
from klezguard.application.scan import Progress, Scanned, scan_account
from klezguard.application.trust import Trusted, not_a_threat, undo_not_a_threat
from klezguard.application.watch import watch_account
from klezguard.core.context import Context
from klezguard.errors import ConnectionDropped, LoginFailed
from klezguard.mail import credentials
from klezguard.mail.accounts import Account
from klezguard.mail.connection import connect, translated
from klezguard.mail.local import LocalMailbox, LocalSource, demo_source
from klezguard.mail.oauth import TokenSource
from klezguard.mail.quarantine import Quarantine
from klezguard.mail.watch import WatchEvent
from klezguard.store.db import Store

ProgressFn = Callable[[str, int, int], None]
__all__ = ["ImapService", "LocalService", "LocalSource", "demo_source", "local_service"]


class _StoredMail:
    """The use cases that need only the store and the account's context: the same for both kinds."""

    store: Store
    key: str

    def context(self) -> Context:
        raise NotImplementedError

    def not_a_threat(self, row_ids: list[int]) -> Trusted:
        return not_a_threat(self.store, self.key, self.context(), row_ids)

    def undo_not_a_threat(self, outcome: Trusted) -> int:
        return undo_not_a_threat(self.store, self.key, self.context(), outcome)

    def rejudge(self) -> int:
        return rejudge_stale(self.store, self.key, self.context())


class ImapService(_StoredMail):
    def __init__(self, account: Account, store: Store, password: "str | TokenSource | None" = None, judge=None,
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

    def password(self) -> "str | TokenSource":
        """The password, or for an account signed in with its provider the source of its access tokens."""
        if self.account.auth == "oauth2":  # the sign-in kept for this session (no keyring), else the saved one
            return self._password if isinstance(self._password, TokenSource) else TokenSource.for_account(self.key)
        password = self._password or credentials.password_from_env() or credentials.get_password(self.key)
        if not password:
            raise LoginFailed(f"KlezGuard has no password for {self.account.email}.",
                              "Open the account settings and type it again.")
        return password

    def _note(self, texts: list[str]) -> None:
        self.notes.extend(t for t in texts if t not in self.notes)

    def open(self) -> imapclient.IMAPClient:
        if self._client is None:
            self._client = connect(self.account.server, self.password(), email=self.account.email,
                                   allow_plain=self.account.allow_plain)
            recovery = Quarantine(self._client, self.account, self.store)
            recovery.recover()
            self._note([*recovery.problems, *recovery.notes])
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection may fail again
                pass
            self._client = None

    def _run(self, work):
        """Runs `work(client)`; a dropped connection is retried once on a fresh one (every use case here
        can run twice: a message moved already is found in the journal)."""
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
        if self.scan_process is not None and not self.store.memory:
            self.last_count, found, notes = self.scan_process.scan(self.account, self.password(),
                                                                   str(self.store.path), progress, cancel)
            self._note(notes)
            return found

        def work(client):
            def report(p: Progress):
                if progress:
                    progress(p.folder, p.done, p.total)

            found: list[Scanned] = []  # only what needs a look: a first scan keeps no list of them all
            outcome = scan_account(client, self.account, self.store, progress=report, cancel=cancel,
                                   judge=self.judge, on_scanned=lambda s: found.append(s)
                                   if s.result.flagged or s.unchecked else None)
            self.last_count = outcome.count
            self._note(outcome.notes)
            return found

        return self._run(work)

    def quarantine(self, targets: list[quarantining.Target], progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None) -> quarantining.Run:
        def work(client):
            return quarantining.quarantine_messages(quarantining.mover(client, self.account, self.store),
                                                    self.store, self.key, targets, _counting(progress), cancel)

        return self._run(work)

    def restore(self, entry_ids: list[int], progress: ProgressFn | None = None) -> quarantining.Run:
        def work(client):
            return quarantining.restore(quarantining.mover(client, self.account, self.store), self.store,
                                        entry_ids, _counting(progress, "Restoring"))

        return self._run(work)

    def delete(self, entry_ids: list[int], progress: ProgressFn | None = None) -> quarantining.Run:
        def work(client):
            return quarantining.delete(quarantining.mover(client, self.account, self.store), self.store, entry_ids,
                                       _counting(progress, "Deleting"))

        return self._run(work)

    def watch(self, on_event: Callable[[WatchEvent], None], stop: threading.Event) -> None:
        """Blocks until `stop` is set; uses its own connection so scans can go on meanwhile."""
        watch_account(lambda: connect(self.account.server, self.password(), email=self.account.email,
                                      allow_plain=self.account.allow_plain),
                      self.account, self.store, on_event, stop)

    def context(self) -> Context:
        return contexts.for_account(self.store, self.account)


class LocalService(_StoredMail):
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
        found = scan_mailbox(self.box, self.store, "INBOX", progress=progress, cancel=cancel)
        self.last_count = len(found)
        return found

    def quarantine(self, targets: list[quarantining.Target], progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None) -> quarantining.Run:
        return quarantining.quarantine_messages(self.box, self.store, self.key, targets, _counting(progress), cancel)

    def restore(self, entry_ids: list[int], progress: ProgressFn | None = None) -> quarantining.Run:
        return quarantining.restore(self.box, self.store, entry_ids, _counting(progress, "Restoring"))

    def delete(self, entry_ids: list[int], progress: ProgressFn | None = None) -> quarantining.Run:
        return quarantining.delete(self.box, self.store, entry_ids, _counting(progress, "Deleting"))

    def watch(self, on_event, stop: threading.Event) -> None:
        stop.wait()  # local files do not change under us

    def context(self) -> Context:
        return context_of(self.box, self.store)


def _counting(progress: ProgressFn | None, what: str = "Moving to quarantine"):
    if progress is None:
        return None
    return lambda done, total: progress(what, done, total)


def local_service(source: LocalSource | None, store: Store, root=None) -> LocalService:
    """A local mailbox as a service: the user's mail files, or the demo (`source` None)."""
    return LocalService(LocalMailbox(source or demo_source(), store, root=root))
