"""Quarantine: a move to a folder on the server, never a delete; restore puts mail back as it was.

A message is known by where it is — folder, UIDVALIDITY and UID — never by its own headers: those are
written by whoever sent it, and nothing from a message ever goes into a server command. Before the
first command the journal records that place, the message's size and a digest of its header block
(its fingerprint), and the UIDNEXT of the folder its copy will land in. The copy is then the message
with that fingerprint at or above that UIDNEXT (the server's COPYUID answer names it where offered).

An original is expunged only when it is positively identified: same folder, same UIDVALIDITY, same
UID, same fingerprint, and its copy confirmed the same way. A changed UIDVALIDITY or any mismatch stops
that step and keeps both copies, with a note for the user: two copies are always allowed, a message
expunged without being positively identified never is. Expunging is `UID EXPUNGE` of exactly that UID
(UIDPLUS), never a plain EXPUNGE that would also remove mail the user marked for deletion; without
UIDPLUS the original is only flagged and the user's mail program removes it.

If the connection drops or the program dies at any step, `recover()` on the next run finishes or undoes
what was interrupted, from the journal and the server alone. One entry that cannot be finished is
reported and skipped; it never blocks the others. All of it runs under the account's lock, so two
KlezGuards never move one message at once.
"""

import email.parser
import email.policy
import hashlib
import logging
import re

import imapclient
import imapclient.exceptions

from klezguard.core.headers import decode_words
from klezguard.errors import KnownError
from klezguard.mail.accountlock import account_lock
from klezguard.mail.accounts import Account
from klezguard.mail.safeimap import protect, safe_name
from klezguard.store.db import Store
from klezguard.store.journal import IN_QUARANTINE, UNFINISHED, QuarantineEntry

log = logging.getLogger(__name__)

