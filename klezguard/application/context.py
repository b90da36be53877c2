"""The judging context, built one way for every path: `check` on files, a local mailbox, an IMAP account.

When the paths built it each their own way, the same message got other verdicts on the server than as a
file (the scan never knew the names of the user's correspondents). Now each path only says where its
facts come from, and `build` turns them into the Context the rules see.
"""

from collections.abc import Iterable

from klezguard.core.context import Context, SentIndex
from klezguard.core.correspondents import Memory
from klezguard.core.domains import is_freemail
from klezguard.core.sources import SourceError, read_mail
from klezguard.mail.accounts import Account
from klezguard.store.db import Store


def build(owner: str = "", own_domains: Iterable[str] = (), trusted_authserv: Iterable[str] = (),
          sent: SentIndex | None = None, trusted_senders: Iterable[tuple[str, str]] = (),
          memory: Memory | None = None) -> Context:
    """`owner`'s domain counts as the user's own unless it is a free-mail domain that millions share. A sent
    index with no message in it says nothing about what the user sent: every bounce would then look like
    backscatter, so it counts as unknown."""
    domains = [d for d in own_domains if d.strip()]
    if owner and not domains:
        domain = owner.rpartition("@")[2]
        domains = [] if is_freemail(domain) else [domain]
    known = sent if sent is not None and sent.message_ids else None
    ctx = Context.build(own_domains=domains, trusted_authserv=trusted_authserv, sent=known,
                        own_addresses=[owner] if owner else [], memory=memory)
    ctx.trusted_senders = frozenset(trusted_senders)
    return ctx


def sent_from_files(paths: list[str], errors: list[SourceError] | None = None) -> SentIndex | None:
    """The sent mail in files (`check --sent`, a local mailbox's sent folder); None when none is given."""
    if not paths:
        return None
    index = SentIndex()
    for item in read_mail(paths):
        if isinstance(item, SourceError):
            if errors is not None:
                errors.append(item)
        else:
            index.add(item[1])
    return index


def for_account(store: Store, account: Account) -> Context:
    """An IMAP account's context: its Sent folder as the scan indexed it into the store."""
    return build(owner=account.email, trusted_authserv=account.trusted_authserv,
                 sent=store.sent_index(account.key), trusted_senders=store.trusted_senders(),
                 memory=store.contacts_memory(account.key))


def for_mailbox(store: Store, key: str, owner: str, own_domains: Iterable[str],
                trusted_authserv: Iterable[str]) -> Context:
    """A local mailbox's context: its sent mail was indexed into the store when it was imported."""
    return build(owner=owner, own_domains=own_domains, trusted_authserv=trusted_authserv,
                 sent=store.sent_index(key), trusted_senders=store.trusted_senders(),
                 memory=store.contacts_memory(key))
