"""Watching an account for new mail: the watcher (mail/watch.py) keeps the connection and waits; each
change is scanned by the same Scanner as a scan, after any interrupted quarantine step is finished."""

import threading
from collections.abc import Callable

import imapclient

from klezguard.application.scan import Scanned, Scanner
from klezguard.mail.accounts import Account
from klezguard.mail.quarantine import Quarantine
from klezguard.mail.watch import Watcher, WatchEvent
from klezguard.store.db import Store

__all__ = ["WatchEvent", "watch_account"]


def watch_account(connect: Callable[[], imapclient.IMAPClient], account: Account, store: Store,
                  on_event: Callable[[WatchEvent], None], stop: threading.Event, folder: str = "INBOX",
                  **timing) -> None:
    """Blocks until `stop` is set, reporting each newly judged message of `folder` as a 'new' event."""

    def prepare(client: imapclient.IMAPClient) -> Callable[[], list[Scanned]]:
        Quarantine(client, account, store).recover()
        scanner = Scanner(client, account, store)
        return lambda: scanner.scan_folder(folder).new

    Watcher(connect, account, prepare, on_event, stop, folder=folder, **timing).run()
