"""Judging stored messages again, from their stored partial views, without the server.

After an update of KlezGuard (the engine version covers the rules' code, data and weights) every stored
verdict of an older engine is stale: the app does this at start, and every scan before it scans. After
the user trusts a sender, that sender's messages are judged again at once.
"""

import json
from collections.abc import Callable

from klezguard.core.context import Context
from klezguard.core.parse import PartInfo, from_partial
from klezguard.rules import trust
from klezguard.rules.engine import Finding, Result, engine_version, evaluate, main_reason, total_score, verdict_for
from klezguard.store.db import Store, Verdict
from klezguard.store.views import unpack_view

BATCH = 500


def _judged_again(blob: bytes, stored: str, ctx: Context, trusting: bool) -> Result | None:
    """The new result; None for a view whose big attachments the store kept only in part (it keeps its
    verdict until it is scanned again), unless a trust removes the findings trust silences."""
    view = unpack_view(blob)
    msg = from_partial(view.head, [PartInfo(**p) for p in view.structure], view.fetched)
    if not view.cut:
        return evaluate(msg, ctx)
    if not trusting or not trust.is_trusted(msg, ctx):
        return None
    kept = [Finding(**f) for f in json.loads(stored) if f.get("category") not in trust.TRUSTED_CATEGORIES]
    score = total_score(kept)
    return Result(verdict_for(score), score, kept)


def _verdict(row_id: int, result: Result, engine: str, was: str | None = None) -> Verdict:
    return Verdict(row_id, result.verdict, result.score, main_reason(result),
                   json.dumps([f.to_dict() for f in result.findings], default=str), engine, was)


def rejudge_stale(store: Store, account: str, ctx: Context,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Judges every stored message of `account` that an older engine judged. Messages the user cleared
    keep the user's word; a view kept only in part stays stale, and the next scan fetches it again.
    Returns how many got a new verdict."""
    engine = engine_version()
    total = store.stale_count(account, engine)
    judged = done = last = 0
    while rows := store.stale(account, engine, BATCH, after=last):
        # The trusts as they are now, read after the rows: a trust taken back marks its rows stale after it
        # is gone, so rows read with that mark are judged without it (a context built before, still holding
        # it, would judge them clean and the matching mark would let that stand).
        ctx.trusted_senders = store.trusted_senders()
        verdicts = []
        for row_id, blob, stored, was in rows:
            result = _judged_again(blob, stored, ctx, trusting=False)
            if result is not None:
                verdicts.append(_verdict(row_id, result, engine, was))
        store.set_verdicts(verdicts)
        judged += len(verdicts)
        done += len(rows)
        last = rows[-1][0]
        if progress is not None:
            progress(done, total)
    return judged


def rejudge_sender(store: Store, account: str, ctx: Context, sender: str) -> int:
    """Judges the stored messages from `sender` in `account` again (the user trusted it). A view kept only
    in part loses the findings trust silences now, and stays stale: the next scan fetches it again."""
    engine = engine_version()
    current: list[Verdict] = []
    partial: list[Verdict] = []
    for row_id, blob, stored in store.from_sender(account, sender):
        result = _judged_again(blob, stored, ctx, trusting=True)
        if result is not None:
            (current if not unpack_view(blob).cut else partial).append(_verdict(row_id, result, engine))
    store.set_verdicts(current)
    store.set_verdicts(partial, keep_engine=True)
    return len(current) + len(partial)
