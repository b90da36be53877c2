"""Watching the Inbox: IDLE where the server has it (renewed well before the 29-minute limit),
polling where it has not, reconnecting with back-off when the connection or the network goes away.
Each new message is scanned at once and reported as an event for the desktop app, the tray and
`klezguard watch`. What a scan is (judging, storing) is the application's: it hands the watcher a
`prepare(client)` that returns the scan to run whenever the folder changes.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import imapclient

from klezguard.errors import KnownError, SignInAgain
from klezguard.mail.accounts import Account
from klezguard.mail.connection import translate

log = logging.getLogger(__name__)

# RFC 2177: servers may drop an IDLE after 30 minutes. We renew more often: a message delivered in the
# instant between our last command and IDLE is only announced by the next change (Dovecot, measured),
# so a renewal also bounds how late such a message can be found.
IDLE_RENEW = 2 * 60
IDLE_CHECK = 1.0  # how often the loop looks at the stop flag while idling
POLL_EVERY = 60.0
BACKOFF = (1, 2, 5, 10, 30, 60, 120)


@dataclass
class WatchEvent:
    """kind: 'new' (a scanned message), 'connected', 'watching' (IDLE or polling has begun),
    'error' (with a plain text), 'sign_in' (the provider no longer accepts the account's sign-in: watching
    stops, since trying again cannot help until the user signs in again), 'stopped'."""

    kind: str
    account: str
    scanned: Any = None  # the application's Scanned
    text: str = ""


ScanNew = Callable[[], list[Any]]  # scans what is new in the folder; returns the judged messages


class Watcher:
    """Watches one account until `stop` is set. `connect` returns a logged-in client."""

    def __init__(self, connect: Callable[[], imapclient.IMAPClient], account: Account,
                 prepare: Callable[[imapclient.IMAPClient], ScanNew],
                 on_event: Callable[[WatchEvent], None], stop: threading.Event | None = None,
                 folder: str = "INBOX", idle_renew: float = IDLE_RENEW, poll_every: float = POLL_EVERY,
                 backoff: tuple[float, ...] = BACKOFF):
        self.connect = connect
        self.account = account
        self.prepare = prepare
        self.on_event = on_event
        self.stop = stop or threading.Event()
        self.folder = folder
        self.idle_renew = idle_renew
        self.poll_every = poll_every
        self.backoff = backoff

    def _emit(self, kind: str, scanned: Any = None, text: str = "") -> None:
        try:
            self.on_event(WatchEvent(kind, self.account.key, scanned, text))
        except Exception:  # noqa: BLE001 - a broken listener must not stop the watching
            log.exception("watch listener failed")

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            client = None
            try:
                client = self.connect()
                scan = self.prepare(client)
                self._emit("connected")
                failures = 0
                self._scan(scan)
                if b"IDLE" in {c.upper() for c in client.capabilities()}:
                    self._idle_loop(client, scan)
                else:
                    self._poll_loop(scan)
            except SignInAgain as exc:
                self._emit("sign_in", text=exc.text())
                break
            except KnownError as exc:
                failures += 1
                self._emit("error", text=exc.text())
            except (OSError, EOFError, imapclient.exceptions.IMAPClientError) as exc:
                failures += 1
                self._emit("error", text=translate(exc, self.account.server, self.account.email).text())
            except Exception:  # noqa: BLE001 - a bug met on one message must not end the watching for good
                log.exception("watching %s failed", self.account.key)
                failures += 1
                self._emit("error", text="KlezGuard ran into a problem while watching and tries again in a "
                                         "moment. If it keeps happening, copy the log for whoever helps you with IT.")
            finally:
                if client is not None:
                    try:
                        client.shutdown()
                    except Exception:  # noqa: BLE001, S110 - the socket may already be gone
                        pass
            if not self.stop.is_set() and failures:
                delay = self.backoff[min(failures, len(self.backoff)) - 1]
                self.stop.wait(delay)
        self._emit("stopped")

    def _scan(self, scan: ScanNew) -> None:
        for scanned in scan():
            self._emit("new", scanned)

    def _idle_loop(self, client: imapclient.IMAPClient, scan: ScanNew) -> None:
        # The scan leaves the folder selected; anything that arrives between its last command and
        # IDLE is announced by the server as soon as IDLE starts.
        announced = False
        while not self.stop.is_set():
            if self._arrived_meanwhile(client):
                self._scan(scan)
                continue
            client.idle()
            if not announced:
                self._emit("watching")
                announced = True
            started = time.monotonic()
            try:
                while not self.stop.is_set() and time.monotonic() - started < self.idle_renew:
                    responses = client.idle_check(timeout=IDLE_CHECK)
                    if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                        break
            finally:
                client.idle_done()
            if not self.stop.is_set():
                self._scan(scan)

    @staticmethod
    def _arrived_meanwhile(client: imapclient.IMAPClient) -> bool:
        """A NOOP makes the server report mail that arrived since the scan's last command; without
        it, a message delivered just before IDLE starts may wait for the next renewal."""
        _, responses = client.noop()
        return any(len(r) > 1 and r[1] == b"EXISTS" for r in responses)

    def _poll_loop(self, scan: ScanNew) -> None:
        self._emit("watching")
        while not self.stop.wait(self.poll_every):
            self._scan(scan)
