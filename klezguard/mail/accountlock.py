"""One quarantine step at a time per account, across threads and processes.

The app's worker, its scanning helper, a `klezguard` command in a terminal and a second app may all
act on one mailbox. Two moves of one message at once would leave two journal entries, and each would
judge the other's copy; so every move, restore and recovery holds this lock. It is a lock file in the
user's private data folder (`filelock`: flock on POSIX, msvcrt on Windows), released by the operating
system when a process dies.
"""

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from klezguard import paths
from klezguard.errors import KnownError

WAIT = 60.0
_locks: dict[str, FileLock] = {}
_guard = threading.Lock()


def _lock_for(account_key: str) -> FileLock:
    folder = paths.private_dir(paths.data_dir() / "locks")
    name = hashlib.sha256(account_key.encode("utf-8")).hexdigest()[:16]
    path = str(folder / f"{name}.lock")
    with _guard:
        if path not in _locks:  # one object per file: re-entrant within a thread, exclusive between them
            _locks[path] = FileLock(path, mode=paths.PRIVATE_FILE)
        return _locks[path]


@contextmanager
def account_lock(account_key: str, wait: float = WAIT) -> Iterator[None]:
    try:
        with _lock_for(account_key).acquire(timeout=wait):
            yield
    except Timeout as exc:
        raise KnownError("Another KlezGuard is moving mail of this account right now.",
                         "Wait until it is done, then try again.") from exc
