"""Local mail as if it were an account: the demo mailbox, or a user's mbox, Maildir or .eml folder.

KlezGuard never changes the user's own files. It imports them into a Maildir working copy in its
data folder; quarantine and restore work on that copy (a quarantine there is a file moved between folders, atomic
on one disk). Judging and storing are the application's (application/local.py), as for IMAP accounts,
so a message gets the same verdict either way.
"""

import hashlib
import json
import mailbox
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from klezguard import paths
from klezguard.core.sources import SourceError, read_mail
from klezguard.errors import KnownError, MessageGone
from klezguard.mail.quarantine import fingerprint, header_block, message_id_of
from klezguard.store.db import Store
from klezguard.store.journal import IN_QUARANTINE, QuarantineEntry

QUARANTINE = "KlezGuard Quarantine"
UIDVALIDITY = 1


@dataclass
class LocalSource:
    """Where a local mailbox comes from and what the engine should know about its owner."""

    name: str
    inbox: list[str]
    sent: list[str]
    own_domains: list[str]
    trusted_authserv: list[str]
    owner: str = ""


def demo_folder() -> Path:
    """The demo mailbox, shipped inside the package (so an ordinary `pip install` has it too)."""
    return Path(str(resources.files("klezguard").joinpath("resources", "demo")))


def demo_source() -> LocalSource:
    demo = demo_folder()
    return LocalSource("Demo: Brightwater Bakery", [str(demo / "inbox")], [str(demo / "sent")],
                       ["brightwater-bakery.com"], ["mx.mailhost-demo.net"], "maya@brightwater-bakery.com")


