"""One SQLite file in the user's data folder holds what KlezGuard learned about each mailbox.

The schema is versioned with PRAGMA user_version; each migration is a list of statements that moves
the file one version up, inside a transaction, so an old file is upgraded in place and a crash during
an upgrade leaves the old version intact.
"""

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from klezguard import paths
from klezguard.errors import StoreError
from klezguard.store.journal import Journal

MIGRATIONS: list[list[str]] = [
    # 1: scan results, folder sync state, quarantine journal, sent-mail index, trusted senders
    [
        """CREATE TABLE folders (
            account TEXT NOT NULL, name TEXT NOT NULL, uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL DEFAULT 0, highestmodseq INTEGER, scanned_at REAL,
            PRIMARY KEY (account, name))""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
            message_id TEXT NOT NULL DEFAULT '', from_display TEXT NOT NULL DEFAULT '',
            from_addr TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '', date REAL,
            size INTEGER NOT NULL DEFAULT 0, flags TEXT NOT NULL DEFAULT '',
            verdict TEXT NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL DEFAULT '',
            findings TEXT NOT NULL DEFAULT '[]', view BLOB, engine TEXT NOT NULL DEFAULT '',
            scanned_at REAL NOT NULL,
            UNIQUE (account, folder, uidvalidity, uid))""",
        "CREATE INDEX messages_by_verdict ON messages (account, verdict)",
        "CREATE INDEX messages_by_message_id ON messages (message_id)",
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL, message_id TEXT NOT NULL, state TEXT NOT NULL,
            source_folder TEXT NOT NULL, source_uidvalidity INTEGER NOT NULL, source_uid INTEGER NOT NULL,
            flags TEXT NOT NULL DEFAULT '',
            target_folder TEXT NOT NULL, target_uidvalidity INTEGER, target_uid INTEGER,
            subject TEXT NOT NULL DEFAULT '', from_display TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0, internaldate TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
        "CREATE INDEX quarantine_by_state ON quarantine (account, state)",
        "CREATE TABLE sent_ids (account TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (account, message_id))",
        """CREATE TABLE correspondents (account TEXT NOT NULL, address TEXT NOT NULL,
            PRIMARY KEY (account, address))""",
        """CREATE TABLE trusted_senders (
            address TEXT NOT NULL, auth_domain TEXT NOT NULL, created_at REAL NOT NULL,
            PRIMARY KEY (address, auth_domain))""",
    ],
    # 2: the user can overrule a verdict ("not a threat"); a rescan or re-judging keeps their word
    [
        "ALTER TABLE messages ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX messages_by_sender ON messages (account, from_addr)",
        "CREATE INDEX messages_by_date ON messages (date, id)",
    ],
    # 3: quarantine identifies a message by folder, UIDVALIDITY and UID, confirmed by size and a digest of
    # its header block, never by its own headers; where its copy must appear (UIDNEXT before the move);
    # a note for the user when a step was stopped to keep both copies
    [
        "ALTER TABLE quarantine ADD COLUMN fingerprint TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE quarantine ADD COLUMN target_uidnext INTEGER",
        "ALTER TABLE quarantine ADD COLUMN back_uidvalidity INTEGER",
        "ALTER TABLE quarantine ADD COLUMN back_uidnext INTEGER",
        "ALTER TABLE quarantine ADD COLUMN note TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX quarantine_by_source ON quarantine (account, source_folder, source_uidvalidity, source_uid)",
        "CREATE INDEX quarantine_by_target ON quarantine (account, target_folder, target_uid)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    return paths.data_dir() / "klezguard.sqlite3"


VIEW_MAGIC = b"KGV1"


KEEP_PART = 256 * 1024  # bytes of one part a stored view keeps: all of any text, not a big archive
KEEP_HEAD = 4096  # what is kept of a bigger part (its type can still be told from it)


@dataclass
class View:
    """A stored partial view. `cut`: parts kept only in part (big archives and documents): the store keeps
    what the findings show (names, sizes, listings are in the findings), not megabytes of attachments."""

    head: bytes
    structure: list[dict]
    fetched: dict[str, bytes]
    cut: list[str]


def pack_view(header_block: bytes, structure: list[dict], fetched: dict[str, bytes], keep: int = KEEP_PART) -> bytes:
    """The partial view, compressed, so a newer engine can judge the message again without the server.

    A small JSON index followed by the raw bytes: encoding megabytes of attachment bytes as JSON text would
    hold the interpreter for tens of milliseconds and make the window stutter during a scan."""
    cut = [part_id for part_id, data in fetched.items() if len(data) > keep]
    parts = [(part_id, data if len(data) <= keep else data[:KEEP_HEAD]) for part_id, data in fetched.items()]
    meta = json.dumps({"head": len(header_block), "structure": structure, "cut": cut,
                       "parts": [[part_id, len(data)] for part_id, data in parts]}).encode("utf-8")
    body = b"".join([VIEW_MAGIC, len(meta).to_bytes(4, "big"), meta, header_block, *(data for _, data in parts)])
    return zlib.compress(body, 1)


def unpack_view(blob: bytes) -> View:
    body = zlib.decompress(blob)
    if not body.startswith(VIEW_MAGIC):
        raise StoreError("A stored message view is damaged.", "Scan the folder again.")
    size = int.from_bytes(body[4:8], "big")
    meta = json.loads(body[8 : 8 + size])
    offset = 8 + size
    head = body[offset : offset + meta["head"]]
    offset += meta["head"]
    fetched = {}
    for part_id, length in meta["parts"]:
        fetched[part_id] = body[offset : offset + length]
        offset += length
    return View(head, meta["structure"], fetched, meta.get("cut", []))


@dataclass
class StoredMessage:
    id: int
    account: str
    folder: str
    uidvalidity: int
    uid: int
    message_id: str
    from_display: str
    from_addr: str
    subject: str
    date: float | None
    size: int
    flags: str
    verdict: str
    score: float
    reason: str
    findings: list[dict]


class _Damaged(Exception):
    """The file is not a database any more (cut short, overwritten): it is put aside and a new one started."""


def _damage_words(exc: Exception) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "file is encrypted" in text


class Store:
    """Thread-safe enough for one writer per account: every call takes a short lock.

    A damaged file (cut short, overwritten) is put aside under a new name at opening and a new one
    started; `recovery_note()` says so, and the quarantine journal is rebuilt from the server (see
    Quarantine.reconcile)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self._lock = threading.RLock()
        self.set_aside: Path | None = None  # where a damaged file was put when this opening found one
        self.lost = False  # the file was gone or emptied since KlezGuard last used it
        try:
            self._open()
        except _Damaged:
            self.set_aside = self._put_aside()
            self._open()

    @property
    def memory(self) -> bool:
        return str(self.path) == ":memory:"

    def _open(self) -> None:
        try:
            if not self.memory:
                paths.private_dir(self.path.parent)
                paths.private_file(self.path)  # SQLite gives its -wal and -shm files the same mode
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            if self._db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise _Damaged("quick_check")
            fresh = self._db.execute("PRAGMA user_version").fetchone()[0] == 0
            self._migrate()
            if not self.memory:
                for extra in ("-wal", "-shm"):  # made by an older KlezGuard before it kept them private
                    side = self.path.with_name(self.path.name + extra)
                    if side.exists():
                        paths.private_file(side)
                marker = self.path.with_name(self.path.name + ".id")
                self.lost = fresh and marker.exists() and self.set_aside is None
                if not marker.exists():  # "a store was here": an emptied file is then told apart from a new one
                    paths.private_file(marker)
        except _Damaged:
            self._close_quietly()
            raise
        except sqlite3.DatabaseError as exc:
            if _damage_words(exc) and not self.memory and self.set_aside is None:
                self._close_quietly()
                raise _Damaged(str(exc)) from exc
            raise self._error(exc) from exc
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        except OSError as exc:
            raise StoreError(
                f"KlezGuard could not open its database at {self.path}.",
                "Check that the folder exists, is writable and the disk is not full.",
                detail=str(exc),
            ) from exc

    def _close_quietly(self) -> None:
        try:
            self._db.close()
        except (sqlite3.Error, AttributeError):
            pass

    def _put_aside(self) -> Path:
        """Renames a damaged file (with its -wal and -shm) to <name>.damaged-<time>, so nothing in it is
        lost, and lets a new one start."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for extra in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + extra)
            if source.exists():
                source.replace(aside.with_name(aside.name + extra))
        return aside

    def recovery_note(self) -> str:
        """What to tell the user when this opening found the store damaged or gone ('' otherwise)."""
        if self.set_aside is not None:
            return (f"KlezGuard's database was damaged. It was put aside as {self.set_aside.name} and a new one "
                    "started: KlezGuard checks your mail again and finds the messages it had put in quarantine.")
        if self.lost:
            return ("KlezGuard's database was emptied or replaced since it last ran. It checks your mail again and "
                    "finds the messages it had put in quarantine.")
        return ""

    def _error(self, exc: Exception) -> StoreError:
        text = str(exc).lower()
        if _damage_words(exc):
            return StoreError("KlezGuard's database is damaged.",
                              "Restart KlezGuard: it puts the damaged file aside and starts a new one. Nothing on "
                              "your mail server is affected.", detail=str(exc))
        if "full" in text or "no space" in text:
            return StoreError("The disk is full, so KlezGuard cannot save its results.",
                              "Free some space; nothing was lost on the mail server.", detail=str(exc))
        if "locked" in text or "busy" in text:
            return StoreError("KlezGuard's database is in use by another KlezGuard.",
                              "Close the other one and try again.", detail=str(exc))
        return StoreError(f"KlezGuard's database {self.path} cannot be used.",
                          "If it keeps happening, move the file away: KlezGuard builds a new one by scanning again.",
                          detail=str(exc))

    def _migrate(self) -> None:
        """One step at a time, each in a write transaction that reads the version first: two processes
        opening an old file at once (the app and its helper, a command in a terminal) never both run a step."""
        while True:
            with self.transaction():
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        "This database was written by a newer KlezGuard.",
                        "Update KlezGuard, or move the file away to start afresh.",
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in MIGRATIONS[version]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def query(self, sql: str, args: Iterable = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def journal(self) -> Journal:
        return Journal(self)

    # --- folder sync state --------------------------------------------------------------------
    def folder_state(self, account: str, folder: str) -> tuple[int, int, int | None] | None:
        rows = self.query("SELECT uidvalidity, last_uid, highestmodseq FROM folders WHERE account=? AND name=?",
                          (account, folder))
        return rows[0] if rows else None

    def reset_folder(self, db: sqlite3.Connection, account: str, folder: str, uidvalidity: int) -> None:
        """UIDVALIDITY changed: every stored UID of the folder means nothing any more."""
        db.execute("DELETE FROM messages WHERE account=? AND folder=?", (account, folder))
        db.execute("INSERT OR REPLACE INTO folders (account, name, uidvalidity, last_uid) VALUES (?, ?, ?, 0)",
                   (account, folder, uidvalidity))

    def set_folder_state(self, db: sqlite3.Connection, account: str, folder: str, uidvalidity: int,
                         last_uid: int, highestmodseq: int | None) -> None:
        db.execute(
            "INSERT INTO folders (account, name, uidvalidity, last_uid, highestmodseq, scanned_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, name) DO UPDATE SET uidvalidity=excluded.uidvalidity, "
            "last_uid=max(last_uid, excluded.last_uid), highestmodseq=excluded.highestmodseq, "
            "scanned_at=excluded.scanned_at",
            (account, folder, uidvalidity, last_uid, highestmodseq, time.time()),
        )

    # --- messages -----------------------------------------------------------------------------
    def put_message(self, db: sqlite3.Connection, row: dict) -> None:
        db.execute(
            "INSERT OR REPLACE INTO messages (account, folder, uidvalidity, uid, message_id, from_display, from_addr, "
            "subject, date, size, flags, verdict, score, reason, findings, view, engine, scanned_at) VALUES "
            "(:account, :folder, :uidvalidity, :uid, :message_id, :from_display, :from_addr, :subject, :date, :size, "
            ":flags, :verdict, :score, :reason, :findings, :view, :engine, :scanned_at)",
            row,
        )

    def messages(self, account: str | None = None, folder: str | None = None,
                 verdicts: Iterable[str] | None = None) -> list[StoredMessage]:
        sql = ("SELECT id, account, folder, uidvalidity, uid, message_id, from_display, from_addr, subject, date, "
               "size, flags, verdict, score, reason, findings FROM messages WHERE 1=1")
        args: list = []
        if account:
            sql += " AND account=?"
            args.append(account)
        if folder:
            sql += " AND folder=?"
            args.append(folder)
        if verdicts:
            verdicts = list(verdicts)
            sql += f" AND verdict IN ({','.join('?' * len(verdicts))})"
            args.extend(verdicts)
        sql += " ORDER BY date DESC, id DESC"
        return [StoredMessage(*row[:15], findings=json.loads(row[15])) for row in self.query(sql, args)]

    def summary(self, account: str, folder: str, uidvalidity: int, uid: int) -> tuple[str, str]:
        """(subject, sender) of a stored message, for the quarantine journal; empty when not scanned."""
        rows = self.query("SELECT subject, from_display FROM messages WHERE account=? AND folder=? AND uidvalidity=? "
                          "AND uid=?", (account, folder, uidvalidity, uid))
        return (rows[0][0], rows[0][1]) if rows else ("", "")

    def follow(self, account: str, folder: str, uid: int, new_folder: str, new_uidvalidity: int,
               new_uid: int) -> None:
        """The stored verdict moves with its message (quarantine, restore), so the Quarantine view shows
        its findings and a restored message is not reported as new."""
        with self.transaction() as db:
            db.execute("DELETE FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND uid=?",
                       (account, new_folder, new_uidvalidity, new_uid))
            db.execute("UPDATE messages SET folder=?, uidvalidity=?, uid=? WHERE account=? AND folder=? AND uid=?",
                       (new_folder, new_uidvalidity, new_uid, account, folder, uid))

    def view(self, message_row_id: int) -> View | None:
        rows = self.query("SELECT view FROM messages WHERE id=?", (message_row_id,))
        return unpack_view(rows[0][0]) if rows and rows[0][0] else None

    # --- sent mail ----------------------------------------------------------------------------
    def add_sent(self, db: sqlite3.Connection, account: str, ids: Iterable[str], recipients: Iterable[str]) -> None:
        db.executemany("INSERT OR IGNORE INTO sent_ids (account, message_id) VALUES (?, ?)",
                       [(account, i) for i in ids])
        db.executemany("INSERT OR IGNORE INTO correspondents (account, address) VALUES (?, ?)",
                       [(account, a) for a in recipients])

    def trusted_senders(self) -> frozenset[tuple[str, str]]:
        return frozenset((a, d) for a, d in self.query("SELECT address, auth_domain FROM trusted_senders"))

    def trust(self, address: str, auth_domain: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO trusted_senders (address, auth_domain, created_at) VALUES (?, ?, ?)",
                       (address.lower(), auth_domain.lower(), time.time()))

    def untrust(self, address: str, auth_domain: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM trusted_senders WHERE address=? AND auth_domain=?",
                       (address.lower(), auth_domain.lower()))

    def clear(self, row_ids: list[int], reason: str) -> None:
        """The user says these messages are not a threat."""
        with self.transaction() as db:
            db.executemany("UPDATE messages SET cleared=1, verdict='clean', score=0, reason=? WHERE id=?",
                           [(reason, i) for i in row_ids])

    def known_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        return {r[0] for r in self.query("SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=?",
                                         (account, folder, uidvalidity))}

    def correspondents(self, account: str) -> frozenset[str]:
        return frozenset(r[0] for r in self.query("SELECT address FROM correspondents WHERE account=?", (account,)))

    def sent_ids(self, account: str) -> frozenset[str]:
        return frozenset(r[0] for r in self.query("SELECT message_id FROM sent_ids WHERE account=?", (account,)))
