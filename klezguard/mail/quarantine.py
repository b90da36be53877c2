"""Quarantine: a move to a folder on the server, never a delete; restore puts mail back as it was.

Every move and restore is journaled in the store *before* the first server command. If the connection
drops or the program dies at any step, each message still exists on the server at least once, and
`recover()` on the next run finishes or undoes what was interrupted:

* MOVE where the server has it (atomic on the server);
* otherwise UID COPY, check that the copy exists, then \\Deleted and UID EXPUNGE of exactly that UID
  (UIDPLUS); never a plain EXPUNGE, which would also remove messages the user marked for deletion;
* without UIDPLUS, copy and flag only, and say so: the user's mail program removes the original.

The quarantined copy carries the keyword $KlezGuardQuarantine, and the journal remembers the original
folder and flags, so restore can put the message back where it was, with its flags.
"""

import logging
import time
from dataclasses import dataclass

import imapclient

from klezguard.errors import KnownError
from klezguard.mail.accounts import Account
from klezguard.store.db import Store

log = logging.getLogger(__name__)

KEYWORD = "$KlezGuardQuarantine"
SELECT_ENTRY = (
    "SELECT id, account, message_id, state, source_folder, source_uidvalidity, source_uid, flags, target_folder, "
    "target_uidvalidity, target_uid, subject, from_display, size, internaldate FROM quarantine"
)


