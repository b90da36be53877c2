"""The helper-process judge hands each context over once and names it by number afterwards: the verdicts must
be those of judging in this process, also when the scan switches to another context (another account)."""

from klezguard.application.judge import InProcessJudge, ProcessJudge
from klezguard.core.correspondents import Memory
from klezguard.core.parse import partial_view
from klezguard.mail.fetcher import Fetched
from tests.mailfactory import build, context


def fetched(n: int, raw: bytes) -> Fetched:
    head, structure, parts = partial_view(raw)
    return Fetched(n, head, structure, parts, len(raw), (), None)


def outcome(judged) -> list[tuple[str, list[str]]]:
    return [(j.result.verdict, [f.rule for f in j.result.findings]) for j in judged]


def test_each_context_crosses_once_and_the_verdicts_are_those_of_this_process():
    fake = build(from_="Gareth Lloyd <g.lloyd.office@gmail.com>")
    items = [fetched(n, raw) for n, raw in enumerate([fake, build(subject="Lunch")])]
    memory = Memory()
    memory.add_to_book("gareth@lloyd-accounts.co.uk", ["Gareth Lloyd"])
    knows_gareth, knows_nobody = context(memory=memory), context()
    here = InProcessJudge()
    judge = ProcessJudge()
    try:
        for ctx in (knows_gareth, knows_gareth, knows_nobody, knows_gareth):
            assert outcome(judge.submit(items, ctx).result(timeout=60)) == outcome(here.submit(items, ctx).result())
    finally:
        judge.close()
    assert "sender.name_of_contact" in outcome(here.submit(items, knows_gareth).result())[0][1]
