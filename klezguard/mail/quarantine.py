"""Quarantine: a move to a folder on the server, never a delete; restore puts mail back as it was.

A message is known by where it is — folder, UIDVALIDITY and UID — never by its own headers: those are
written by whoever sent it, and nothing from a message ever goes into a server command. Before the
first command the journal records that place, the message's size, its internal date and a digest of
its header block (its fingerprint), and the UIDNEXT of the folder its copy will land in. The copy is
then the message with that fingerprint at or above that UIDNEXT that no other journal entry owns.

An original is expunged only when it is positively identified: same folder, same UIDVALIDITY, same
UID, same fingerprint; and only when its copy is confirmed strongly: named by the server's COPYUID
answer, or carrying the original's internal date too (an identical twin of the message, moved by
someone else, has its own). A changed UIDVALIDITY or any doubt stops that step and keeps both copies,
with a note for the user: two copies are always allowed, a message expunged without being positively
identified never is. Expunging is `UID EXPUNGE` of exactly that UID (UIDPLUS), never a plain EXPUNGE
that would also remove mail the user marked for deletion; without UIDPLUS the original is only
flagged and the user's mail program removes it.

If the connection drops or the program dies at any step, the next move, restore or connect finishes or
undoes what was interrupted, from the journal and the server alone, before anything new is journaled.
One entry that cannot be finished is reported and skipped; it never blocks the others. All of it runs
under the account's lock, so two KlezGuards on this computer never move one message at once.
"""

import email.parser
import email.policy
import hashlib
import logging
import re
from dataclasses import dataclass

import imapclient
import imapclient.exceptions

from klezguard.core.headers import decode_words
from klezguard.errors import KnownError, MessageGone
from klezguard.mail.accountlock import account_lock
from klezguard.mail.accounts import Account
from klezguard.mail.connection import translated
from klezguard.mail.safeimap import protect, safe_name
from klezguard.store.db import Store
from klezguard.store.journal import IN_QUARANTINE, UNFINISHED, QuarantineEntry

log = logging.getLogger(__name__)

KEYWORD = "$KlezGuardQuarantine"
DELETED = "\\Deleted"
IDENTITY_ITEMS = ["BODY.PEEK[HEADER]", "RFC822.SIZE", "INTERNALDATE", "FLAGS"]
# A flag is "\" atom or atom (RFC 3501); anything else from a server is not sent back to it.
_FLAG = re.compile(r"\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+")
_CANNOT_SELECT = (b"\\noselect", b"\\nonexistent")
# How servers say a folder is not there (RFC 5530's code, and the words of those that send none).
_NONEXISTENT = re.compile(r"NONEXISTENT|does(n't| not) exist|no such (mailbox|folder)|unknown (mailbox|folder)", re.I)
_ServerError = imapclient.exceptions.IMAPClientError
_Dropped = imapclient.exceptions.IMAPClientAbortError

Entry = QuarantineEntry  # the row type, under its short name


def fingerprint(header: bytes) -> str:
    """A digest of the header block: the same message in another folder has the same one."""
    return hashlib.sha256(header.replace(b"\r\n", b"\n")).hexdigest()


def header_block(raw: bytes) -> bytes:
    """The header block of a whole message, with the blank line after it (as IMAP's BODY[HEADER])."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if not ends:
        return raw
    end = min(ends)
    return raw[: end + (4 if raw.startswith(b"\r\n\r\n", end) else 2)]


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _date(data: dict) -> str:
    internal = data.get(b"INTERNALDATE")
    return internal.isoformat() if internal else ""


def _deleted(data: dict) -> bool:
    return DELETED.encode() in data.get(b"FLAGS", ())


def message_id_of(header: bytes) -> str:
    """The Message-ID, for people to read in the journal only: it is never sent to a server."""
    try:
        parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(header)
        value = decode_words(parsed.get("Message-ID", "") or "")
    except Exception:  # noqa: BLE001 - the email package raises many types on garbage
        return ""
    return "".join(ch for ch in value if ch.isprintable())[:250]


def restorable_flags(flags) -> list[str]:
    """Original flags worth putting back: never \\Recent (only a server may set it), never our keyword,
    nothing that is not a well-formed flag."""
    kept = []
    for flag in flags:
        flag = _text(flag)
        if flag.lower() == "\\recent" or flag == KEYWORD or not _FLAG.fullmatch(flag):
            continue
        kept.append(flag)
    return kept


@dataclass
class Place:
    """What is at a journaled UID: 'here' (this message), 'absent', 'other' (another message) or
    'unknown' (the folder is gone or was re-created); with the message's flags when it is here."""

    state: str
    flags: tuple = ()


