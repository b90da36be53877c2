"""The memory of correspondents as use cases: learn from judged mail and the Sent folder, import an address
book, list what is known, forget. The scan, the app, `klezguard contacts` and `check --contacts/--history`
all come through here, so each path remembers alike.
"""

import email.parser
import email.utils
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from klezguard.core.context import Context, SentIndex
from klezguard.core.correspondents import (
    Arrival,
    BookError,
    Contact,
    Memory,
    arrival,
    read_book,
    teaches,
)
from klezguard.core.headers import message_ids
from klezguard.core.parse import from_bytes
from klezguard.core.sources import SourceError, read_mail
from klezguard.rules.engine import evaluate
from klezguard.store.db import Store

MAX_BOOK_BYTES = 50 * 1024 * 1024
__all__ = ["BookError", "Imported", "contacts", "forget", "forget_all", "import_book", "learn_judged",
           "learn_key", "memory_from_files", "read_book_file", "usual_path"]


@dataclass(frozen=True)
class Imported:
    entries: int  # contacts with at least one address
    addresses: int


def read_book_file(path: str | Path) -> list[tuple[str, tuple[str, ...]]]:
    """(address, names) of every address in a vCard or CSV file; BookError says in plain words what is wrong."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BOOK_BYTES:
            raise BookError(f"{p.name} is larger than 50 MB. That is not an address book KlezGuard can read.")
        data = p.read_bytes()
    except OSError as exc:
        raise BookError(f"{p} could not be read: {exc.strerror or exc}") from exc
    return [(address, entry.names) for entry in read_book(data, p.name) for address in entry.addresses]


def import_book(store: Store, account: str, path: str | Path) -> Imported:
    """An address book into the account's memory (the file itself is not kept)."""
    pairs = read_book_file(path)
    store.learn_book(account, pairs)
    return Imported(len({names for _, names in pairs}), len({a for a, _ in pairs}))


def contacts(store: Store, account: str) -> list[Contact]:
    """What the memory knows, the people the user knows best first."""
    memory = store.contacts_memory(account)
    return sorted(memory.contacts.values(), key=lambda c: (-(c.written + c.received + 5 * c.in_book), c.address))


def usual_path(c: Contact) -> str:
    """How this correspondent's mail usually arrives, in a few words ('' before it is a habit)."""
    words = {"dkim": "signed by {}", "host": "via {}", "mailer": "written with {}"}
    said = []
    for kind, template in words.items():
        usual = c.usual(kind)
        if usual and usual[0] not in ("-", "unnamed"):
            said.append(template.format(usual[0]))
    return ", ".join(said)


def forget(store: Store, account: str, address: str) -> bool:
    return store.forget_contact(account, address)


def forget_all(store: Store, account: str) -> None:
    store.forget_contacts(account)


def learn_key(message_id: str, folder: str, uidvalidity: int, uid: int) -> str:
    """What a learnt message is known by: its Message-ID, or where it is when it has none (else each
    re-reading of the folder would teach it again)."""
    ids = message_ids(message_id)
    return ids[0] if ids else f"uid:{folder}:{uidvalidity}:{uid}"


def learn_judged(store: Store, account: str, seen: Iterable[tuple[str, Arrival | None]]) -> int:
    """(Message-ID, how it came) of mail just judged clean; a threat teaches nothing (the judge leaves it out)."""
    return store.learn_arrivals(account, [(mid, a) for mid, a in seen if a is not None])


# --- `check --contacts FILE --history PATH`: the same memory from local files --------------------------------


def _date_of(raw: bytes) -> float:
    try:
        date = email.parser.BytesHeaderParser().parsebytes(raw).get("date", "")
        return email.utils.parsedate_to_datetime(str(date)).timestamp() if str(date).strip() else 0.0
    except Exception:  # noqa: BLE001 - a broken date sorts first, it does not stop the rest
        return 0.0


def memory_from_files(context_for: Callable[[Memory], Context], books: list[str], history: list[str],
                      sent: SentIndex | None, errors: list[SourceError]) -> Memory:
    """The memory a scan would have built: address books and the Sent mail first, then the mail received
    before, oldest first, each judged with what is known by then (as each scan judges with what earlier
    scans learnt) and learnt only when clean."""
    memory = Memory()
    for path in books:
        for address, names in read_book_file(path):
            memory.add_to_book(address, names)
    for _mid, address, name, when in sent.written if sent is not None else ():
        memory.wrote_to(address, name, when)
    # oldest first: the date from the header block alone, each message parsed whole only when its turn comes
    received: list[tuple[float, int, bytes]] = []
    for item in read_mail(history) if history else ():
        if isinstance(item, SourceError):
            errors.append(item)
            continue
        received.append((_date_of(item[1]), len(received), item[1]))
    received.sort(key=lambda r: (r[0], r[1]))
    ctx = context_for(memory)  # (its memory is this one, growing as it learns)
    learnt: set[str] = set()
    for when, _, raw in received:
        msg = from_bytes(raw)
        if msg.message_id_key and msg.message_id_key in learnt:
            continue
        if not teaches(msg) or evaluate(msg, ctx).verdict != "clean":
            continue
        seen = arrival(msg, ctx.trusted_authserv, when)
        if seen is not None:
            memory.learn(seen)
            learnt.add(msg.message_id_key)
    return memory
