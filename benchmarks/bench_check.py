"""Messages per second of `klezguard check` against a bare `email.message_from_bytes` parse.

Both run in this process over the same messages held in memory (no file reading in either), best of
several rounds. `check` here is what the command does per message: parse into the model, run every
rule, and write the JSON line. Target: check costs at most 3x the bare parse (issue 11).

    .venv/bin/python benchmarks/bench_check.py [PATH ...]   (default: ../shared/corpus, else klezguard/resources/demo)
"""

import email
import sys
import time
from pathlib import Path

from klezguard.core.context import Context, SentIndex
from klezguard.core.parse import from_bytes
from klezguard.core.sources import SourceError, read_mail
from klezguard.report import as_json
from klezguard.rules.engine import evaluate
from klezguard.rules.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent


def load(paths: list[str]) -> list[bytes]:
    return [item[1] for item in read_mail(paths) if not isinstance(item, SourceError)]


def best_of(rounds: int, fn) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    corpus = ROOT.parent / "shared" / "corpus"
    paths = sys.argv[1:] or ([str(corpus)] if corpus.is_dir() else [str(ROOT / "klezguard" / "resources" / "demo")])
    messages = load(paths)
    sent = SentIndex()
    for raw in load([str(corpus / "synthetic" / "sent")] if corpus.is_dir() else []):
        sent.add(raw)
    ctx = Context.build(own_domains=["harbourline-joinery.co.uk"], trusted_authserv=["mx1.northmail.net"], sent=sent)
    all_rules()

    def bare():
        for raw in messages:
            email.message_from_bytes(raw)

    def check():
        for n, raw in enumerate(messages):
            msg = from_bytes(raw)
            as_json(str(n), msg, evaluate(msg, ctx))

    check()  # warm caches (Public Suffix List, confusables) as a long-running scan would have them
    rounds = 3
    t_bare = best_of(rounds, bare)
    t_check = best_of(rounds, check)
    n = len(messages)
    size = sum(len(m) for m in messages) / 1e6
    print(f"messages: {n} ({size:.1f} MB) from {', '.join(paths)}")
    print(f"bare email.message_from_bytes: {n / t_bare:8.0f} msg/s  ({t_bare * 1000:.0f} ms)")
    print(f"klezguard check (in-process):  {n / t_check:8.0f} msg/s  ({t_check * 1000:.0f} ms)")
    print(f"ratio check / bare parse:      {t_check / t_bare:8.2f}x  (target <= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
