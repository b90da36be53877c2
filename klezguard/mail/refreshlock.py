"""One refresh of an account's OAuth2 sign-in at a time, across threads and processes.

The app's watcher, its worker, its scanning helper process and a command in a terminal may each find the
access token used up at the same moment. Providers that rotate refresh tokens honour each one once: a second
refresh with the old one is refused as if the user had withdrawn access. So a refresh holds this lock, a lock
file beside the quarantine's (`accountlock`), and whoever waited reads the renewed tokens from the keyring.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from filelock import Timeout

from klezguard.errors import ConnectionTimedOut
from klezguard.mail.accountlock import _lock_for

WAIT = 60.0  # longer than a refresh may take (its timeout is 20 s)


@contextmanager
def refresh_lock(account_key: str, wait: float = WAIT) -> Iterator[None]:
    try:
        with _lock_for(f"oauth2-refresh:{account_key}").acquire(timeout=wait):
            yield
    except Timeout as exc:
        raise ConnectionTimedOut("Another part of KlezGuard is renewing this account's sign-in and has not finished.",
                                 "Try again in a minute.") from exc
