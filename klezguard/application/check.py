"""Checking mail files (`klezguard check`): each message judged whole, with the same context as a scan."""

from collections.abc import Iterator, Sequence

from klezguard.application.contacts import memory_from_files
from klezguard.application.context import build, sent_from_files
from klezguard.core import bounces
from klezguard.core.context import Context
from klezguard.core.correspondents import Memory
from klezguard.core.message import Message
from klezguard.core.parse import from_bytes
from klezguard.core.sources import SourceError, read_mail
from klezguard.rules.engine import Result, evaluate


def files_context(sent: list[str], own_domains: list[str], trusted_authserv: list[str],
                  errors: list[SourceError], books: Sequence[str] = (), history: Sequence[str] = ()) -> Context:
    """The context of `check`: what the command line was told (sent mail that cannot be read goes to `errors`).
    With sent mail, address books or earlier mail, the memory of correspondents is built from them as a scan
    builds it from the server: the mail received before is judged first and teaches only when clean."""
    sent_index = sent_from_files(sent, errors)

    def context_for(memory: Memory | None) -> Context:
        return build(own_domains=own_domains, trusted_authserv=trusted_authserv, sent=sent_index, memory=memory)

    if not books and not history and sent_index is None:
        return context_for(None)
    return context_for(memory_from_files(context_for, list(books), list(history), sent_index, errors))


def is_notice(msg: Message) -> bool:
    """A bounce, virus warning, complaint or auto-reply: judged only against the mail the user sent."""
    return bounces.analyse(msg) is not None


def check_files(paths: list[str], ctx: Context) -> Iterator[tuple[str, Message, Result] | SourceError]:
    """(source, message, result) for every message under `paths`; a path that cannot be read is an error
    and the others are still checked."""
    for item in read_mail(paths):
        if isinstance(item, SourceError):
            yield item
            continue
        source, raw = item
        msg = from_bytes(raw)
        yield source, msg, evaluate(msg, ctx)
