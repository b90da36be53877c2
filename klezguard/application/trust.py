"""Trusting a sender, or clearing one message, when the user says "not a threat".

A sender is trusted only bound to the domain the user's provider confirmed for it: trusting a name or an
address alone would let every forger of that address in too. Where the provider confirmed nothing, only
that one message is cleared. Either way the stored verdicts are judged again at once.
"""

from dataclasses import dataclass, field

from klezguard.application.rejudge import rejudge_sender, rejudge_stale
from klezguard.core.context import Context
from klezguard.core.message import Message
from klezguard.core.parse import PartInfo, from_partial
from klezguard.rules import trust
from klezguard.store.db import Store

UNCONFIRMED = ("Your provider did not confirm who sent this message, so KlezGuard cannot trust the sender safely. "
               "Anyone could send mail in that name. The message itself is marked as not a threat.")
CLEARED_REASON = "You marked this as not a threat."


@dataclass
class Trusted:
    senders: list[tuple[str, str]] = field(default_factory=list)  # (address, authenticated domain)
    new_senders: list[tuple[str, str]] = field(default_factory=list)  # not trusted before: an Undo untrusts them
    cleared: list[int] = field(default_factory=list)  # row ids cleared one by one
    why_cleared: str = ""


def stored_message(store: Store, row_id: int) -> Message | None:
    """The message model of a stored row, rebuilt from its saved partial view (no network)."""
    view = store.view(row_id)
    if view is None:
        return None
    return from_partial(view.head, [PartInfo(**p) for p in view.structure], view.fetched)


def not_a_threat(store: Store, key: str, ctx: Context, row_ids: list[int]) -> Trusted:
    """Trusts the confirmed senders of these stored messages and judges their mail again; clears the
    messages whose sender nobody confirmed."""
    outcome = Trusted()
    for row_id in row_ids:
        msg = stored_message(store, row_id)
        found = trust.trust_key(msg, ctx) if msg is not None else None
        if found is None:
            outcome.cleared.append(row_id)
        elif found not in outcome.senders:
            outcome.senders.append(found)
    if outcome.cleared:
        store.clear(outcome.cleared, CLEARED_REASON)
        outcome.why_cleared = UNCONFIRMED
    for address, domain in outcome.senders:
        if (address, domain) not in store.trusted_senders():
            outcome.new_senders.append((address, domain))
        store.trust(address, domain)
        store.mark_stale(address)  # in every account: each is judged again with its own context
    if outcome.senders:
        ctx.trusted_senders = store.trusted_senders()
        for address, _domain in outcome.senders:
            rejudge_sender(store, key, ctx, address)
    # What the user marked is not a threat, whatever else was found in it (an odd attachment, say): the
    # message itself is cleared too, so the click always does what it says
    still = [i for i in row_ids if i not in outcome.cleared and (m := store.message(i)) is not None
             and m.verdict in ("suspicious", "threat")]
    if still:
        store.clear(still, CLEARED_REASON)
        outcome.cleared.extend(still)
    return outcome


def undo_not_a_threat(store: Store, key: str, ctx: Context, outcome: Trusted) -> int:
    """Takes a "not a threat" back: the senders it trusted are trusted no more, the messages it cleared are
    judged again. Returns how many messages got their verdict back."""
    for address, domain in outcome.new_senders:
        untrust(store, address, domain)
    store.unclear(outcome.cleared)
    ctx.trusted_senders = store.trusted_senders()
    return rejudge_stale(store, key, ctx)


def trusted(store: Store) -> list[tuple[str, str, float]]:
    """(address, authenticated domain, when) of every trusted sender."""
    return store.trusted_list()


def untrust(store: Store, address: str, domain: str) -> bool:
    """Stops trusting a sender. Its stored mail, in every account, is judged again at the next re-judging
    (`rejudge_stale`, which the app runs at once and every scan runs first). False: it was not trusted."""
    if (address.lower(), domain.lower()) not in store.trusted_senders():
        return False
    store.untrust(address, domain)
    store.mark_stale(address)
    return True