KEYWORD = "$KlezGuardQuarantine"
DELETED = "\\Deleted"
IDENTITY_ITEMS = ["BODY.PEEK[HEADER]", "RFC822.SIZE", "INTERNALDATE", "FLAGS"]
# A flag is "\" atom or atom (RFC 3501); anything else from a server is not sent back to it.
_FLAG = re.compile(r"\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+")

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
        self._folder_ready = False
        self.problems: list[str] = []  # entries recovery could not finish this time (reported, skipped)

    def entries(self, states: tuple[str, ...] = IN_QUARANTINE) -> list[QuarantineEntry]:
        return self.journal.entries(self.account.key, states)

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # --- server helpers -----------------------------------------------------------------------
    def _exists(self, folder: str) -> bool:
        """Exact match: LIST treats * and % in a name as wildcards."""
        return any(_text(name) == folder for _flags, _delim, name in self.client.list_folders("", folder))

    def ensure_folder(self) -> None:
        if self._folder_ready:
            return
        if not self._exists(self.folder):
            self.client.create_folder(self.folder)
            try:
                self.client.subscribe_folder(self.folder)
            except imapclient.exceptions.IMAPClientError:
                log.info("could not subscribe the quarantine folder")
        self._folder_ready = True

    def _select(self, folder: str) -> int:
        info = self.client.select_folder(safe_name(folder))
        return int(info.get(b"UIDVALIDITY", 0))

    def _select_if_there(self, folder: str) -> int | None:
        """UIDVALIDITY of `folder`, now selected; None when the server will not open it (gone, renamed)."""
        try:
            return self._select(folder)
        except imapclient.exceptions.IMAPClientAbortError:
            raise
        except imapclient.exceptions.IMAPClientError:
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
                     entry: QuarantineEntry) -> str:
        """Selects `folder` and says whether `uid` there is this message: 'here', 'absent' (not there),
        'other' (another message) or 'unknown' (the folder is gone or was re-created)."""
        if uidvalidity is None or uid is None or self._select_if_there(folder) != uidvalidity:
            return "unknown"
        data = self._fetch([uid], IDENTITY_ITEMS).get(uid)
        if data is None:
            return "absent"
        return "here" if self._same(data, entry) else "other"

    def _arrived(self, folder: str, uidvalidity: int | None, uidnext: int | None,
                 entry: QuarantineEntry, hint: int | None = None) -> list[int] | None:
        """Selects `folder` and returns the UIDs of copies of this message that arrived at or after
        `uidnext`. None: the folder is gone or was re-created, so nothing can be said."""
        if uidvalidity is None or uidnext is None or self._select_if_there(folder) != uidvalidity:
            return None
        if hint is not None and hint >= uidnext:
            data = self._fetch([hint], IDENTITY_ITEMS).get(hint)
            if data is not None and DELETED.encode() not in data.get(b"FLAGS", ()) and self._same(data, entry):
                return [hint]
        candidates = [u for u in self.client.search(["UID", f"{uidnext}:*"]) if u >= uidnext]
        found = [uid for uid, data in self._fetch(candidates, IDENTITY_ITEMS).items()
                 if DELETED.encode() not in data.get(b"FLAGS", ()) and self._same(data, entry)]
        return sorted(found)

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

    def _keyword(self, uid: int, add: bool) -> None:
        """Our keyword marks a quarantined copy; a server that keeps no keywords must not stop a move."""
        try:
            (self.client.add_flags if add else self.client.remove_flags)([uid], [KEYWORD], silent=True)
        except imapclient.exceptions.IMAPClientAbortError:
            raise
        except imapclient.exceptions.IMAPClientError:
            log.info("the server refused the quarantine keyword")

    def _transfer(self, uid: int, target: str) -> int | None:
        """Moves (or copies) the selected folder's `uid` to `target`; the new UID when the server says it."""
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
            return
        except imapclient.exceptions.IMAPClientAbortError:
            raise
        except imapclient.exceptions.IMAPClientError:
            log.info("the server refused a set of flags; setting them one by one")
        for flag in flags:
            try:
                self.client.add_flags([uid], [flag], silent=True)
            except imapclient.exceptions.IMAPClientAbortError:
                raise
            except imapclient.exceptions.IMAPClientError:
                log.info("the server refused one flag of a restored message")

    # --- quarantine ---------------------------------------------------------------------------
    def move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry:
        """Moves one message to the quarantine folder. Raises KnownError; never loses the message."""
        with account_lock(self.account.key):
            return self._move(safe_name(folder), uidvalidity, uid)

    def _move(self, folder: str, uidvalidity: int, uid: int) -> QuarantineEntry:
        if folder == self.folder:
            raise KnownError("That message is already in the quarantine folder.")
        earlier = self.journal.for_source(self.account.key, folder, uidvalidity, uid)
        if earlier is not None and earlier.state in UNFINISHED:
            earlier = self._finish(earlier)
        if earlier is not None and earlier.state in IN_QUARANTINE:
            return earlier  # another run moved it already
        self.ensure_folder()
        if self._select(folder) != uidvalidity:
            raise KnownError(f"The folder {folder} changed on the server since the last scan.",
                             "Scan again, then try once more.")
        data = self._fetch([uid], IDENTITY_ITEMS).get(uid)
        if data is None:
            raise KnownError("That message is no longer in the folder.", "Scan again to refresh the list.")
        header = data.get(b"BODY[HEADER]") or b""
        flags = data.get(b"FLAGS", ())
        internal = data.get(b"INTERNALDATE")
        target_validity, target_next = self._status(self.folder)
        subject, sender = self.store.summary(self.account.key, folder, uidvalidity, uid)
        entry = self.journal.add(
            self.account.key, state="moving", message_id=message_id_of(header), source_folder=folder,
            source_uidvalidity=uidvalidity, source_uid=uid, flags=" ".join(restorable_flags(flags)),
            target_folder=self.folder, target_uidvalidity=target_validity, target_uidnext=target_next,
            subject=subject, from_display=sender, size=int(data.get(b"RFC822.SIZE", 0)),
            internaldate=internal.isoformat() if internal else "", fingerprint=fingerprint(header))
        self._keyword(uid, add=True)  # the copy carries it: "quarantined by KlezGuard"
        hint = self._transfer(uid, self.folder)
        if hint is not None:
            entry = self.journal.update(entry.id, target_uid=hint)
        return self._finish_move(entry)

    def _finish(self, entry: QuarantineEntry) -> QuarantineEntry:
        return self._finish_move(entry) if entry.state == "moving" else self._finish_restore(entry)

    def _finish_move(self, entry: QuarantineEntry) -> QuarantineEntry:
        """Completes a move that may or may not have reached the server; safe to call again after a crash."""
        if not entry.fingerprint:  # journaled by a KlezGuard that did not record what the message was
            return self.journal.update(entry.id, state="missing", note=(
                "An older KlezGuard was moving this message when it stopped. Nothing was deleted: look for it "
                f"in {entry.source_folder} and in {entry.target_folder}."))
        copies = self._arrived(entry.target_folder, entry.target_uidvalidity, entry.target_uidnext, entry,
                               hint=entry.target_uid)
        original = self._check_place(entry.source_folder, entry.source_uidvalidity, entry.source_uid, entry)
        if not copies:
            if original == "here":  # the move never happened
                self._keyword(entry.source_uid, add=False)
                note = "" if copies is not None else (
                    f"The folder {entry.target_folder} changed on the server, so a copy may also be there.")
                return self.journal.update(entry.id, state="undone", note=note)
            return self.journal.update(entry.id, state="missing", note=(
                "KlezGuard could not find the message it was moving. Nothing was deleted: look for it in "
                f"{entry.source_folder} and in {entry.target_folder}."))
        copy_uid = copies[0]
        state, note = "quarantined", ""
        if original == "here":  # the source folder is selected and the original was just confirmed
            if not self._remove(entry.source_uid):
                state = "copied"
        elif original in ("other", "unknown"):
            note = (f"The folder {entry.source_folder} changed on the server, so the original was left there: "
                    "you may see the message twice.")
        entry = self.journal.update(entry.id, state=state, target_uid=copy_uid, note=note)
        self.store.follow(self.account.key, entry.source_folder, entry.source_uid, entry.target_folder,
                          entry.target_uidvalidity or 0, copy_uid)
        return entry

    # --- restore ------------------------------------------------------------------------------
    def restore(self, entry_id: int) -> QuarantineEntry:
        """Puts a quarantined message back in its folder with its flags. Raises KnownError."""
        with account_lock(self.account.key):
            return self._restore(entry_id)

    def _locate(self, entry: QuarantineEntry) -> int | None:
        """The quarantined copy's UID: where the journal says, else (a re-created folder) the copy with
        our keyword and this fingerprint. Leaves the quarantine folder selected."""
        place = self._check_place(entry.target_folder, entry.target_uidvalidity, entry.target_uid, entry)
        if place == "here":
            return entry.target_uid
        validity = self._select_if_there(entry.target_folder)
        if validity is None:
            return None
        marked = self.client.search(["KEYWORD", KEYWORD])
        for uid, data in sorted(self._fetch(marked, IDENTITY_ITEMS).items()):
            if DELETED.encode() not in data.get(b"FLAGS", ()) and self._same(data, entry):
                owner = self.journal.for_target(self.account.key, entry.target_folder, uid)
                if owner is None or owner.id == entry.id:
                    self.journal.update(entry.id, target_uidvalidity=validity, target_uid=uid)
                    return uid
        return None

    def _restore(self, entry_id: int) -> QuarantineEntry:
        entry = self.journal.get(entry_id)
        if entry is None or entry.account != self.account.key:
            raise KnownError("That message is not in quarantine.", "See klezguard quarantine list.")
        if entry.state in UNFINISHED:
            entry = self._finish(entry)
        if entry.state not in IN_QUARANTINE:
            raise KnownError("That message is not in quarantine.", "See klezguard quarantine list.")
        if not entry.fingerprint:
            entry = self._learn_fingerprint(entry)
        uid = self._locate(entry)
        if uid is None:
            self.journal.update(entry.id, state="gone", note="It was no longer in the quarantine folder.")
            raise KnownError("The quarantined message is no longer in the quarantine folder.",
                             "It may have been moved or deleted in your mail program.")
        entry = self.journal.get(entry.id) or entry
        destination = entry.source_folder
        if not self._exists(destination):
            self._note(f"The folder {destination} no longer exists, so the message went back to INBOX.")
            destination = "INBOX"
        back_validity, back_next = self._status(destination)
        entry = self.journal.update(entry.id, state="restoring", source_folder=destination,
                                    back_uidvalidity=back_validity, back_uidnext=back_next)
        self._select(entry.target_folder)
        self._set_flags(uid, [*restorable_flags(entry.flags.split()), KEYWORD])  # marked as ours until back
        hint = self._transfer(uid, destination)
        return self._finish_restore(entry, hint)

    def _finish_restore(self, entry: QuarantineEntry, hint: int | None = None) -> QuarantineEntry:
        back = self._arrived(entry.source_folder, entry.back_uidvalidity, entry.back_uidnext, entry, hint=hint)
        if not back:
            left = self._check_place(entry.target_folder, entry.target_uidvalidity, entry.target_uid, entry)
            if left == "here":  # the restore never happened
                return self.journal.update(entry.id, state="quarantined")
            return self.journal.update(entry.id, state="missing", note=(
                "KlezGuard could not find the message it was restoring. Nothing was deleted: look for it in "
                f"{entry.target_folder} and in {entry.source_folder}."))
        if self._check_place(entry.target_folder, entry.target_uidvalidity, entry.target_uid, entry) == "here":
            self._remove(entry.target_uid)  # the quarantine folder is selected, the copy just confirmed
        self._select(entry.source_folder)
        self._keyword(back[0], add=False)
        restored = self.journal.update(entry.id, state="restored", source_uid=back[0],
                                       source_uidvalidity=entry.back_uidvalidity)
        if entry.target_uid is not None:
            self.store.follow(self.account.key, entry.target_folder, entry.target_uid, entry.source_folder,
                              entry.back_uidvalidity or 0, back[0])
        return restored

    def _learn_fingerprint(self, entry: QuarantineEntry) -> QuarantineEntry:
        """An entry from an older KlezGuard knows UIDVALIDITY, UID and size only: read the fingerprint of
        the copy it points to, if that copy still carries our keyword and has that size."""
        if entry.target_uid is None or self._select_if_there(entry.target_folder) != entry.target_uidvalidity:
            return entry
        data = self._fetch([entry.target_uid], IDENTITY_ITEMS).get(entry.target_uid)
        if data and KEYWORD.encode() in data.get(b"FLAGS", ()) and int(data.get(b"RFC822.SIZE", -1)) == entry.size:
            return self.journal.update(entry.id, fingerprint=fingerprint(data.get(b"BODY[HEADER]") or b""))
        return entry

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[QuarantineEntry]:
        """Finishes or undoes moves and restores that were interrupted, then checks that every
        quarantined message is still there. Call on every connect. One entry that cannot be finished
        is reported in `problems` and skipped; a dropped connection is raised."""
        done = []
        with account_lock(self.account.key):
            for entry in self.entries(UNFINISHED):
                try:
                    finished = self._finish(entry)
                    done.append(finished)
                    if finished.note:
                        self._note(finished.note)
                except imapclient.exceptions.IMAPClientAbortError:
                    raise
                except (KnownError, imapclient.exceptions.IMAPClientError) as exc:
                    log.warning("could not finish quarantine entry %s: %s", entry.id, type(exc).__name__)
                    self.problems.append(f"A move of “{entry.subject or entry.message_id}” could not be finished "
                                         "yet; KlezGuard tries again next time. Nothing was deleted.")
            try:
                self.reconcile()
            except imapclient.exceptions.IMAPClientAbortError:
                raise
            except (KnownError, imapclient.exceptions.IMAPClientError) as exc:
                log.warning("could not check the quarantine folder: %s", type(exc).__name__)
        return done

    def reconcile(self) -> None:
        """Matches the journal against the quarantine folder: a copy someone deleted in their mail
        program is marked gone, a copy in a re-created folder is found again by its fingerprint, and of
        two entries that point at one copy only the newest is kept."""
        entries = self.entries()
        if not entries:
            return
        if not self._exists(self.folder):
            mine = [entry for entry in entries if entry.target_folder == self.folder]
            for entry in mine:
                self.journal.update(entry.id, state="gone", note="The quarantine folder was removed.")
            if mine:
                self._note(f"The folder {self.folder} was removed on the server, with the {len(mine)} message(s) "
                           "KlezGuard had put there.")
            return
        validity = self._select(self.folder)
        claimed: set[int] = set()
        present = self._fetch(sorted({e.target_uid for e in entries if e.target_uid is not None
                                      and e.target_uidvalidity == validity and e.target_folder == self.folder}),
                              ["RFC822.SIZE", "FLAGS"])
        lost = []
        for entry in sorted(entries, key=lambda e: -e.id):  # the newest entry keeps a shared copy
            if entry.target_folder != self.folder:
                continue
            data = present.get(entry.target_uid) if entry.target_uidvalidity == validity else None
            if (data is not None and entry.target_uid not in claimed and DELETED.encode() not in data.get(b"FLAGS", ())
                    and int(data.get(b"RFC822.SIZE", -1)) == entry.size):
                claimed.add(entry.target_uid)
                if not entry.fingerprint:
                    self._learn_fingerprint(entry)
                continue
            lost.append(entry)
        if not lost:
            return
        gone = 0
        marked = [u for u in self.client.search(["KEYWORD", KEYWORD]) if u not in claimed]
        found = self._fetch(marked, IDENTITY_ITEMS)
        for entry in lost:
            match = next((uid for uid, data in sorted(found.items()) if uid not in claimed and self._same(data, entry)
                          and DELETED.encode() not in data.get(b"FLAGS", ())), None)
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


def _copyuid(values, uid: int) -> int | None:
    """The new UID from a COPYUID response code (RFC 4315) for a single-message copy or move."""
    for value in reversed(values or []):
        words = _text(value).split()
        if len(words) == 3 and words[1] == str(uid) and words[2].isdigit():
            return int(words[2])
    return None
