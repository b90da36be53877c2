"""One SQLite file in the user's data folder holds what KlezGuard learned about each mailbox.

The schema is versioned with PRAGMA user_version; each migration is a list of statements that moves
the file one version up, inside a transaction, so an old file is upgraded in place and a crash during
an upgrade leaves the old version intact.
"""

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klezguard import paths
from klezguard.core.context import SentIndex
from klezguard.core.correspondents import Arrival, Contact, Memory
from klezguard.errors import StoreError
from klezguard.store.journal import Journal
from klezguard.store.views import View, unpack_view

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
    # 4: the sent mail's authors and the names the user's correspondents go by ("Gareth Lloyd" is
    # gareth@lloyd-accounts.example), so mail scanned on the server is judged as `check` judges files;
    # the Sent folders are read again to fill them in
    [
        "CREATE TABLE sent_authors (account TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (account, address))",
        """CREATE TABLE sent_names (account TEXT NOT NULL, name_key TEXT NOT NULL, address TEXT NOT NULL,
            PRIMARY KEY (account, name_key, address))""",
        "DELETE FROM folders WHERE substr(name, 1, 6) = '\\Sent:'",
    ],
    # 5: the memory of correspondents (issue 13): each address with the names it goes by and how its mail
    # usually arrives, learnt from the Sent folder, from mail judged clean and from imported address books.
    # Name keys now ignore accents, titles and company forms, so the sent names are read again.
    [
        """CREATE TABLE contacts (account TEXT NOT NULL, address TEXT NOT NULL,
            received INTEGER NOT NULL DEFAULT 0, written INTEGER NOT NULL DEFAULT 0,
            in_book INTEGER NOT NULL DEFAULT 0, first REAL NOT NULL DEFAULT 0, last REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (account, address))""",
        """CREATE TABLE contact_names (account TEXT NOT NULL, address TEXT NOT NULL, name TEXT NOT NULL,
            times INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account, address, name))""",
        """CREATE TABLE contact_paths (account TEXT NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL,
            value TEXT NOT NULL, times INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account, address, kind, value))""",
        """CREATE TABLE contacts_learnt (account TEXT NOT NULL, message_id TEXT NOT NULL,
            PRIMARY KEY (account, message_id))""",
        "DELETE FROM sent_names",
        "DELETE FROM folders WHERE substr(name, 1, 6) = '\\Sent:'",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
OPEN_TRIES = 50  # 0.2 s apart


def default_path() -> Path:
    return paths.data_dir() / "klezguard.sqlite3"


ROW_COLUMNS = ("id, account, folder, uidvalidity, uid, verdict, score, from_display, from_addr, subject, date, "
               "reason, message_id, size, flags, cleared")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A judged message as the store keeps it, the one row type of the app, the command line and the tests.
    Its findings and its view are read apart, when they are needed (a list of 100,000 rows needs neither)."""

    id: int
    account: str
    folder: str
    uidvalidity: int
    uid: int
    verdict: str
    score: float
    from_display: str
    from_addr: str
    subject: str
    date: float | None
    reason: str
    message_id: str = ""
    size: int = 0
    flags: str = ""
    cleared: int = 0


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a scan writes for one message."""

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
    findings: str  # JSON
    view: bytes | None
    engine: str


def _stale_mark() -> str:
    """An engine mark no engine has: the row is judged again. Unique, so that a judgement begun before the
    mark was set can tell (Verdict.was)."""
    return f"stale-{time.time_ns()}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A stored message judged again."""

    row_id: int
    verdict: str
    score: float
    reason: str
    findings: str  # JSON
    engine: str
    # The row's engine mark when it was read: the verdict is stored only if nothing marked the row since
    # (a trust taken back while it was being judged under the old trust). None: store it whatever.
    was: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """Which stored messages a list shows, and in what order."""

    account: str | None = None
    folder: str | None = None
    view: str = "all"  # all, suspicious, threats, quarantine
    search: str = ""
    quarantine_folders: tuple[str, ...] = ()
    sort: str = "date"  # one of SORT_COLUMNS
    descending: bool = True


SORT_COLUMNS = {"score": "score", "sender": "from_display COLLATE NOCASE", "subject": "subject COLLATE NOCASE",
                "date": "date", "reason": "reason"}


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
            self._open_waiting()
        except _Damaged:
            self.set_aside = self._put_aside()
            self._open_waiting()

    def _open_waiting(self) -> None:
        """Opens the file, waiting while another KlezGuard creates or upgrades it (two started at once:
        SQLite can answer "locked" at once while a new file becomes a WAL database)."""
        for attempt in range(OPEN_TRIES):
            try:
                self._open()
                return
            except StoreError as exc:
                self._close_quietly()
                if not exc.busy or attempt == OPEN_TRIES - 1:
                    raise
                time.sleep(0.2)

    @property
    def memory(self) -> bool:
        return str(self.path) == ":memory:"

    def _open(self) -> None:
        try:
            if not self.memory:
                paths.private_dir(self.path.parent)
                paths.private_file(self.path)  # SQLite gives its -wal and -shm files the same mode
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            if self._db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise _Damaged("quick_check")
            fresh = self._db.execute("PRAGMA user_version").fetchone()[0] == 0
            self._migrate()
            if not self.memory:
                for extra in ("-wal", "-shm"):  # made by an older KlezGuard before it kept them private
                    # chmod only, never create: an empty -shm made while another process maps it crashed
                    # that process (SIGBUS, seen with two KlezGuards starting at once)
                    paths.restrict_if_there(self.path.with_name(self.path.name + extra))
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
            busy = StoreError("KlezGuard's database is in use by another KlezGuard.",
                              "Close the other one and try again.", detail=str(exc))
            busy.busy = True
            return busy
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

    def query(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
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
        return (int(rows[0][0]), int(rows[0][1]), rows[0][2]) if rows else None

    def reset_folder(self, account: str, folder: str, uidvalidity: int) -> None:
        """UIDVALIDITY changed (or the folder is new): the stored UIDs of another UIDVALIDITY mean nothing any
        more. (Rows of this one stay: a message quarantined before its folder was first scanned.)"""
        with self.transaction() as db:
            db.execute("DELETE FROM messages WHERE account=? AND folder=? AND uidvalidity != ?",
                       (account, folder, uidvalidity))
            db.execute("INSERT OR REPLACE INTO folders (account, name, uidvalidity, last_uid) VALUES (?, ?, ?, 0)",
                       (account, folder, uidvalidity))

    def set_folder_state(self, account: str, folder: str, uidvalidity: int, last_uid: int,
                         highestmodseq: int | None) -> None:
        with self.transaction() as db:
            self._folder_state(db, account, folder, uidvalidity, last_uid, highestmodseq)

    @staticmethod
    def _folder_state(db: sqlite3.Connection, account: str, folder: str, uidvalidity: int, last_uid: int,
                      highestmodseq: int | None) -> None:
        db.execute(
            "INSERT INTO folders (account, name, uidvalidity, last_uid, highestmodseq, scanned_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, name) DO UPDATE SET uidvalidity=excluded.uidvalidity, "
            "last_uid=max(last_uid, excluded.last_uid), highestmodseq=excluded.highestmodseq, "
            "scanned_at=excluded.scanned_at",
            (account, folder, uidvalidity, last_uid, highestmodseq, time.time()),
        )

    # --- messages -----------------------------------------------------------------------------
    def save_judged(self, account: str, folder: str, uidvalidity: int, judged: list[Judgement]) -> None:
        """Judged messages and how far the folder is scanned, in one transaction: a scan cut at any point
        resumes after the last message it kept."""
        if not judged:
            return
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO messages (account, folder, uidvalidity, uid, message_id, from_display, "
                "from_addr, subject, date, size, flags, verdict, score, reason, findings, view, engine, scanned_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(account, folder, uidvalidity, j.uid, j.message_id, j.from_display, j.from_addr, j.subject, j.date,
                  j.size, j.flags, j.verdict, j.score, j.reason, j.findings, j.view, j.engine, now) for j in judged])
            self._folder_state(db, account, folder, uidvalidity, max(j.uid for j in judged), None)

    def messages(self, account: str | None = None, folder: str | None = None,
                 verdicts: Iterable[str] | None = None) -> list[StoredMessage]:
        sql = f"SELECT {ROW_COLUMNS} FROM messages WHERE 1=1"  # noqa: S608 - column names only
        args: list[object] = []
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
        return [StoredMessage(*row) for row in self.query(sql, args)]

    def message(self, row_id: int) -> StoredMessage | None:
        rows = self.query(f"SELECT {ROW_COLUMNS} FROM messages WHERE id=?", (row_id,))  # noqa: S608
        return StoredMessage(*rows[0]) if rows else None

    def row_id(self, account: str, folder: str, uidvalidity: int, uid: int) -> int | None:
        rows = self.query("SELECT id FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND uid=?",
                          (account, folder, uidvalidity, uid))
        return int(rows[0][0]) if rows else None

    def findings(self, row_id: int) -> list[dict[str, Any]]:
        rows = self.query("SELECT findings FROM messages WHERE id=?", (row_id,))
        return json.loads(rows[0][0]) if rows else []

    def listing(self, which: Listing, limit: int, offset: int = 0) -> list[tuple[Any, ...]]:
        """Rows of a list as plain tuples in StoredMessage's order (the table makes rows of the few it shows)."""
        sql = f"SELECT {ROW_COLUMNS} FROM messages WHERE 1=1"  # noqa: S608 - column names only
        args: list[object] = []
        if which.account:
            sql += " AND account=?"
            args.append(which.account)
        if which.folder:
            sql += " AND folder=?"
            args.append(which.folder)
        marks = ",".join("?" * len(which.quarantine_folders))
        if which.view == "quarantine":
            sql += f" AND folder IN ({marks})"
            args.extend(which.quarantine_folders)
        else:
            if not which.folder:
                sql += f" AND folder NOT IN ({marks})"
                args.extend(which.quarantine_folders)
            if which.view == "suspicious":
                sql += " AND verdict='suspicious'"
            elif which.view == "threats":
                sql += " AND verdict='threat'"
        if which.search.strip():
            like = "%" + which.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += " AND (from_display LIKE ? ESCAPE '\\' OR subject LIKE ? ESCAPE '\\' OR reason LIKE ? ESCAPE '\\')"
            args.extend([like, like, like])
        direction = "DESC" if which.descending else "ASC"
        sql += f" ORDER BY {SORT_COLUMNS[which.sort]} {direction}, id {direction} LIMIT ? OFFSET ?"
        return self.query(sql, [*args, limit, offset])

    def counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """(account, folder) -> {"threat": n, "suspicious": n, "clean": n, "unchecked": n, "all": n}."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for account, folder, verdict, n in self.query(
                "SELECT account, folder, verdict, COUNT(*) FROM messages GROUP BY account, folder, verdict"):
            entry = out.setdefault((account, folder), {"threat": 0, "suspicious": 0, "clean": 0, "all": 0})
            entry[verdict] = entry.get(verdict, 0) + n
            entry["all"] += n
        return out

    def threats_outside(self, quarantine_folders: Iterable[str]) -> int:
        """How many threats are still in the user's folders (the tray's state)."""
        folders = list(quarantine_folders)
        marks = ",".join("?" * len(folders))
        sql = f"SELECT COUNT(*) FROM messages WHERE verdict='threat' AND folder NOT IN ({marks})"  # noqa: S608
        return int(self.query(sql, folders)[0][0])

    def at_level(self, account: str, verdicts: Iterable[str], folders: Iterable[str]) -> list[StoredMessage]:
        """Messages with one of `verdicts` in `folders` that the user has not cleared, oldest first."""
        verdicts, folders = list(verdicts), list(folders)
        sql = (f"SELECT {ROW_COLUMNS} FROM messages WHERE account=? AND cleared=0 "  # noqa: S608
               f"AND verdict IN ({','.join('?' * len(verdicts))}) AND folder IN ({','.join('?' * len(folders))}) "
               "ORDER BY folder, uid")
        return [StoredMessage(*row) for row in self.query(sql, [account, *verdicts, *folders])]

    def backscatter_since(self, account: str, since: float, quarantine_folders: Iterable[str]) -> list[StoredMessage]:
        """The account's flagged messages dated `since` or later (when undated: scanned since), outside the
        quarantine and not cleared by the user, with a backscatter finding that counts (a bounce or complaint
        for mail the user never sent), oldest first."""
        folders = list(quarantine_folders)
        sql = (f"SELECT {ROW_COLUMNS} FROM messages WHERE account=? AND cleared=0 "  # noqa: S608 - fixed text
               "AND verdict IN ('suspicious', 'threat') AND COALESCE(date, scanned_at) >= ? "
               f"AND folder NOT IN ({','.join('?' * len(folders))}) "
               "AND EXISTS (SELECT 1 FROM json_each(findings) WHERE json_extract(value, '$.category') = 'backscatter' "
               "AND json_extract(value, '$.score') > 0) ORDER BY COALESCE(date, scanned_at), id")
        return [StoredMessage(*row) for row in self.query(sql, [account, since, *folders])]

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

    def known_uids(self, account: str, folder: str, uidvalidity: int | None = None) -> set[int]:
        if uidvalidity is None:
            rows = self.query("SELECT uid FROM messages WHERE account=? AND folder=?", (account, folder))
        else:
            rows = self.query("SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=?",
                              (account, folder, uidvalidity))
        return {int(r[0]) for r in rows}

    def forget_at(self, account: str, folder: str, uid: int) -> None:
        """The message at `uid` of `folder` is gone (the user deleted it from quarantine)."""
        with self.transaction() as db:
            db.execute("DELETE FROM messages WHERE account=? AND folder=? AND uid=?", (account, folder, uid))

    def forget_message(self, row_id: int) -> None:
        """A message that is no longer on the server (moved or deleted in a mail program)."""
        with self.transaction() as db:
            db.execute("DELETE FROM messages WHERE id=?", (row_id,))

    def clear(self, row_ids: list[int], reason: str) -> None:
        """The user says these messages are not a threat."""
        with self.transaction() as db:
            db.executemany("UPDATE messages SET cleared=1, verdict='clean', score=0, reason=? WHERE id=?",
                           [(reason, i) for i in row_ids])

    def unclear(self, row_ids: list[int]) -> None:
        """The user takes "not a threat" back: the messages are judged again (their engine is unknown)."""
        with self.transaction() as db:
            db.executemany("UPDATE messages SET cleared=0, engine=? WHERE id=?", [(_stale_mark(), i) for i in row_ids])

    # --- judging again ----------------------------------------------------------------------------
    def stale(self, account: str, engine: str, limit: int, after: int = 0) -> list[tuple[int, bytes, str, str]]:
        """Up to `limit` (row id, view, findings, engine mark) with ids above `after`, judged by another engine
        than `engine` (not cleared)."""
        return self.query("SELECT id, view, findings, engine FROM messages WHERE account=? AND engine != ? AND id > ? "
                          "AND view IS NOT NULL AND cleared=0 ORDER BY id LIMIT ?", (account, engine, after, limit))

    def stale_uids(self, account: str, folder: str, uidvalidity: int, engine: str) -> list[int]:
        """UIDs in `folder` still judged by another engine than `engine` (their views were kept in part)."""
        rows = self.query("SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND engine != ? "
                          "AND cleared=0 ORDER BY uid", (account, folder, uidvalidity, engine))
        return [int(r[0]) for r in rows]

    def mark_stale(self, sender: str) -> None:
        """Every stored message from `sender`, in every account, is judged again (a trust changed)."""
        with self.transaction() as db:
            db.execute("UPDATE messages SET engine=? WHERE from_addr=? COLLATE NOCASE AND cleared=0",
                       (_stale_mark(), sender))

    def stale_count(self, account: str | None, engine: str) -> int:
        if account is None:
            rows = self.query("SELECT COUNT(*) FROM messages WHERE engine != ? AND view IS NOT NULL AND cleared=0",
                              (engine,))
        else:
            rows = self.query("SELECT COUNT(*) FROM messages WHERE account=? AND engine != ? AND view IS NOT NULL "
                              "AND cleared=0", (account, engine))
        return int(rows[0][0])

    def from_sender(self, account: str, sender: str) -> list[tuple[int, bytes, str]]:
        """(row id, view, findings) of the stored messages from `sender` (not cleared)."""
        return self.query("SELECT id, view, findings FROM messages WHERE account=? AND from_addr=? COLLATE NOCASE "
                          "AND view IS NOT NULL AND cleared=0", (account, sender))

    def set_verdicts(self, verdicts: list[Verdict], keep_engine: bool = False) -> None:
        with self.transaction() as db:
            if keep_engine:  # judged after a trust, with the same engine: nothing newer was learnt
                db.executemany("UPDATE messages SET verdict=?, score=?, reason=?, findings=? WHERE id=?",
                               [(v.verdict, v.score, v.reason, v.findings, v.row_id) for v in verdicts])
            else:
                db.executemany("UPDATE messages SET verdict=?, score=?, reason=?, findings=?, engine=? WHERE id=?",
                               [(v.verdict, v.score, v.reason, v.findings, v.engine, v.row_id)
                                for v in verdicts if v.was is None])
                db.executemany("UPDATE messages SET verdict=?, score=?, reason=?, findings=?, engine=? "
                               "WHERE id=? AND engine=?",
                               [(v.verdict, v.score, v.reason, v.findings, v.engine, v.row_id, v.was)
                                for v in verdicts if v.was is not None])

    # --- sent mail ----------------------------------------------------------------------------
    def add_sent(self, account: str, sent: SentIndex, folder_state: tuple[str, int, int] | None = None) -> None:
        """What a piece of the Sent folder told: its index, whom the user wrote to for the memory of
        correspondents, and how far it was read, all in one transaction. A sent message counted before (the
        folder read again after a crash or a new UIDVALIDITY) is not counted again."""
        with self.transaction() as db:
            ids = sorted({mid for mid, *_ in sent.written if mid})
            known = set()
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                known |= {r[0] for r in db.execute(
                    f"SELECT message_id FROM sent_ids WHERE account=? AND message_id IN ({marks})",  # noqa: S608
                    (account, *chunk))}
            for mid, address, name, when in sent.written:
                if mid and mid in known:
                    continue
                self._touch_contact(db, account, address.lower(), when, written=1)
                if name:
                    self._add_name(db, account, address.lower(), name)
            db.executemany("INSERT OR IGNORE INTO sent_ids (account, message_id) VALUES (?, ?)",
                           [(account, i) for i in sent.message_ids])
            db.executemany("INSERT OR IGNORE INTO correspondents (account, address) VALUES (?, ?)",
                           [(account, a) for a in sent.recipients])
            db.executemany("INSERT OR IGNORE INTO sent_authors (account, address) VALUES (?, ?)",
                           [(account, a) for a in sent.authors])
            db.executemany("INSERT OR IGNORE INTO sent_names (account, name_key, address) VALUES (?, ?, ?)",
                           [(account, k, a) for k, addresses in sent.names.items() for a in addresses])
            if folder_state is not None:
                self._folder_state(db, account, *folder_state, None)

    def sent_index(self, account: str) -> SentIndex:
        sent = SentIndex()
        sent.message_ids = {r[0] for r in self.query("SELECT message_id FROM sent_ids WHERE account=?", (account,))}
        sent.recipients = {r[0] for r in self.query("SELECT address FROM correspondents WHERE account=?", (account,))}
        sent.authors = {r[0] for r in self.query("SELECT address FROM sent_authors WHERE account=?", (account,))}
        for key, address in self.query("SELECT name_key, address FROM sent_names WHERE account=?", (account,)):
            sent.names.setdefault(key, set()).add(address)
        return sent

    # --- trusted senders ------------------------------------------------------------------------
    def trusted_senders(self) -> frozenset[tuple[str, str]]:
        return frozenset((a, d) for a, d in self.query("SELECT address, auth_domain FROM trusted_senders"))

    def ids_from_domain(self, domain: str, limit: int = 200) -> list[int]:
        """The newest stored messages whose From is at `domain` (the domain check reads their DKIM selectors)."""
        suffix = "@" + domain.lower()
        rows = self.query("SELECT id FROM messages WHERE substr(lower(from_addr), -?) = ? ORDER BY id DESC LIMIT ?",
                          (len(suffix), suffix, limit))
        return [int(r[0]) for r in rows]

    def trusted_list(self) -> list[tuple[str, str, float]]:
        rows = self.query("SELECT address, auth_domain, created_at FROM trusted_senders ORDER BY address")
        return [(str(a), str(d), float(t)) for a, d, t in rows]

    def trust(self, address: str, auth_domain: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO trusted_senders (address, auth_domain, created_at) VALUES (?, ?, ?)",
                       (address.lower(), auth_domain.lower(), time.time()))

    def untrust(self, address: str, auth_domain: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM trusted_senders WHERE address=? AND auth_domain=?",
                       (address.lower(), auth_domain.lower()))

    # --- correspondents ---------------------------------------------------------------------------
    def learn_arrivals(self, account: str, seen: Iterable[tuple[str, Arrival]]) -> int:
        """Clean messages (Message-ID, how it came) into the account's memory; a Message-ID learnt before
        teaches nothing again (a rescan, the same mail in two folders). Returns how many were new."""
        added = 0
        with self.transaction() as db:
            for message_id, a in seen:
                if message_id:
                    cur = db.execute("INSERT OR IGNORE INTO contacts_learnt (account, message_id) VALUES (?, ?)",
                                     (account, message_id))
                    if cur.rowcount == 0:
                        continue
                added += 1
                self._touch_contact(db, account, a.address, a.when, received=1)
                if a.name:
                    self._add_name(db, account, a.address, a.name)
                db.executemany(
                    "INSERT INTO contact_paths (account, address, kind, value, times) VALUES (?, ?, ?, ?, 1) "
                    "ON CONFLICT (account, address, kind, value) DO UPDATE SET times = times + 1",
                    [(account, a.address, kind, value) for kind, value in a.facts()])
        return added

    def learn_written(self, account: str, recipients: Iterable[tuple[str, str, float]]) -> None:
        """(address, name, when) of everyone the user wrote to."""
        self.add_sent(account, SentIndex(written=[("", a, n, w) for a, n, w in recipients]))

    def learn_book(self, account: str, entries: Iterable[tuple[str, Iterable[str]]]) -> int:
        """(address, names) from an imported address book."""
        count = 0
        with self.transaction() as db:
            for address, names in entries:
                count += 1
                self._touch_contact(db, account, address.lower(), 0.0, in_book=1)
                for name in names:
                    self._add_name(db, account, address.lower(), name)
        return count

    @staticmethod
    def _touch_contact(db: sqlite3.Connection, account: str, address: str, when: float,
                       received: int = 0, written: int = 0, in_book: int = 0) -> None:
        db.execute(
            "INSERT INTO contacts (account, address, received, written, in_book, first, last) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, address) DO UPDATE SET "
            "received = received + excluded.received, written = written + excluded.written, "
            "in_book = max(in_book, excluded.in_book), "
            "first = CASE WHEN excluded.first > 0 AND (first = 0 OR excluded.first < first) "
            "THEN excluded.first ELSE first END, "
            "last = max(last, excluded.last)",
            (account, address, received, written, in_book, when, when))

    @staticmethod
    def _add_name(db: sqlite3.Connection, account: str, address: str, name: str) -> None:
        db.execute("INSERT INTO contact_names (account, address, name, times) VALUES (?, ?, ?, 1) "
                   "ON CONFLICT (account, address, name) DO UPDATE SET times = times + 1",
                   (account, address, name[:200]))

    def contacts_memory(self, account: str) -> Memory:
        """The account's correspondents as the rules read them."""
        memory = Memory()
        for address, received, written, in_book, first, last in self.query(
                "SELECT address, received, written, in_book, first, last FROM contacts WHERE account=?", (account,)):
            memory.contacts[address] = Contact(address, received=int(received), written=int(written),
                                               in_book=bool(in_book), first=float(first), last=float(last))
        for address, name, times in self.query(
                "SELECT address, name, times FROM contact_names WHERE account=?", (account,)):
            c = memory.contacts.get(address)
            if c is not None:
                c.names[name] = int(times)
        for address, kind, value, times in self.query(
                "SELECT address, kind, value, times FROM contact_paths WHERE account=?", (account,)):
            c = memory.contacts.get(address)
            if c is not None:
                c.paths.setdefault(kind, Counter())[value] = int(times)
        return memory

    def forget_contact(self, account: str, address: str) -> bool:
        with self.transaction() as db:
            found = db.execute("DELETE FROM contacts WHERE account=? AND address=?",
                               (account, address.lower())).rowcount
            # (and from the Sent folder's index, or the address would stay known by another way)
            for table in ("contact_names", "contact_paths", "correspondents"):
                found += db.execute(f"DELETE FROM {table} WHERE account=? AND address=?",  # noqa: S608
                                    (account, address.lower())).rowcount
            db.execute("DELETE FROM sent_names WHERE account=? AND address=?", (account, address.lower()))
        return bool(found)

    def forget_contacts(self, account: str) -> None:
        """Everything the memory holds for the account (what it learnt stays unlearnt: the mail already
        seen is not read again)."""
        with self.transaction() as db:
            for table in ("contacts", "contact_names", "contact_paths", "correspondents", "sent_names"):
                db.execute(f"DELETE FROM {table} WHERE account=?", (account,))  # noqa: S608 - fixed names

    # --- accounts -------------------------------------------------------------------------------
    def forget_account(self, account: str) -> None:
        """Everything stored for an account (a removed account added back is scanned afresh). Mail it put in
        quarantine stays there on the server; added back, the account finds it again by its keyword."""
        with self.transaction() as db:
            for table in ("messages", "folders", "quarantine", "sent_ids", "correspondents", "sent_authors",
                          "sent_names", "contacts", "contact_names", "contact_paths", "contacts_learnt"):
                db.execute(f"DELETE FROM {table} WHERE account=?", (account,))  # noqa: S608 - fixed names