@dataclass
class Entry:
    id: int
    account: str
    message_id: str
    state: str
    source_folder: str
    source_uidvalidity: int
    source_uid: int
    flags: str
    target_folder: str
    target_uidvalidity: int | None
    target_uid: int | None
    subject: str
    from_display: str
    size: int = 0
    internaldate: str = ""


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Quarantine:
    """Moves messages of one account between their folder and the quarantine folder."""

    def __init__(self, client: imapclient.IMAPClient, account: Account, store: Store):
        self.client = client
        self.account = account
        self.store = store
        self.folder = account.quarantine_folder
        self.capabilities = {_text(c).upper() for c in client.capabilities()}
        self.notes: list[str] = []  # things to tell the user (e.g. the server lacks UIDPLUS)

    # --- journal ------------------------------------------------------------------------------
    def entries(self, states: tuple[str, ...] = ("quarantined", "copied")) -> list[Entry]:
        marks = ",".join("?" * len(states))
        sql = f"{SELECT_ENTRY} WHERE account=? AND state IN ({marks}) ORDER BY id"  # noqa: S608 - placeholders only
        return [Entry(*row) for row in self.store.query(sql, (self.account.key, *states))]

    def _set(self, entry_id: int, **values) -> None:
        values["updated_at"] = time.time()
        sets = ", ".join(f"{k}=?" for k in values)
        with self.store.transaction() as db:
            db.execute(f"UPDATE quarantine SET {sets} WHERE id=?", (*values.values(), entry_id))  # noqa: S608

    # --- server helpers -----------------------------------------------------------------------
    def ensure_folder(self) -> None:
        if not self.client.folder_exists(self.folder):
            self.client.create_folder(self.folder)
            try:
                self.client.subscribe_folder(self.folder)
            except imapclient.exceptions.IMAPClientError:
                log.info("could not subscribe %s", self.folder)

    def _select(self, folder: str, uidvalidity: int | None = None) -> int:
        info = self.client.select_folder(folder)
        current = int(info.get(b"UIDVALIDITY", 0))
        if uidvalidity is not None and current != uidvalidity:
            raise KnownError(
                f"The folder {folder} changed on the server since the last scan.",
                "Scan again, then try once more.",
            )
        return current

    def _identity(self, uid: int) -> tuple[str, int, str, tuple[str, ...]] | None:
        """Message-ID, size, internal date and flags of `uid` in the selected folder (None: gone)."""
        data = self.client.fetch([uid], ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]", "RFC822.SIZE", "INTERNALDATE",
                                         "FLAGS"]).get(uid)
        if not data:
            return None
        raw = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"") or b""
        message_id = _text(raw).partition(":")[2].strip()
        internal = data.get(b"INTERNALDATE")
        return (message_id, int(data.get(b"RFC822.SIZE", 0)), internal.isoformat() if internal else "",
                tuple(_text(f) for f in data.get(b"FLAGS", ())))

    def _find(self, entry: Entry, folder: str, with_keyword: bool | None = None) -> list[int]:
        """UIDs in the selected `folder` that are this message (by Message-ID, else size and date)."""
        criteria: list = []
        if entry.message_id:
            criteria += ["HEADER", "Message-ID", entry.message_id]
        if with_keyword is True:
            criteria += ["KEYWORD", KEYWORD]
        elif with_keyword is False:
            criteria += ["UNKEYWORD", KEYWORD]
        uids = self.client.search(criteria or ["ALL"])
        if not uids:
            return []
        found = []
        for uid, data in self.client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE", "FLAGS"]).items():
            if b"\\Deleted" in data.get(b"FLAGS", ()):
                continue
            if entry.size and int(data.get(b"RFC822.SIZE", 0)) != entry.size:
                continue
            internal = data.get(b"INTERNALDATE")
            if not entry.message_id and entry.internaldate and (not internal or
                                                                  internal.isoformat() != entry.internaldate):
                continue
            found.append(uid)
        return sorted(found)

    def _remove_exactly(self, uid: int) -> bool:
        """Marks `uid` deleted and expunges only it. False when the server cannot (no UIDPLUS)."""
        self.client.add_flags([uid], ["\\Deleted"], silent=True)
        if "UIDPLUS" in self.capabilities:
            self.client.uid_expunge([uid])
            return True
        return False

    def _transfer(self, uid: int, target: str) -> bool:
        """Moves the selected folder's `uid` to `target`. False: copied and flagged only (no UIDPLUS)."""
        if "MOVE" in self.capabilities:
            self.client.move([uid], target)
            return True
        self.client.copy([uid], target)
        return True  # the caller verifies the copy before removing the original

    # --- quarantine ---------------------------------------------------------------------------
    def move(self, folder: str, uidvalidity: int, uid: int) -> Entry:
        """Moves one message to the quarantine folder. Raises KnownError; never loses the message."""
        self.ensure_folder()
        self._select(folder, uidvalidity)
        identity = self._identity(uid)
        if identity is None:
            raise KnownError("That message is no longer in the folder.", "Scan again to refresh the list.")
        message_id, size, internal, flags = identity
        stored = self.store.query(
            "SELECT subject, from_display FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND uid=?",
            (self.account.key, folder, uidvalidity, uid))
        subject, sender = stored[0] if stored else ("", "")
        now = time.time()
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO quarantine (account, message_id, state, source_folder, source_uidvalidity, source_uid, "
                "flags, target_folder, subject, from_display, size, internaldate, created_at, updated_at) "
                "VALUES (?, ?, 'moving', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.account.key, message_id, folder, uidvalidity, uid, " ".join(f for f in flags if f != KEYWORD),
                 self.folder, subject, sender, size, internal, now, now))
            entry_id = cursor.lastrowid
        self.client.add_flags([uid], [KEYWORD], silent=True)
        self._transfer(uid, self.folder)
        entry = self._entry(entry_id)
        return self._finish_move(entry)

    def _entry(self, entry_id: int) -> Entry:
        return Entry(*self.store.query(f"{SELECT_ENTRY} WHERE id=?", (entry_id,))[0])  # noqa: S608

    def _finish_move(self, entry: Entry) -> Entry:
        """Completes a move whose copy may or may not have arrived; safe to call again after a crash."""
        target_validity = self._select(entry.target_folder)
        copies = self._find(entry, entry.target_folder, with_keyword=True)
        self._select(entry.source_folder)
        original = entry.source_uid if self._identity(entry.source_uid) else None
        if not copies:
            if original is None:
                # Neither here nor there would mean loss; look for it by identity before concluding.
                raise KnownError("KlezGuard could not find the message it was moving.",
                                 "Nothing was deleted. Scan again to see where it is.")
            # The move never happened: undo our keyword and forget the journal entry.
            self.client.remove_flags([original], [KEYWORD], silent=True)
            self._set(entry.id, state="undone")
            return self._entry(entry.id)
        state = "quarantined"
        if original is not None:
            if not self._remove_exactly(original):
                state = "copied"
                self.notes.append(
                    "Your server cannot delete one message at a time (no UIDPLUS), so the original is only "
                    "marked as deleted. Your mail program removes it when it cleans up the folder.")
        self._set(entry.id, state=state, target_uidvalidity=target_validity, target_uid=copies[-1])
        self._follow(entry.source_folder, entry.source_uid, entry.target_folder, target_validity, copies[-1])
        return self._entry(entry.id)

    def _follow(self, folder: str, uid: int, new_folder: str, new_validity: int, new_uid: int) -> None:
        """The stored verdict moves with the message, so the Quarantine view shows its findings and a
        restored message is not reported as new."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND uid=?",
                       (self.account.key, new_folder, new_validity, new_uid))
            db.execute("UPDATE messages SET folder=?, uidvalidity=?, uid=? WHERE account=? AND folder=? AND uid=?",
                       (new_folder, new_validity, new_uid, self.account.key, folder, uid))

    # --- restore ------------------------------------------------------------------------------
    def restore(self, entry_id: int) -> Entry:
        entry = self._entry(entry_id)
        if entry.state not in ("quarantined", "copied"):
            raise KnownError("That message is not in quarantine.", "See klezguard quarantine list.")
        self._set(entry.id, state="restoring")
        self._select(entry.target_folder)
        copies = self._find(entry, entry.target_folder, with_keyword=True)
        if not copies:
            self._set(entry.id, state=entry.state)
            raise KnownError("The quarantined message is no longer in the quarantine folder.",
                             "It may have been moved or deleted in your mail program.")
        uid = copies[-1]
        flags = [f for f in entry.flags.split() if f]
        self.client.set_flags([uid], flags + [KEYWORD], silent=True)  # original flags, still marked as ours
        self._transfer(uid, entry.source_folder)
        return self._finish_restore(self._entry(entry.id))

    def _finish_restore(self, entry: Entry) -> Entry:
        self._select(entry.source_folder)
        back = self._find(entry, entry.source_folder)  # our keyword may already be gone from it
        self._select(entry.target_folder)
        left = self._find(entry, entry.target_folder, with_keyword=True)
        if not back:
            if not left:
                raise KnownError("KlezGuard could not find the message it was restoring.",
                                 "Nothing was deleted. Look in the quarantine folder in your mail program.")
            self._set(entry.id, state="quarantined")  # the restore never happened
            return self._entry(entry.id)
        for uid in left:
            self._remove_exactly(uid)
        validity = self._select(entry.source_folder)
        self.client.remove_flags(back, [KEYWORD], silent=True)
        self._set(entry.id, state="restored", source_uid=back[-1])
        if entry.target_uid is not None:
            self._follow(entry.target_folder, entry.target_uid, entry.source_folder, validity, back[-1])
        return self._entry(entry.id)

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[Entry]:
        """Finishes or undoes moves and restores that were interrupted. Call on every connect."""
        done = []
        for entry in self.entries(states=("moving", "restoring")):
            if entry.state == "moving":
                done.append(self._finish_move(entry))
            else:
                done.append(self._finish_restore(entry))
        return done
