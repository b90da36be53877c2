"""A backscatter wave: several bounces or complaints for mail the user never sent, within days.

One such bounce is noise; three in a week mean someone is sending mail in the user's name (as Klez did).
That is said once, plainly, with one click to quarantine them all, instead of one notice per bounce. A wave
is not said again when one more bounce joins it; it is said again only when enough new ones arrive to make
a wave on their own.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass

from klezguard.store.db import Store, StoredMessage

MIN_MESSAGES = 3  # bounces or complaints for unsent mail that make a wave ...
WINDOW_DAYS = 7  # ... within this many days


@dataclass(frozen=True)
class Wave:
    account: str
    messages: tuple[StoredMessage, ...]  # every backscatter message of the window still in the user's folders

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def row_ids(self) -> list[int]:
        return [m.id for m in self.messages]


class WaveWatch:
    """Remembers, per account, the newest message of the last wave told (`told`: account -> row id), so a wave
    is said once. Keep `told` between runs to say it once across restarts too."""

    def __init__(self, told: dict[str, int] | None = None):
        self.told: dict[str, int] = dict(told or {})

    def check(self, store: Store, account: str, quarantine_folders: Iterable[str],
              now: float | None = None) -> Wave | None:
        """The account's wave, when there is one not told yet (it is then marked as told)."""
        since = (time.time() if now is None else now) - WINDOW_DAYS * 86400
        found = [m for m in store.backscatter_since(account, since, quarantine_folders)
                 if "\\deleted" not in m.flags.lower().split()]  # on their way out in a mail program already
        told = self.told.get(account, 0)
        if sum(1 for m in found if m.id > told) < MIN_MESSAGES:
            return None
        self.told[account] = max(m.id for m in found)
        return Wave(account, tuple(found))
