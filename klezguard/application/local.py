"""Scanning a local mailbox (the demo, or mail files the user opened) the way an IMAP folder is scanned:
each message cut to the same partial view the server would give, judged by the same judge, stored the
same way. So a message gets one verdict whether it is read as a file, from a local folder or over IMAP.
"""

import threading
from collections.abc import Callable

from klezguard.application import contacts
from klezguard.application import context as contexts
from klezguard.application.context import sent_from_files
from klezguard.application.judge import judge_one
from klezguard.application.rejudge import rejudge_stale
from klezguard.application.scan import Scanned, judgement
from klezguard.core.context import Context
from klezguard.core.parse import partial_view
from klezguard.mail.fetcher import Fetched
from klezguard.mail.local import UIDVALIDITY, LocalMailbox
from klezguard.rules.engine import engine_version
from klezguard.store.db import Store

SENT_STATE = "\\Sent:files"


def context_of(box: LocalMailbox, store: Store) -> Context:
    source = box.source
    return contexts.for_mailbox(store, box.key, source.owner, source.own_domains, source.trusted_authserv)


def index_sent(box: LocalMailbox, store: Store) -> None:
    """The mailbox's sent mail into the store, once (as a scan reads an IMAP account's Sent folder)."""
    if box.source.sent and store.folder_state(box.key, SENT_STATE) is None:
        sent = sent_from_files(box.source.sent)
        if sent is not None:
            store.add_sent(box.key, sent, (SENT_STATE, UIDVALIDITY, 0))


def scan_mailbox(box: LocalMailbox, store: Store, folder: str = "INBOX",
                 progress: Callable[[str, int, int], None] | None = None,
                 cancel: threading.Event | None = None) -> list[Scanned]:
    """Judges the folder's messages that the store does not know yet."""
    box.import_mail()
    index_sent(box, store)
    ctx = context_of(box, store)
    rejudge_stale(store, box.key, ctx)
    engine = engine_version()
    todo = list(box.messages(folder, skip=store.known_uids(box.key, folder)))
    scanned = []
    for n, (uid, raw, flags) in enumerate(todo, 1):
        if cancel is not None and cancel.is_set():
            break
        head, structure, fetched = partial_view(raw)
        item = Fetched(uid, head, structure, fetched, len(raw), flags, None)
        judged = judge_one(item, ctx)
        store.save_judged(box.key, folder, UIDVALIDITY, [judgement(item, judged, engine)])
        key = contacts.learn_key(judged.summary.message_id, folder, UIDVALIDITY, uid)
        contacts.learn_judged(store, box.key, [(key, judged.arrival)])
        scanned.append(Scanned(box.key, folder, UIDVALIDITY, uid, judged.summary, judged.result, flags, judged.reason))
        if progress is not None:
            progress(folder, n, len(todo))
    return scanned
