"""A deadline on each server command and a Cancel that works within a second.

A socket timeout only limits the wait for the next byte: a server that sends one byte every few
seconds keeps a command going for ever. One small thread per process watches the commands in flight:
it closes a connection whose command runs past its deadline, or whose user pressed Cancel; the blocked
read then fails at once, and `guarded()` turns that into CommandDeadline or Cancelled.
"""

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import imapclient

POLL = 0.2  # seconds between looks at the clock and at Cancel
DEADLINE = 120.0  # seconds one command may take, however the server drips its answer


class CommandDeadline(imapclient.exceptions.IMAPClientAbortError):
    """The server did not finish its answer in time; the connection was closed."""


class Cancelled(Exception):
    """The user stopped the work; what was done so far is kept."""


@dataclass
class _Watch:
    client: imapclient.IMAPClient
    until: float
    cancel: "CancelFlag | None"
    fired: str = ""


_watched: dict[int, _Watch] = {}
class CancelFlag(Protocol):
    """What a Cancel button sets: a threading.Event, or a helper process's shared event."""

    def is_set(self) -> bool: ...


_lock = threading.Lock()
_ids = itertools.count()
_thread: threading.Thread | None = None


def _run() -> None:
    while True:
        time.sleep(POLL)
        now = time.monotonic()
        with _lock:
            due = [w for w in _watched.values() if not w.fired and (
                now > w.until or (w.cancel is not None and w.cancel.is_set()))]
            for watch in due:
                watch.fired = "deadline" if now > watch.until else "cancel"
        for watch in due:
            sock = getattr(watch.client._imap, "sock", None)
            try:
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _start() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="imap-watchdog", daemon=True)
            _thread.start()


@contextmanager
def guarded(client: imapclient.IMAPClient, what: str, cancel: "CancelFlag | None" = None,
            seconds: float = DEADLINE) -> Iterator[None]:
    """Runs server commands under a deadline and the user's Cancel. A connection the watchdog closed
    surfaces as CommandDeadline or Cancelled; other errors pass unchanged."""
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    _start()
    key = next(_ids)
    watch = _Watch(client, time.monotonic() + seconds, cancel)
    with _lock:
        _watched[key] = watch
    try:
        yield
    except (OSError, EOFError, imapclient.exceptions.IMAPClientError) as exc:
        if watch.fired == "cancel":
            raise Cancelled() from exc
        if watch.fired == "deadline":
            raise CommandDeadline(f"{what}: no full answer within {seconds:.0f} s") from exc
        raise
    finally:
        with _lock:
            _watched.pop(key, None)