class LocalMailbox:
    """A working copy of local mail with IMAP-like folders, UIDs and quarantine."""

    def __init__(self, source: LocalSource, store: Store, root: Path | None = None):
        self.source = source
        self.store = store
        digest = hashlib.sha256(json.dumps(source.inbox).encode()).hexdigest()[:10]
        self.key = f"local:{digest}"
        self.root = root or paths.data_dir() / "local" / digest
        self.folder = QUARANTINE
        self.notes: list[str] = []
        self.problems: list[str] = []

    # --- the working copy ---------------------------------------------------------------------
    def _maildir(self) -> mailbox.Maildir:
        paths.private_dir(self.root.parent)  # the first mail folder ever opened: its parent is new too
        return mailbox.Maildir(self.root, create=True)

    def _box(self, folder: str) -> mailbox.Maildir:
        md = self._maildir()
        if folder == "INBOX":
            return md
        try:
            return md.get_folder(folder)
        except mailbox.NoSuchMailboxError:
            return md.add_folder(folder)

    def _index_path(self) -> Path:
        return self.root / "klezguard-uids.json"

    def _index(self) -> dict:
        try:
            return json.loads(self._index_path().read_text())
        except (OSError, ValueError):
            return {"next": 1, "uids": {}}

    def _save_index(self, index: dict) -> None:
        tmp = self._index_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(index))
        tmp.replace(self._index_path())

    def _uid(self, index: dict, folder: str, key: str) -> int:
        ref = f"{folder}/{key}"
        if ref not in index["uids"]:
            index["uids"][ref] = index["next"]
            index["next"] += 1
        return index["uids"][ref]

    def import_mail(self) -> int:
        """Copies the source's mail into the working copy once (later calls add nothing)."""
        marker = self.root / "klezguard-imported"
        if marker.exists():
            return 0
        inbox = self._box("INBOX")
        count = 0
        for item in read_mail(self.source.inbox):
            if isinstance(item, SourceError):
                raise KnownError(f"KlezGuard could not read {item.path}: {item.reason}.",
                                 "Check that the file or folder exists and is readable.")
            message = mailbox.MaildirMessage(item[1])
            if ":2," in item[0]:  # a Maildir file: its name holds its flags (read, flagged, answered ...)
                message.set_flags(item[0].rpartition(":2,")[2])
                message.set_subdir("cur")
            inbox.add(message)
            count += 1
        self._box(QUARANTINE)
        marker.write_text(time.ctime())
        return count

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # --- reading --------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        return ["INBOX"]

    def messages(self, folder: str, skip: set[int]) -> Iterator[tuple[int, bytes, tuple[str, ...]]]:
        """(uid, bytes, flags) of the folder's messages whose UID is not in `skip`, in UID order."""
        self.import_mail()
        box = self._box(folder)
        index = self._index()
        todo = sorted((self._uid(index, folder, k), k) for k in box.keys())
        self._save_index(index)
        for uid, key in todo:
            if uid in skip:
                continue
            try:
                raw = box.get_bytes(key)
            except KeyError:
                continue  # removed meanwhile
            yield uid, raw, tuple(_maildir_flags(box, key))

    def raw(self, folder: str, uid: int) -> bytes | None:
        """The message's bytes (for the safe preview), or None when it is gone."""
        key = self._key_of(folder, uid)
        if key is None:
            return None
        try:
            return self._box(folder).get_bytes(key)
        except KeyError:
            return None

    def _key_of(self, folder: str, uid: int) -> str | None:
        for ref, known in self._index()["uids"].items():
            if known == uid and ref.startswith(folder + "/"):
                return ref[len(folder) + 1 :]
        return None

    # --- quarantine -----------------------------------------------------------------------------
    def move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry:
        key = self._key_of(folder, uid)
        if key is None:
            raise MessageGone("That message is no longer in the folder.", "Scan again to refresh the list.")
        source, target = self._box(folder), self._box(QUARANTINE)
        raw = source.get_bytes(key)
        header = header_block(raw)
        subject, sender = self.store.summary(self.key, folder, uidvalidity, uid)
        flags = " ".join(_maildir_flags(source, key))
        new_key = target.add(source.get_message(key))  # copy first, then remove: never in no place
        source.remove(key)
        index = self._index()
        target_uid = self._uid(index, QUARANTINE, new_key)
        self._save_index(index)
        entry = self.store.journal.add(
            self.key, state="quarantined", message_id=message_id_of(header), source_folder=folder,
            source_uidvalidity=uidvalidity, source_uid=uid, flags=flags, target_folder=QUARANTINE,
            target_uidvalidity=UIDVALIDITY, target_uid=target_uid, subject=subject, from_display=sender,
            size=len(raw), fingerprint=fingerprint(header))
        self.store.follow(self.key, folder, uid, QUARANTINE, UIDVALIDITY, target_uid)
        return entry

    def entries(self, states: tuple[str, ...] = IN_QUARANTINE) -> list[QuarantineEntry]:
        return self.store.journal.entries(self.key, states)

    def restore(self, entry_id: int) -> QuarantineEntry:
        entry = self.store.journal.get(entry_id)
        key = self._key_of(QUARANTINE, entry.target_uid or -1) if entry and entry.account == self.key else None
        if entry is None or entry.state not in IN_QUARANTINE or key is None:
            raise KnownError("That message is not in quarantine.", "Scan again to refresh the list.")
        source, target = self._box(QUARANTINE), self._box(entry.source_folder)
        new_key = target.add(source.get_message(key))
        source.remove(key)
        index = self._index()
        uid = self._uid(index, entry.source_folder, new_key)
        self._save_index(index)
        restored = self.store.journal.update(entry_id, state="restored", source_uid=uid)
        self.store.follow(self.key, QUARANTINE, entry.target_uid or -1, entry.source_folder, UIDVALIDITY, uid)
        return restored

    def delete(self, entry_id: int) -> QuarantineEntry:
        """Deletes a quarantined message of the working copy (the user's own files are never touched)."""
        entry = self.store.journal.get(entry_id)
        key = self._key_of(QUARANTINE, entry.target_uid or -1) if entry and entry.account == self.key else None
        if entry is None or entry.state not in IN_QUARANTINE or key is None:
            raise KnownError("That message is not in quarantine.", "Scan again to refresh the list.")
        self._box(QUARANTINE).remove(key)
        self.store.forget_at(self.key, QUARANTINE, entry.target_uid or -1)
        return self.store.journal.update(entry_id, state="deleted", note="You deleted it from quarantine.")

    def recover(self) -> list[QuarantineEntry]:
        return []  # local moves are a copy and a delete on one disk; nothing is ever half-done in between


def _maildir_flags(box: mailbox.Maildir, key: str) -> list[str]:
    """Flags of a Maildir message (MaildirMessage.get_flags: Maildir.get_flags exists only from 3.13)."""
    names = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "D": "\\Draft", "T": "\\Deleted"}
    try:
        return [names[f] for f in box.get_message(key).get_flags() if f in names]
    except (KeyError, OSError):
        return []
