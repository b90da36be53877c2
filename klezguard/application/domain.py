"""Checking the user's own domains: can someone send mail in their name, and what to do about it.

One function for the command line and the app (`check_domain`), the user's domains from the accounts, and
the last answer per domain remembered with its time (in domains.json beside the settings), so the app's
background check runs at most once a day and the page opens on the last answer while it checks again.
"""

import time
from collections.abc import Iterable

from klezguard.core.domainadvice import FREEMAIL, PROTECTED, UNCHECKED, WEAK, Verdict, check
from klezguard.core.domaincheck import DEFAULT_LIFETIME, DEFAULT_TIMEOUT, make_resolver, selectors_in
from klezguard.mail.accounts import Account, AccountStore
from klezguard.settings import Settings
from klezguard.store.db import Store

DAY = 24 * 3600
OUTCOMES = (PROTECTED, WEAK, UNCHECKED, FREEMAIL)  # what a Verdict's outcome can be (the CLI and app use these)


def check_domain(domain: str, nameserver: str | None = None, selectors: Iterable[str] = (), report_to: str = "",
                 timeout: float = DEFAULT_TIMEOUT, lifetime: float = DEFAULT_LIFETIME) -> Verdict:
    """One domain's verdict and steps. `nameserver` 'IP[:PORT]' (else the system's resolver); `selectors`:
    DKIM key names seen in the user's mail; `report_to`: the address the suggested DMARC record names.
    Raises ValueError for a nameserver that is not 'IP[:PORT]'."""
    resolver = make_resolver(nameserver, timeout=timeout, lifetime=lifetime)
    return check(domain, resolver, tuple(selectors), report_to)


def selectors_seen(store: Store, domain: str, limit: int = 200) -> list[str]:
    """DKIM selectors that signed the user's own mail as it came back in (a colleague's mail, a copy to
    oneself): the provider may use names KlezGuard does not know. Sent folders hold mail from before it was
    signed, so the inbox is where they show."""
    from klezguard.application.trust import stored_message

    found: list[str] = []
    for row_id in store.ids_from_domain(domain, limit):
        msg = stored_message(store, row_id)
        if msg is not None:
            found += [s for s in selectors_in(msg.header_all("dkim-signature"), domain) if s not in found]
        if len(found) >= 5:
            break
    return found


def check_own_domain(domain: str, store: Store | None, nameserver: str | None = None, report_to: str = "") -> Verdict:
    """The app's check: with the DKIM selectors seen in the stored mail."""
    selectors = selectors_seen(store, domain.rpartition("@")[2].lower()) if store is not None else []
    return check_domain(domain, nameserver, selectors, report_to)


def own_domains(accounts: Iterable[Account] | None = None) -> list[tuple[str, str]]:
    """(domain, the user's address there) for each account, in account order, each domain once."""
    found: dict[str, str] = {}
    for account in AccountStore().load() if accounts is None else accounts:
        address = account.email.strip().lower()
        domain = address.rpartition("@")[2]
        if domain and domain not in found:
            found[domain] = address
    return list(found.items())


class DomainMemory:
    """The last verdict per domain, with when it was made."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings(name="domains.json")

    def last(self, domain: str) -> Verdict | None:
        data = self.settings.values.get(domain.lower())
        if not isinstance(data, dict):
            return None
        try:
            return Verdict.from_dict(data)
        except (TypeError, KeyError, ValueError):
            return None  # a file from another version: check again

    def remember(self, verdict: Verdict) -> None:
        self.settings.load()  # the app's background check and the page may both have written since
        old = self.last(verdict.domain)
        if verdict.outcome == UNCHECKED and old is not None and old.outcome != UNCHECKED:
            return  # a DNS hiccup does not wipe out a real answer; it is tried again next time
        self.settings.set(verdict.domain.lower(), verdict.to_dict())

    def due(self, domain: str, now: float | None = None) -> bool:
        last = self.last(domain)
        now = time.time() if now is None else now
        return last is None or last.outcome == UNCHECKED or now - last.checked_at >= DAY


def check_due(domains: Iterable[tuple[str, str]], memory: DomainMemory, nameserver: str | None = None,
              now: float | None = None, store: Store | None = None) -> list[Verdict]:
    """The background check: only the domains whose last answer is a day old (or missing)."""
    done = []
    for domain, address in domains:
        if memory.due(domain, now):
            selectors = selectors_seen(store, domain) if store is not None else []
            verdict = check_domain(domain, nameserver, selectors, report_to=address)
            memory.remember(verdict)
            done.append(verdict)
    return done


def service_domains(services: Iterable[object]) -> list[tuple[str, str]]:
    """(domain, address) of the app's mailboxes: an account's address, a local mailbox's owner and domains."""
    found: dict[str, str] = {}
    for service in services:
        account = getattr(service, "account", None)
        box = getattr(service, "box", None)
        pairs: list[tuple[str, str]] = []
        if account is not None:
            pairs.append((account.email.rpartition("@")[2], account.email))
        elif box is not None:
            owner = box.source.owner or ""
            if owner:
                pairs.append((owner.rpartition("@")[2], owner))
            pairs += [(d, "") for d in box.source.own_domains]
        for domain, address in pairs:
            domain = domain.strip().lower()
            if domain and (domain not in found or (address and not found[domain])):
                found[domain] = address.lower()
    return list(found.items())
