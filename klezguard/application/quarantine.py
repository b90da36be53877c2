"""Quarantine and restore as the user asks for them: chosen messages, or every message at or above a level.

The moves themselves are mail/quarantine.py's (journaled, never losing a message). Here is what a run
does with many: one message that cannot move never stops the others; "every threat" means every stored
threat still in the user's folders, new or judged by an earlier scan, so a run cut short by a dropped
connection is made good by the next one. A dropped connection stops the run (the rest would fail the
same way); run again, each step already done is found in the journal and not done twice.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import imapclient

from klezguard.errors import ConnectionDropped, KnownError, MessageGone
from klezguard.mail.accounts import Account
from klezguard.mail.quarantine import Quarantine
from klezguard.store.db import Store, StoredMessage
from klezguard.store.journal import QuarantineEntry

LEVELS = {"suspicious": ("suspicious", "threat"), "threat": ("threat",)}


@dataclass(frozen=True)
class Target:
    """A message to move, as the store knows it."""

    folder: str
    uidvalidity: int
    uid: int
    subject: str = ""


@dataclass
class Run:
    """What a quarantine or restore run did. `failed`: (subject, what went wrong) of each message that
    stayed where it was; `notes`: what the user should know, once each."""

    done: list[QuarantineEntry] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    gone: int = 0  # no longer on the server where the last scan saw them: forgotten, not failed
    notes: list[str] = field(default_factory=list)

    def tell(self, quarantine: "Mover") -> None:
        for text in [*quarantine.problems, *quarantine.notes]:
            if text not in self.notes:
                self.notes.append(text)
        quarantine.problems.clear()
        quarantine.notes.clear()


Progress = Callable[[int, int], None]


class Mover(Protocol):
    """Moves one message at a time: Quarantine on an IMAP server, LocalMailbox on a local working copy."""

    notes: list[str]
    problems: list[str]

    def move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry: ...

    def restore(self, entry_id: int) -> QuarantineEntry: ...

    def delete(self, entry_id: int) -> QuarantineEntry: ...


def target_of(row: StoredMessage) -> Target:
    return Target(row.folder, row.uidvalidity, row.uid, row.subject)


def waiting(store: Store, key: str, level: str, folders: Iterable[str]) -> list[StoredMessage]:
    """Stored messages at `level` or worse still in `folders`, not cleared by the user, not marked for
    deletion in a mail program (on their way out already)."""
    rows = store.at_level(key, LEVELS[level], folders)
    return [r for r in rows if "\\deleted" not in r.flags.lower().split()]


def mover(client: imapclient.IMAPClient, account: Account, store: Store) -> Quarantine:
    return Quarantine(client, account, store)


def quarantine_messages(quarantine: Mover, store: Store, key: str, targets: list[Target],
                        progress: Progress | None = None, cancel=None) -> Run:
    run = Run()
    for n, target in enumerate(targets, 1):
        if cancel is not None and cancel.is_set():
            break
        try:
            run.done.append(quarantine.move(target.folder, target.uidvalidity, target.uid))
        except ConnectionDropped:
            raise  # the connection is gone for the rest too: the caller reconnects and runs again
        except MessageGone:
            run.gone += 1
            row_id = store.row_id(key, target.folder, target.uidvalidity, target.uid)
            if row_id is not None:
                store.forget_message(row_id)
        except KnownError as exc:  # one message that cannot move never stops the others
            run.failed.append((target.subject, exc.text()))
        if progress is not None:
            progress(n, len(targets))
    run.tell(quarantine)
    return run


def quarantine_level(quarantine: Mover, store: Store, key: str, level: str, folders: Iterable[str],
                     progress: Progress | None = None) -> Run:
    """Every stored message at `level` or worse that is still in `folders` goes to quarantine."""
    return quarantine_messages(quarantine, store, key, [target_of(r) for r in waiting(store, key, level, folders)],
                               progress)


def in_quarantine(client: imapclient.IMAPClient, account: Account, store: Store) -> tuple[list[QuarantineEntry],
                                                                                           list[str]]:
    """The quarantined messages, after finishing what an interrupted run left (with what that found)."""
    quarantine = Quarantine(client, account, store)
    quarantine.recover()
    run = Run()
    run.tell(quarantine)
    return quarantine.entries(), run.notes


def _each_entry(step: Callable[[int], QuarantineEntry], quarantine: Mover, store: Store, entry_ids: list[int],
                progress: Progress | None) -> Run:
    """Runs `step` on each journal entry: one that fails is reported and skipped, never blocking the rest."""
    run = Run()
    for n, entry_id in enumerate(entry_ids, 1):
        entry = store.journal.get(entry_id)
        try:
            run.done.append(step(entry_id))
        except ConnectionDropped:
            raise  # the connection is gone for the rest too: the caller reconnects and runs again
        except KnownError as exc:
            run.failed.append(((entry.subject or entry.message_id) if entry else str(entry_id), exc.text()))
        if progress is not None:
            progress(n, len(entry_ids))
    run.tell(quarantine)
    return run


def restore(quarantine: Mover, store: Store, entry_ids: list[int], progress: Progress | None = None) -> Run:
    return _each_entry(quarantine.restore, quarantine, store, entry_ids, progress)


def delete(quarantine: Mover, store: Store, entry_ids: list[int], progress: Progress | None = None) -> Run:
    """Deletes quarantined messages for good (the user confirmed it, naming the count)."""
    return _each_entry(quarantine.delete, quarantine, store, entry_ids, progress)


def expired(store: Store, key: str, days: int, now: float | None = None) -> list[int]:
    """Entries in quarantine for longer than `days` (0: none: the clean-out is off)."""
    if days <= 0:
        return []
    limit = (now if now is not None else time.time()) - days * 86400
    return [e.id for e in store.journal.entries(key) if e.created_at < limit]


def clean_out(quarantine: Mover, store: Store, key: str, days: int) -> Run:
    """The optional clean-out: quarantined mail older than `days` is deleted; until then it can be restored."""
    return delete(quarantine, store, expired(store, key, days))


def entry_ids_of(store: Store, key: str, rows: Iterable[StoredMessage]) -> list[int]:
    """The journal entries of stored messages shown in the Quarantine view."""
    ids = []
    for row in rows:
        entry = store.journal.for_target(key, row.folder, row.uid)
        if entry is not None:
            ids.append(entry.id)
    return ids
