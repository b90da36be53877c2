"""Trusted senders: "not a threat, trust this sender" — bound to the sender's *authenticated* domain.

A trust entry is (address, registrable domain that the user's provider confirmed). It only applies to
later mail whose From is that address and whose domain the provider again confirmed (SPF or DKIM
aligned), so a forger who copies the address gains nothing.
"""

from klezguard.core import authresults
from klezguard.core.context import Context
from klezguard.core.domains import org_domain
from klezguard.core.message import Message

# What trust silences: doubts about who sent it and where its links go. A dangerous attachment or a
# bounce for mail the user never sent stays reported, whoever sent it.
TRUSTED_CATEGORIES = frozenset({"sender", "link"})


def authenticated_domain(msg: Message, ctx: Context) -> str | None:
    """The From's registrable domain when the user's provider confirmed it, else None."""
    sender = msg.from_addr
    if sender is None or not sender.domain:
        return None
    auth = authresults.read(msg, ctx.trusted_authserv)
    if auth.found and auth.aligned_pass(sender.domain):
        return org_domain(sender.domain)
    return None


def trust_key(msg: Message, ctx: Context) -> tuple[str, str] | None:
    """The entry to store when the user trusts this message's sender (None: it cannot be trusted safely)."""
    domain = authenticated_domain(msg, ctx)
    if domain is None or msg.from_addr is None:
        return None
    return msg.from_addr.addr.lower(), domain


def is_trusted(msg: Message, ctx: Context) -> bool:
    if not ctx.trusted_senders:
        return False
    key = trust_key(msg, ctx)
    return key is not None and key in ctx.trusted_senders
