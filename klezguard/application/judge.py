"""Judging fetched messages: in this process, or in a helper process while the next batch is fetched.

Rules are pure Python. In the desktop app, judging on a worker thread of the GUI process competes with
the window for the interpreter lock; a helper process keeps the window smooth and, on a machine with two
or more cores, lets fetching and judging overlap. Both judges return the same plain results, so the
scanner does not care which one runs.
"""

import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass

from klezguard.core.context import Context
from klezguard.core.correspondents import Arrival, arrival, teaches
from klezguard.core.headers import Address
from klezguard.core.parse import from_partial
from klezguard.mail.fetcher import Fetched
from klezguard.rules.engine import Result, evaluate, prepare
from klezguard.store.views import pack_view

log = logging.getLogger(__name__)
__all__ = ["Fetched", "judge_one", "prepare", "default_judge", "InProcessJudge", "ProcessJudge", "UNCHECKED"]


@dataclass
class Summary:
    """The few facts about a judged message that reports and notifications show (a Message stand-in)."""

    message_id: str
    from_display: str
    from_addr: Address | None
    subject: str
    date: float | None


@dataclass
class Judged:
    fetched_uid: int
    summary: Summary
    result: Result
    view: bytes | None  # the packed partial view, for judging again later without the server
    findings_json: str
    reason: str = ""  # why it is unchecked ('' for a judged message)
    arrival: Arrival | None = None  # how a clean message came, for the memory of correspondents


UNCHECKED = "unchecked"  # the verdict of a message that could not be fetched or judged


def judge_one(item: Fetched, ctx: Context) -> Judged:
    """One message judged; one that cannot be is kept as 'unchecked' with the reason, never stops the
    scan. Its view is kept where there is one, so a later KlezGuard can judge it again."""
    if item.error:
        return _unchecked(item, item.error, view=None)
    try:
        msg = from_partial(item.head, item.structure, item.parts, item.size)
        result = evaluate(msg, ctx)
        date = msg.parsed_date()
        timestamp = (date.timestamp() if date else None) or item.internaldate
        summary = Summary(msg.message_id, msg.from_display, msg.from_addr, msg.subject, timestamp)
        view = pack_view(item.head, [asdict(p) for p in item.structure], item.parts)
        findings = json.dumps([f.to_dict() for f in result.findings], default=str)
        teach = result.verdict == "clean" and teaches(msg)
        # (when the server received it, not the Date the sender wrote: a forger could spread three mails
        # over a "week" in one minute)
        seen = arrival(msg, ctx.trusted_authserv, item.internaldate or timestamp or 0.0) if teach else None
    except Exception as exc:  # noqa: BLE001 - one message must never stop the scan of all the others
        log.exception("message %s could not be judged", item.uid)
        try:
            view = pack_view(item.head, [asdict(p) for p in item.structure], item.parts)
        except Exception:  # noqa: BLE001
            view = None
        return _unchecked(item, f"KlezGuard ran into a problem judging it ({type(exc).__name__}).", view)
    return Judged(item.uid, summary, result, view, findings, arrival=seen)


def _unchecked(item: Fetched, why: str, view: bytes | None) -> Judged:
    summary = Summary("", "", None, "", item.internaldate)
    try:
        headers = from_partial(item.head, [], {}, item.size) if item.head else None
        if headers is not None:
            summary = Summary(headers.message_id, headers.from_display, headers.from_addr, headers.subject,
                              item.internaldate)
    except Exception:  # noqa: BLE001 - the headers alone may be what cannot be read
        log.info("the headers of message %s could not be read either", item.uid)
    return Judged(item.uid, summary, Result(UNCHECKED, 0.0, []), view, "[]", reason=why)


def judge_batch(items: list[Fetched], ctx: Context) -> list[Judged]:
    return [judge_one(item, ctx) for item in items]


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class InProcessJudge:
    """Judges on the calling thread (the command line, tests)."""

    def submit(self, items: list[Fetched], ctx: Context) -> Future:
        return _done(judge_batch(items, ctx))

    def close(self) -> None:
        pass


def _warm() -> None:
    from klezguard.rules.engine import prepare

    try:
        os.nice(10)  # judging in the background yields the processor to the window and the user
    except (AttributeError, OSError):
        pass
    prepare()


_HELD: dict[str, object] = {}  # in the helper process: the context it was last handed, by its number


def _judge_held(items: list[Fetched], number: int, ctx: Context | None) -> list[Judged]:
    """In the helper: judges with the context handed over with this batch, or with the one kept from an
    earlier batch of the same scan (a memory of thousands of correspondents is sent once, not per batch)."""
    if ctx is not None:
        _HELD.update(number=number, ctx=ctx)
    elif _HELD.get("number") != number:
        raise RuntimeError("the helper process lost the judging context")  # (never expected: one worker, in order)
    held = _HELD["ctx"]
    assert isinstance(held, Context)
    return judge_batch(items, held)


class ProcessJudge:
    """Judges in one helper process, started once and reused (its start-up loads the rules). Each context
    crosses to it once: later batches judged with the same one name it by number."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt or threads
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_warm)
        self.started = time.monotonic()
        self._sent: tuple[int, Context] | None = None  # (number, the context last handed over)
        self._numbers = 0

    def submit(self, items: list[Fetched], ctx: Context) -> Future:
        if self._sent is not None and self._sent[1] is ctx:
            return self.pool.submit(_judge_held, items, self._sent[0], None)
        self._numbers += 1
        self._sent = (self._numbers, ctx)
        return self.pool.submit(_judge_held, items, self._numbers, ctx)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def default_judge():
    """A helper process where there is more than one core, else this process."""
    return ProcessJudge() if (os.cpu_count() or 1) > 1 else InProcessJudge()
