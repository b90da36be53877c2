"""Scanning in a helper process, for the desktop app: the connection, the fetching, the judging and the
store writes all happen there, so the window's process never competes for the interpreter lock with a
big scan. Progress and the messages that need a look come back through a queue.

One helper process serves every account, one scan at a time (each account's worker waits its turn).
"""

import multiprocessing
import os
import queue as queue_module
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

from klezguard.errors import KnownError
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.oauth import TokenSource

_channel = None  # the helper's end of the progress queue
_cancel = None
_judge = None


def _init(channel, cancel) -> None:
    global _channel, _cancel, _judge
    _channel, _cancel = channel, cancel
    _be_nice()
    from klezguard.application.judge import InProcessJudge
    from klezguard.rules.engine import prepare

    prepare()
    # Judged right here: a helper of the helper made the scan faster, but a pool inside a pool process
    # could keep both from exiting at quit.
    _judge = InProcessJudge()


def _be_nice() -> None:
    """Background work yields the processor to the window (and to whatever else the user is doing)."""
    try:
        os.nice(10)
    except (AttributeError, OSError):  # Windows has no nice(); a limit may forbid it
        pass


def _ready() -> bool:
    return True


def _scan(account_data: dict, password: "str | TokenSource", store_path: str) -> tuple[int, list, list[str], object]:
    """Runs in the helper process: one account's scan, the same use case the command line runs."""
    from klezguard.application.scan import AccountScan, Progress, scan_account
    from klezguard.errors import ConnectionDropped
    from klezguard.mail.connection import connect, translated
    from klezguard.store.db import Store

    account = Account(**{**account_data, "server": ServerSettings(**account_data["server"])})
    store = Store(store_path)
    found: list = []

    def progress(p: Progress) -> None:
        assert _channel is not None  # set by _init in this process
        _channel.put(("progress", p.folder, p.done, p.total))

    def once() -> AccountScan:
        with translated(account.server, account.email):
            client = connect(account.server, password, email=account.email, allow_plain=account.allow_plain)
            try:
                return scan_account(client, account, store, progress=progress, cancel=_CancelFlag(), judge=_judge,
                                    on_scanned=lambda s: found.append(s) if s.result.flagged or s.unchecked
                                    else None)
            finally:
                try:
                    client.logout()
                except Exception:  # noqa: BLE001 - the connection may already be gone: close its socket
                    try:
                        client.shutdown()
                    except OSError:
                        pass

    # Tokens renewed here where no keyring is at hand travel back with the answer (or the error), and the
    # app saves them: with rotating refresh tokens, the ones it holds are used up.
    def renewed():
        return password.tokens if isinstance(password, TokenSource) and password.unsaved else None

    try:
        try:
            outcome = once()
        except ConnectionDropped:  # once more on a fresh connection, as the app's workers do; the scan goes
            outcome = once()       # on where it stopped
    except KnownError as exc:
        exc.renewed_tokens = renewed()  # type: ignore[attr-defined]
        raise
    finally:
        store.close()
    return outcome.count, found, outcome.notes, renewed()


class _CancelFlag:
    """The threading.Event interface over the pool's shared cancel event."""

    def is_set(self) -> bool:
        return _cancel is not None and bool(_cancel.is_set())


class ScanProcess:
    def __init__(self):
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt or threads
        self.channel = context.Queue()
        self.cancel = context.Event()
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_init,
                                        initargs=(self.channel, self.cancel))
        self.lock = threading.Lock()
        # Start the helper now: starting a process later, in the middle of a scan, would hold the window
        # while the operating system copies the app's process.
        self.pool.submit(_ready)

    def scan(self, account: Account, password: str, store_path: str, progress=None,
             cancel: threading.Event | None = None) -> tuple[int, list, list[str]]:
        """Blocks the calling worker thread until the helper has scanned the account."""
        with self.lock:
            self.cancel.clear()
            future = self.pool.submit(_scan, asdict(account), password, store_path)
            while True:
                if cancel is not None and cancel.is_set():
                    self.cancel.set()
                try:
                    kind, *rest = self.channel.get(timeout=0.1)
                except queue_module.Empty:
                    if future.done():
                        break
                    continue
                if kind == "progress" and progress is not None:
                    progress(*rest)
            while True:  # progress that arrived after the last look
                try:
                    kind, *rest = self.channel.get_nowait()
                except queue_module.Empty:
                    break
            try:
                count, found, notes, renewed = future.result()
            except KnownError as exc:
                self._adopt(password, getattr(exc, "renewed_tokens", None))
                raise
            except Exception as exc:  # noqa: BLE001 - a broken helper becomes a plain message
                raise KnownError("KlezGuard's scanning helper stopped unexpectedly.",
                                 "Try again. If it keeps happening, restart KlezGuard.", detail=repr(exc)) from exc
            self._adopt(password, renewed)
            return count, found, notes

    @staticmethod
    def _adopt(password, renewed) -> None:
        if renewed is not None and isinstance(password, TokenSource):
            password.adopt(renewed)

    def close(self) -> None:
        self.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
