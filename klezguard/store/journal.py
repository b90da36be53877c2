"""The quarantine journal: one row per move of one message, written before the first server command.

A row says where the message came from (folder, UIDVALIDITY, UID), what it is (size and a digest of
its header block: its fingerprint), where its copy must appear (the quarantine folder's UIDVALIDITY
and the UIDNEXT it had before the move) and how far the move or restore got. IMAP accounts and local
mailboxes share it; only this module writes its SQL.

States: moving -> quarantined (or copied: the server cannot expunge one message) -> restoring ->
restored. A move that never happened ends as `undone`; a quarantined copy that someone removed in
another mail program ends as `gone`; a message that could not be found anywhere, with nothing
deleted, ends as `missing`. Only `moving` and `restoring` need the server to finish.
"""

import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klezguard import paths

if TYPE_CHECKING:
    from klezguard.store.db import Store

LOG_NAME = "quarantine-record.jsonl"
ACTIVE = ("moving", "quarantined", "copied", "restoring")
IN_QUARANTINE = ("quarantined", "copied")
UNFINISHED = ("moving", "restoring")


@dataclass
class QuarantineEntry:
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
    size: int
    internaldate: str
    fingerprint: str
    target_uidnext: int | None
    back_uidvalidity: int | None
    back_uidnext: int | None
    note: str
    created_at: float
    updated_at: float


COLUMNS = [f.name for f in fields(QuarantineEntry)]
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM quarantine"  # noqa: S608 - column names are constants
_WRITABLE = frozenset(COLUMNS) - {"id", "account", "created_at"}


class Journal:
    """Typed access to the quarantine table of a Store."""

    def __init__(self, store: "Store") -> None:
        self.store = store

    def get(self, entry_id: int) -> QuarantineEntry | None:
        rows = self.store.query(f"{_SELECT} WHERE id=?", (entry_id,))
        return QuarantineEntry(*rows[0]) if rows else None

    def entries(self, account: str, states: tuple[str, ...] = IN_QUARANTINE) -> list[QuarantineEntry]:
        marks = ",".join("?" * len(states))
        sql = f"{_SELECT} WHERE account=? AND state IN ({marks}) ORDER BY id"
        return [QuarantineEntry(*row) for row in self.store.query(sql, (account, *states))]

    def for_source(self, account: str, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry | None:
        """The unfinished or quarantined entry of this message, if any (there is at most one)."""
        marks = ",".join("?" * len(ACTIVE))
        rows = self.store.query(
            f"{_SELECT} WHERE account=? AND source_folder=? AND source_uidvalidity=? AND source_uid=? "
            f"AND state IN ({marks}) ORDER BY id DESC LIMIT 1", (account, folder, uidvalidity, uid, *ACTIVE))
        return QuarantineEntry(*rows[0]) if rows else None

    def referenced(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        """Every UID of `folder` that any entry names as its quarantined copy, whatever its state."""
        rows = self.store.query("SELECT target_uid FROM quarantine WHERE account=? AND target_folder=? AND "
                                "target_uidvalidity=? AND target_uid IS NOT NULL", (account, folder, uidvalidity))
        return {row[0] for row in rows}

    def for_target(self, account: str, folder: str, uid: int) -> QuarantineEntry | None:
        """The entry whose quarantined copy has this UID in the quarantine folder."""
        marks = ",".join("?" * len(IN_QUARANTINE))
        rows = self.store.query(
            f"{_SELECT} WHERE account=? AND target_folder=? AND target_uid=? AND state IN ({marks}) "
            "ORDER BY id DESC LIMIT 1", (account, folder, uid, *IN_QUARANTINE))
        return QuarantineEntry(*rows[0]) if rows else None

    def claimed(self, account: str, folder: str, uidvalidity: int, but: int) -> set[int]:
        """UIDs in `folder` (at `uidvalidity`) that other entries own: a quarantined or moving copy, or a
        message already restored there. An identical twin's copy is never taken for this entry's own."""
        owned = self.store.query(
            "SELECT target_uid FROM quarantine WHERE account=? AND target_folder=? AND target_uidvalidity=? "
            "AND target_uid IS NOT NULL AND id != ? AND state IN ('moving', 'quarantined', 'copied', 'restoring') "
            "UNION SELECT source_uid FROM quarantine WHERE account=? AND source_folder=? AND source_uidvalidity=? "
            "AND id != ? AND state = 'restored'",
            (account, folder, uidvalidity, but, account, folder, uidvalidity, but))
        return {row[0] for row in owned}

    # --- a second record, outside the database --------------------------------------------------
    def _log_path(self) -> Path | None:
        return None if self.store.memory else self.store.path.with_name(LOG_NAME)

    def _remember(self, account: str, fingerprint: str, folder: str, flags: str) -> None:
        """Where a quarantined message came from, in a small file beside the database: if the database is
        ever damaged, restore still knows the folder to put it back in."""
        path = self._log_path()
        if path is None or not fingerprint:
            return
        try:
            paths.private_file(path)
            with path.open("a", encoding="utf-8") as log:
                log.write(json.dumps({"account": account, "fingerprint": fingerprint, "folder": folder,
                                      "flags": flags}) + "\n")
        except OSError:
            pass  # a full disk: the database holds it too

    def remembered(self, account: str) -> dict[str, tuple[str, str]]:
        """fingerprint -> (original folder, flags) from the record beside the database."""
        path = self._log_path()
        found: dict[str, tuple[str, str]] = {}
        try:
            with path.open(encoding="utf-8") as log:  # type: ignore[union-attr]
                for line in log:
                    try:
                        item = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash
                    if item.get("account") == account:
                        found[item.get("fingerprint", "")] = (str(item.get("folder") or "INBOX"),
                                                              str(item.get("flags", "")))
        except (OSError, AttributeError):
            pass
        return found

    def add(self, account: str, **values: Any) -> QuarantineEntry:
        unknown = set(values) - _WRITABLE
        if unknown:
            raise ValueError(f"not journal columns: {sorted(unknown)}")
        self._remember(account, values.get("fingerprint", ""), values.get("source_folder", ""), values.get("flags", ""))
        now = time.time()
        values = {"account": account, "created_at": now, "updated_at": now, **values}
        names = ", ".join(values)
        marks = ", ".join("?" * len(values))
        with self.store.transaction() as db:
            cursor = db.execute(f"INSERT INTO quarantine ({names}) VALUES ({marks})",  # noqa: S608 - checked names
                                tuple(values.values()))
            entry_id = cursor.lastrowid
        assert entry_id is not None  # an INSERT always sets it
        entry = self.get(entry_id)
        assert entry is not None
        return entry

    def update(self, entry_id: int, **values: Any) -> QuarantineEntry:
        unknown = set(values) - _WRITABLE
        if unknown:
            raise ValueError(f"not journal columns: {sorted(unknown)}")
        values["updated_at"] = time.time()
        sets = ", ".join(f"{name}=?" for name in values)
        with self.store.transaction() as db:
            db.execute(f"UPDATE quarantine SET {sets} WHERE id=?", (*values.values(), entry_id))  # noqa: S608
        entry = self.get(entry_id)
        assert entry is not None
        return entry