@dataclass
class Copy:
    uid: int
    strong: bool  # named by COPYUID, or with the original's internal date: safe to expunge the original


class Quarantine:
    """Moves messages of one account between their folder and the quarantine folder."""

    def __init__(self, client: imapclient.IMAPClient, account: Account, store: Store):
        self.client = protect(client)
        self.account = account
        self.store = store
        self.journal = store.journal
        self.folder = safe_name(account.quarantine_folder)
        self.capabilities = {_text(c).upper() for c in client.capabilities()}
        self.notes: list[str] = []  # things to tell the user (e.g. the server lacks UIDPLUS)
        self.problems: list[str] = []  # entries that could not be finished this time (reported, skipped)

    def entries(self, states: tuple[str, ...] = IN_QUARANTINE) -> list[QuarantineEntry]:
        return self.journal.entries(self.account.key, states)

    def _note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    # --- server helpers -----------------------------------------------------------------------
    def _exists(self, folder: str) -> bool:
        """The folder exists and can be opened. Exact match: LIST treats * and % in a name as wildcards;
        a deleted parent of a kept sub-folder is listed as \\Noselect."""
        for flags, _delim, name in self.client.list_folders("", folder):
            if _text(name) == folder:
                return not any(_text(f).lower().encode() in _CANNOT_SELECT for f in flags)
        return False

    def ensure_folder(self) -> None:
        if not self._exists(self.folder):
            self.client.create_folder(self.folder)
            # Opened once at once: a server may fix a new folder's UIDVALIDITY only when it is first opened,
            # and the journal records what STATUS says next (suspected in a rare two-runs-at-once failure)
            self._select_if_there(self.folder)
            try:
                self.client.subscribe_folder(self.folder)
            except _ServerError:
                log.info("could not subscribe the quarantine folder")

    def _select(self, folder: str) -> int:
        info = self.client.select_folder(safe_name(folder))
        return int(info.get(b"UIDVALIDITY", 0))

    def _select_if_there(self, folder: str) -> int | None:
        """UIDVALIDITY of `folder`, now selected; None when it does not exist any more. A refusal for
        another reason (a server's hiccup) is raised: the step stays unfinished and is tried again."""
        try:
            return self._select(folder)
        except _Dropped:
            raise
        except _ServerError as exc:
            if self._exists(folder) and not _NONEXISTENT.search(str(exc)):
                raise
            return None

    def _status(self, folder: str) -> tuple[int, int]:
        """UIDVALIDITY and UIDNEXT of a folder (not the selected one): every message that arrives there
        later gets a UID at or above that UIDNEXT."""
        info = self.client.folder_status(safe_name(folder), [b"UIDVALIDITY", b"UIDNEXT"])
        return int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"])

    def _fetch(self, uids: list[int], items: list[str], chunk: int = 500) -> dict[int, dict]:
        """FETCH of exactly these UIDs (a server's answer for others is ignored), a few hundred at a time."""
        wanted = sorted(set(uids))
        found: dict[int, dict] = {}
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            asked = set(part)
            found.update((uid, data) for uid, data in self.client.fetch(part, items).items() if uid in asked)
        return found

    def _same(self, data: dict, entry: QuarantineEntry) -> bool:
        header = data.get(b"BODY[HEADER]") or b""
        return (bool(entry.fingerprint) and int(data.get(b"RFC822.SIZE", -1)) == entry.size
                and fingerprint(header) == entry.fingerprint)

    def _check_place(self, folder: str, uidvalidity: int | None, uid: int | None,
                     entry: QuarantineEntry) -> Place:
        """Selects `folder` and says what is at `uid` there."""
        if uidvalidity is None or uid is None or self._select_if_there(folder) != uidvalidity:
            return Place("unknown")
        data = self._fetch([uid], IDENTITY_ITEMS).get(uid)
        if data is None:
            return Place("absent")
        return Place("here", tuple(data.get(b"FLAGS", ()))) if self._same(data, entry) else Place("other")

    def _arrived(self, folder: str, uidvalidity: int | None, uidnext: int | None,
                 entry: QuarantineEntry, hint: int | None = None) -> list[Copy] | None:
        """Selects `folder` and returns the copies of this message that arrived at or after `uidnext` and
        that no other entry owns, strong ones first. None: the folder is gone or was re-created."""
        if uidvalidity is None or uidnext is None or self._select_if_there(folder) != uidvalidity:
            return None
        others = self.journal.claimed(self.account.key, folder, uidvalidity, but=entry.id)
        if hint is not None and hint >= uidnext and hint not in others:
            data = self._fetch([hint], IDENTITY_ITEMS).get(hint)
            if data is not None and not _deleted(data) and self._same(data, entry):
                return [Copy(hint, strong=True)]
        candidates = [u for u in self.client.search(["UID", f"{uidnext}:*"]) if u >= uidnext and u not in others]
        found = [Copy(uid, strong=bool(entry.internaldate) and _date(data) == entry.internaldate)
                 for uid, data in self._fetch(candidates, IDENTITY_ITEMS).items()
                 if not _deleted(data) and self._same(data, entry)]
        return sorted(found, key=lambda c: (not c.strong, c.uid))

    def _remove(self, uid: int) -> bool:
        """Removes `uid` from the selected folder, whose identity the caller has just confirmed.
        False: only flagged, because the server cannot expunge one message (no UIDPLUS)."""
        self.client.add_flags([uid], [DELETED], silent=True)
        if "UIDPLUS" not in self.capabilities:
            self._note("Your server cannot remove one message at a time (no UIDPLUS), so the original is only "
                       "marked as deleted. Your mail program removes it when it cleans up the folder.")
            return False
        self.client.uid_expunge([uid])
        return True

    def _flags(self, uid: int, flags: list[str], add: bool) -> None:
        """Adds or removes flags of the selected folder's `uid`; a server that refuses one (no keywords,
        say) never stops a move or a restore."""
        for flag in flags:
            try:
                (self.client.add_flags if add else self.client.remove_flags)([uid], [flag], silent=True)
            except _Dropped:
                raise
            except _ServerError:
                log.info("the server refused to change a flag")

    def _transfer(self, uid: int, target: str) -> int | None:
        """Moves (or copies) the selected folder's `uid` to `target`; the new UID when the server says it.
        A refusal (a full mailbox, a busy folder) raises: the server did nothing."""
        responses = self.client._imap.untagged_responses
        responses.pop("COPYUID", None)
        if "MOVE" in self.capabilities:
            self.client.move([uid], safe_name(target))
        else:
            self.client.copy([uid], safe_name(target))
        return _copyuid(responses.pop("COPYUID", None), uid)

    def _set_flags(self, uid: int, flags: list[str]) -> None:
        """Puts flags back one way or another: a flag the server refuses never stops a restore."""
        try:
            self.client.set_flags([uid], flags, silent=True)
        except _Dropped:
            raise
        except _ServerError:
            log.info("the server refused a set of flags; setting them one by one")
            self._flags(uid, flags, add=True)

    def _settle(self) -> None:
        """Finishes every interrupted move and restore of the account first: a new one must never land
        among copies an unfinished entry is still looking for."""
        for entry in self.entries(UNFINISHED):
            try:
                finished = self._finish(entry)
                self._note(finished.note)
            except _Dropped:
                raise
            except (KnownError, _ServerError) as exc:
                log.warning("could not finish quarantine entry %s: %s", entry.id, type(exc).__name__)
                problem = (f"A move of “{entry.subject or entry.message_id or 'a message'}” could not be finished "
                           "yet; KlezGuard tries again next time. Nothing was deleted.")
                if problem not in self.problems:
                    self.problems.append(problem)

    # --- quarantine ---------------------------------------------------------------------------
    def move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry:
        """Moves one message to the quarantine folder. Raises KnownError; never loses the message."""
        with account_lock(self.account.key), translated(self.account.server, self.account.email):
            self._settle()
            entry = self._move(safe_name(folder), uidvalidity, uid)
        if entry.state not in IN_QUARANTINE:
            raise KnownError("KlezGuard could not move that message to quarantine. Nothing was deleted.",
                             entry.note or "Scan again, then try once more.")
        return entry

    def _move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry:
        if folder == self.folder:
            raise KnownError("That message is already in the quarantine folder.")
        earlier = self.journal.for_source(self.account.key, folder, uidvalidity, uid)
        if earlier is not None and earlier.state in IN_QUARANTINE:
            return earlier  # another run moved it already
        self.ensure_folder()
        if self._select(folder) != uidvalidity:
            raise MessageGone(f"The folder {folder} changed on the server since the last scan.",
                              "Scan again, then try once more.")
        data = self._fetch([uid], IDENTITY_ITEMS).get(uid)
        if data is None:
            raise MessageGone("That message is no longer in the folder.", "Scan again to refresh the list.")
        if _deleted(data):
            raise KnownError("That message is marked for deletion in your mail program, so KlezGuard leaves it "
                             "alone.", "It goes away when your mail program cleans up the folder.")
        header = data.get(b"BODY[HEADER]") or b""
        target_validity, target_next = self._status(self.folder)
        subject, sender = self.store.summary(self.account.key, folder, uidvalidity, uid)
        entry = self.journal.add(
            self.account.key, state="moving", message_id=message_id_of(header), source_folder=folder,
            source_uidvalidity=uidvalidity, source_uid=uid, flags=" ".join(restorable_flags(data.get(b"FLAGS", ()))),
            target_folder=self.folder, target_uidvalidity=target_validity, target_uidnext=target_next,
            subject=subject, from_display=sender, size=int(data.get(b"RFC822.SIZE", 0)),
            internaldate=_date(data), fingerprint=fingerprint(header))
        self._flags(uid, [KEYWORD], add=True)  # the copy carries it: "quarantined by KlezGuard"
        try:
            hint = self._transfer(uid, self.folder)
        except _Dropped:
            raise
        except _ServerError as exc:  # refused: the server did nothing; close the entry now
            self._finish_move(entry)
            raise KnownError("Your mail server refused to move the message. Nothing was deleted.",
                             "Its mailbox may be full. Try again later.", detail=str(exc)) from exc
        if hint is not None:
            entry = self.journal.update(entry.id, target_uid=hint)
        return self._finish_move(entry, hint)

    def _finish(self, entry: QuarantineEntry) -> QuarantineEntry:
        return self._finish_move(entry) if entry.state == "moving" else self._finish_restore(entry)

    def _finish_move(self, entry: QuarantineEntry, hint: int | None = None) -> QuarantineEntry:
        """Completes a move that may or may not have reached the server; safe to call again after a crash.
        `hint`: the UID the server gave the copy in this session (COPYUID)."""
        if not entry.fingerprint:  # journaled by a KlezGuard that did not record what the message was
            return self.journal.update(entry.id, state="missing", note=(
                "An older KlezGuard was moving this message when it stopped. Nothing was deleted: look for it "
                f"in {entry.source_folder} and in {entry.target_folder}."))
        copies = self._arrived(entry.target_folder, entry.target_uidvalidity, entry.target_uidnext, entry,
                               hint=hint if hint is not None else entry.target_uid)
        original = self._check_place(entry.source_folder, entry.source_uidvalidity, entry.source_uid, entry)
        if not copies:
            if original.state == "here":  # the move never happened: take back what we changed
                ours = [KEYWORD] + ([DELETED] if DELETED.encode() in original.flags
                                    and DELETED not in entry.flags.split() else [])
                self._flags(entry.source_uid, ours, add=False)
                note = "" if copies is not None else (
                    f"The folder {entry.target_folder} changed on the server, so a copy may also be there.")
                return self.journal.update(entry.id, state="undone", note=note)
            return self.journal.update(entry.id, state="missing", note=(
                "KlezGuard could not find the message it was moving. Nothing was deleted: look for it in "
                f"{entry.source_folder} and in {entry.target_folder}."))
        copy = copies[0]
        state, note = "quarantined", ""
        if original.state == "here":  # the source folder is selected and the original was just confirmed
            if not copy.strong:
                state = "copied"
                note = ("KlezGuard could not be sure which copy in quarantine is this message, so it kept the "
                        f"original in {entry.source_folder} too: you may see it twice.")
                self._flags(entry.source_uid, [KEYWORD], add=False)
            elif not self._remove(entry.source_uid):
                state = "copied"
        elif original.state in ("other", "unknown"):
            note = (f"The folder {entry.source_folder} changed on the server, so the original was left there: "
                    "you may see the message twice.")
        entry = self.journal.update(entry.id, state=state, target_uid=copy.uid, note=note)
        self._note(note)
        self.store.follow(self.account.key, entry.source_folder, entry.source_uid, entry.target_folder,
                          entry.target_uidvalidity or 0, copy.uid)
        return entry

    # --- restore ------------------------------------------------------------------------------
    def restore(self, entry_id: int) -> QuarantineEntry:
        """Puts a quarantined message back in its folder with its flags. Raises KnownError."""
        with account_lock(self.account.key), translated(self.account.server, self.account.email):
            self._settle()
            entry = self._restore(entry_id)
        if entry.state != "restored":
            raise KnownError("KlezGuard could not put that message back. Nothing was deleted.",
                             entry.note or "Try again in a moment.")
        return entry

    def delete(self, entry_id: int) -> QuarantineEntry:
        """Deletes a quarantined message for good, when the user asks: only the copy positively identified as
        this entry's (our keyword, its fingerprint), never anything else. Raises KnownError."""
        with account_lock(self.account.key), translated(self.account.server, self.account.email):
            self._settle()
            entry = self.journal.get(entry_id)
            if entry is None or entry.account != self.account.key or entry.state not in IN_QUARANTINE:
                raise KnownError("That message is not in quarantine.", "See klezguard quarantine list.")
            uid = self._our_copy(entry)
            self._select(entry.target_folder)
            self._remove(uid)
            self.store.forget_at(self.account.key, entry.target_folder, uid)
            return self.journal.update(entry.id, state="deleted", note="You deleted it from quarantine.")

    def _our_copy(self, entry: QuarantineEntry) -> int:
        """The UID of this entry's copy in the quarantine folder (restore and delete act on it, and only on
        it). Raises KnownError, marking the entry gone, when someone removed it in another mail program."""
        if not entry.fingerprint:
            entry = self._learn_fingerprint(entry)
        uid = self._locate(entry)
        if uid is None:
            self.journal.update(entry.id, state="gone", note="It was no longer in the quarantine folder.")
            raise KnownError("The quarantined message is no longer in the quarantine folder.",
                             "It may have been moved or deleted in your mail program.")
        return uid

    def _locate(self, entry: QuarantineEntry) -> int | None:
        """The quarantined copy's UID: where the journal says, else (a re-created folder) the copy with
        our keyword and this fingerprint that no other entry owns. Leaves the quarantine folder selected."""
        if self._check_place(entry.target_folder, entry.target_uidvalidity, entry.target_uid, entry).state == "here":
            return entry.target_uid
        validity = self._select_if_there(entry.target_folder)
        if validity is None:
            return None
        others = self.journal.claimed(self.account.key, entry.target_folder, validity, but=entry.id)
        marked = [u for u in self.client.search(["KEYWORD", KEYWORD]) if u not in others]
        for uid, data in sorted(self._fetch(marked, IDENTITY_ITEMS).items()):
            if not _deleted(data) and self._same(data, entry):
                self.journal.update(entry.id, target_uidvalidity=validity, target_uid=uid)
                return uid
        return None

    def _restore(self, entry_id: int) -> QuarantineEntry:
        entry = self.journal.get(entry_id)
        if entry is None or entry.account != self.account.key:
            raise KnownError("That message is not in quarantine.", "See klezguard quarantine list.")
        if entry.state == "restored":
            return entry  # done already (a retry after a dropped connection, or another run)
        if entry.state not in IN_QUARANTINE:
            raise KnownError("That message is not in quarantine.", entry.note or "See klezguard quarantine list.")
        uid = self._our_copy(entry)
        entry = self.journal.get(entry.id) or entry
        destination = entry.source_folder
        try:
            back_validity, back_next = self._status(destination) if self._exists(destination) else (None, None)
        except _Dropped:
            raise
        except _ServerError:
            back_validity, back_next = None, None
        if back_validity is None:
            self._note(f"The folder {destination} no longer exists, so the message went back to INBOX.")
            destination = "INBOX"
            back_validity, back_next = self._status(destination)
        entry = self.journal.update(entry.id, state="restoring", source_folder=destination,
                                    back_uidvalidity=back_validity, back_uidnext=back_next)
        self._select(entry.target_folder)
        self._set_flags(uid, [*restorable_flags(entry.flags.split()), KEYWORD])  # marked as ours until back
        try:
            hint = self._transfer(uid, destination)
        except _Dropped:
            raise
        except _ServerError as exc:
            self._finish_restore(entry)
            raise KnownError("Your mail server refused to put the message back. Nothing was deleted.",
                             "Its mailbox may be full. Try again later.", detail=str(exc)) from exc
        return self._finish_restore(entry, hint)

    def _finish_restore(self, entry: QuarantineEntry, hint: int | None = None) -> QuarantineEntry:
        back = self._arrived(entry.source_folder, entry.back_uidvalidity, entry.back_uidnext, entry, hint=hint)
        left = self._check_place(entry.target_folder, entry.target_uidvalidity, entry.target_uid, entry)
        if not back:
            if left.state == "here":  # the restore never happened
                return self.journal.update(entry.id, state="quarantined")
            return self.journal.update(entry.id, state="missing", note=(
                "KlezGuard could not find the message it was restoring. Nothing was deleted: look for it in "
                f"{entry.target_folder} and in {entry.source_folder}."))
        copy = back[0]
        if left.state == "here" and entry.target_uid is not None:
            # the quarantine folder is selected and its copy was just confirmed
            if copy.strong:
                self._remove(entry.target_uid)
            else:
                self._note("KlezGuard could not be sure which message came back, so it also left the copy in "
                           f"{entry.target_folder}: you may see the message twice.")
        self._select(entry.source_folder)
        self._flags(copy.uid, [KEYWORD], add=False)
        restored = self.journal.update(entry.id, state="restored", source_uid=copy.uid,
                                       source_uidvalidity=entry.back_uidvalidity)
        if entry.target_uid is not None:
            self.store.follow(self.account.key, entry.target_folder, entry.target_uid, entry.source_folder,
                              entry.back_uidvalidity or 0, copy.uid)
        return restored

    def _learn_fingerprint(self, entry: QuarantineEntry) -> QuarantineEntry:
        """An entry from an older KlezGuard knows UIDVALIDITY, UID and size only: read the fingerprint of
        the copy it points to, if that copy still carries our keyword and has that size."""
        if entry.target_uid is None or self._select_if_there(entry.target_folder) != entry.target_uidvalidity:
            return entry
        data = self._fetch([entry.target_uid], IDENTITY_ITEMS).get(entry.target_uid)
        if data and KEYWORD.encode() in data.get(b"FLAGS", ()) and int(data.get(b"RFC822.SIZE", -1)) == entry.size:
            return self.journal.update(entry.id, fingerprint=fingerprint(data.get(b"BODY[HEADER]") or b""),
                                       internaldate=_date(data))
        return entry

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> None:
        """Finishes or undoes moves and restores that were interrupted, then checks that every
        quarantined message is still there. Call on every connect. One entry that cannot be finished
        is reported in `problems` and skipped; a dropped connection is raised."""
        with account_lock(self.account.key), translated(self.account.server, self.account.email):
            self._settle()
            try:
                self.reconcile()
            except _Dropped:
                raise
            except (KnownError, _ServerError) as exc:
                log.warning("could not check the quarantine folder: %s", type(exc).__name__)

    def reconcile(self) -> None:
        """Matches the journal against the quarantine folder: a copy someone deleted in their mail
        program is marked gone, a copy in a re-created folder is found again by its fingerprint, of two
        entries that point at one copy only the newest is kept, and a copy that carries our keyword but
        no entry (a damaged or replaced database, another computer) is listed again."""
        entries = [e for e in self.entries() if e.target_folder == self.folder]
        if not self._exists(self.folder):
            for entry in entries:
                self.journal.update(entry.id, state="gone", note="The quarantine folder was removed.")
            if entries:
                self._note(f"The folder {self.folder} was removed on the server, with the {len(entries)} "
                           "message(s) KlezGuard had put there.")
            return
        validity = self._select(self.folder)
        claimed: set[int] = set()
        present = self._fetch([e.target_uid for e in entries if e.target_uid is not None
                               and e.target_uidvalidity == validity], ["RFC822.SIZE", "FLAGS"])
        lost = []
        for entry in sorted(entries, key=lambda e: -e.id):  # the newest entry keeps a shared copy
            uid = entry.target_uid
            data = present.get(uid) if uid is not None and entry.target_uidvalidity == validity else None
            if (data is not None and uid is not None and uid not in claimed and not _deleted(data)
                    and int(data.get(b"RFC822.SIZE", -1)) == entry.size):
                claimed.add(uid)
                if not entry.fingerprint:
                    self._learn_fingerprint(entry)
                continue
            lost.append(entry)
        referenced = self.journal.referenced(self.account.key, self.folder, validity) | claimed
        marked = [u for u in self.client.search(["KEYWORD", KEYWORD]) if u not in claimed]
        wanted = marked if lost else [u for u in marked if u not in referenced]
        found = self._fetch(wanted, IDENTITY_ITEMS)
        gone = 0
        for entry in lost:
            match = next((uid for uid, data in sorted(found.items())
                          if uid not in claimed and not _deleted(data) and self._same(data, entry)), None)
            if match is not None:
                claimed.add(match)
                self.journal.update(entry.id, target_uidvalidity=validity, target_uid=match)
            else:
                self.journal.update(entry.id, state="gone",
                                    note="It was no longer in the quarantine folder (removed in a mail program?).")
                gone += 1
        if gone:
            self._note(f"{gone} quarantined message(s) were no longer in {self.folder}: removed in another mail "
                       "program? KlezGuard no longer lists them.")
        orphans = {uid: data for uid, data in found.items()
                   if uid not in claimed and uid not in referenced and not _deleted(data)}
        if orphans:
            self._adopt(orphans, validity)

    def _adopt(self, orphans: dict[int, dict], validity: int) -> None:
        """Journal entries for copies in quarantine that carry our keyword and that no entry knows. The
        folder each came from is read from the record beside the database; INBOX where it is not known."""
        remembered = self.journal.remembered(self.account.key)
        for uid, data in sorted(orphans.items()):
            header = data.get(b"BODY[HEADER]") or b""
            digest = fingerprint(header)
            folder, flags = remembered.get(digest, ("INBOX", " ".join(restorable_flags(data.get(b"FLAGS", ())))))
            parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(header)
            self.journal.add(
                self.account.key, state="quarantined", message_id=message_id_of(header), source_folder=folder,
                source_uidvalidity=0, source_uid=0, flags=flags, target_folder=self.folder,
                target_uidvalidity=validity, target_uid=uid, subject=decode_words(parsed.get("Subject", "") or ""),
                from_display=decode_words(parsed.get("From", "") or ""), size=int(data.get(b"RFC822.SIZE", 0)),
                internaldate=_date(data), fingerprint=digest)
        self._note(f"KlezGuard found {len(orphans)} message(s) in {self.folder} that it had put there, and lists "
                   "them again. Restore puts each back where it came from (in INBOX where that is not known).")


def _copyuid(values, uid: int) -> int | None:
    """The new UID from a COPYUID response code (RFC 4315) for a single-message copy or move."""
    for value in reversed(values or []):
        words = _text(value).split()
        if len(words) == 3 and words[1] == str(uid) and words[2].isdigit():
            return int(words[2])
    return None
