"""What the engine knows about the mailbox owner: own domains, trusted provider, sent mail.

Rules judge a message against this: "from your own domain", "a bounce for mail you never sent" and
"looks like a correspondent's domain" all need it.
"""

import email.parser
import email.utils
from collections.abc import Iterable
from dataclasses import dataclass, field

from klezguard.core.correspondents import Memory, NameIndex, name_keys
from klezguard.core.domains import ascii_domain, is_freemail, org_domain
from klezguard.core.headers import message_ids, parse_addresses, to_text


def _timestamp(date: str) -> float:
    try:
        return email.utils.parsedate_to_datetime(date).timestamp() if date.strip() else 0.0
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0


@dataclass
class SentIndex:
    """Message-IDs, authors and recipients of the mail the user sent."""

    message_ids: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    recipients: set[str] = field(default_factory=set)
    names: dict[str, set[str]] = field(default_factory=dict)  # name_key -> addresses it was used with
    # (Message-ID, address, name, when) of everyone written to, for the memory of correspondents
    written: list[tuple[str, str, str, float]] = field(default_factory=list)

    def add(self, raw: bytes) -> None:
        try:
            head = email.parser.BytesHeaderParser().parsebytes(raw)
        except Exception:  # noqa: BLE001 - one broken sent message must not stop the index
            return
        ids = message_ids(head.get("message-id", ""))
        self.message_ids.update(ids)
        when = _timestamp(to_text(head.get("date", "")))
        for a in parse_addresses(to_text(head.get("from", ""))):
            if "@" in a.addr:
                self.authors.add(a.addr.lower())
                self._add_name(a.name, a.addr)
        for name in ("to", "cc", "bcc"):
            for value in head.get_all(name, []) or []:
                for a in parse_addresses(to_text(value)):
                    if "@" in a.addr:
                        self.recipients.add(a.addr.lower())
                        self._add_name(a.name, a.addr)
                        self.written.append((ids[0] if ids else "", a.addr.lower(), a.name, when))

    def _add_name(self, name: str, addr: str) -> None:
        for key in name_keys(name) if name else ():
            self.names.setdefault(key, set()).add(addr.lower())


@dataclass
class Context:
    """The owner's side of every judgement. Empty means "unknown", and rules then stay cautious."""

    own_domains: frozenset[str] = frozenset()  # registrable, ASCII
    own_addresses: frozenset[str] = frozenset()
    trusted_authserv: frozenset[str] = frozenset()  # lower case authserv-ids of the user's provider
    sent_ids: frozenset[str] | None = None  # None: we were not told what the user sent
    correspondents: frozenset[str] = frozenset()  # addresses the user writes to
    trusted_senders: frozenset[tuple[str, str]] = frozenset()  # (address, authenticated domain)
    known_names: dict[str, frozenset[str]] = field(default_factory=dict)  # name_key -> addresses with that name
    memory: Memory | None = None  # the account's correspondents (None: no history was given)

    @property
    def name_index(self) -> NameIndex:
        """`known_names` indexed by word (built once per context)."""
        index = self.__dict__.get("_name_index")
        if index is None or index.known is not self.known_names:
            index = self.__dict__["_name_index"] = NameIndex(self.known_names)
        return index

    @property
    def knows_sent(self) -> bool:
        return self.sent_ids is not None

    @property
    def correspondent_domains(self) -> frozenset[str]:
        return frozenset(org_domain(a.rpartition("@")[2]) for a in self.correspondents if "@" in a)

    def is_own_domain(self, domain: str) -> bool:
        return bool(domain) and org_domain(domain) in self.own_domains

    def is_own_address(self, addr: str) -> bool:
        return addr.lower() in self.own_addresses

    @classmethod
    def build(
        cls,
        own_domains: Iterable[str] = (),
        trusted_authserv: Iterable[str] = (),
        sent: SentIndex | None = None,
        own_addresses: Iterable[str] = (),
        memory: Memory | None = None,
    ) -> "Context":
        domains = {org_domain(ascii_domain(d)) for d in own_domains if d.strip()}
        addresses = {a.lower() for a in own_addresses}
        correspondents: set[str] = set()
        known_names: dict[str, frozenset[str]] = {}
        sent_ids = None
        if sent is not None:
            known_names = {k: frozenset(v) for k, v in sent.names.items()}
            sent_ids = frozenset(sent.message_ids)
            addresses |= sent.authors
            # A free-mail author domain is not "the user's domain": millions share it.
            domains |= {org_domain(a.rpartition("@")[2]) for a in sent.authors if not is_freemail(a.rpartition("@")[2])}
            correspondents = {a for a in sent.recipients if org_domain(a.rpartition("@")[2]) not in domains}
        if memory is not None:
            # Names and addresses the user knows from address books and from mail that came before
            for key, known in memory.names().items():
                known_names[key] = known_names.get(key, frozenset()) | known
            correspondents |= {a for a in memory.addresses() if org_domain(a.rpartition("@")[2]) not in domains}
        return cls(
            own_domains=frozenset(d for d in domains if d),
            own_addresses=frozenset(addresses),
            trusted_authserv=frozenset(a.strip().lower() for a in trusted_authserv if a.strip()),
            sent_ids=sent_ids,
            correspondents=frozenset(correspondents),
            known_names=known_names,
            memory=memory,
        )
