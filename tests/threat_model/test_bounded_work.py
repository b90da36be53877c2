"""Threat 9: no message can make judging hang, crash or eat memory (docs/threat-model.md).

Every hostile message of tests/hostile.py (bombs with honest and lying sizes, 100k parts and
attachments, deep nesting, header floods, www. and <!-- floods, a 4,000-label domain, ...) is judged
whole and as the IMAP scanner sees it, and previewed, in one process limited to 2 GB of address space:
a regression fails here, not the machine. Each over a limit must say so in a finding. The time and
memory of each are measured by benchmarks/bench_hostile.py, not asserted here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import CASES

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {  # the finding each over-the-limit message must get
    "zip bzip2 bomb, honest sizes": "attachment.archive_bomb",
    "zip bzip2 bomb, lying sizes": "attachment.archive_bomb",
    "zip lzma bomb, honest sizes": "attachment.archive_bomb",
    "zip lzma bomb, lying sizes": "attachment.archive_bomb",
    "zip deflate bomb": "attachment.archive_bomb",
    "zip nested 30 deep": "attachment.archive_bomb",
    "gzip bomb": "attachment.archive_bomb",
    "xz bomb": "attachment.archive_bomb",
    "100k parts": "attachment.too_complex",
    "100k attachments": "attachment.too_complex",
    "5,000 nested multiparts": "attachment.too_complex",
    "100k header lines": "attachment.too_complex",
}
PROBE = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
sys.path.insert(0, sys.argv[1])
from klezguard.core.context import Context
from klezguard.core.parse import from_bytes, from_partial, partial_view
from klezguard.core.preview import preview_text
from klezguard.rules.engine import evaluate
from tests.hostile import CASES
ctx = Context.build(own_domains=["example.com"])
for name, make in CASES.items():
    raw = make()
    whole = evaluate(from_bytes(raw), ctx, strict=True)
    head, structure, fetched = partial_view(raw)
    partial = evaluate(from_partial(head, structure, fetched, len(raw)), ctx, strict=True)
    preview_text(from_bytes(raw))
    print(json.dumps({"name": name, "whole": sorted({f.rule for f in whole.findings}),
                      "partial": sorted({f.rule for f in partial.findings})}), flush=True)
"""


@pytest.fixture(scope="module")
def judged() -> dict[str, dict]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    results = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    missing = [name for name in CASES if name not in results]
    assert not missing, f"stopped at {missing[0]!r}: {done.stderr[-3000:]}"
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_every_hostile_message_is_judged_and_says_what_was_too_much(judged, name):
    expected = EXPECTED.get(name)
    if expected:
        assert expected in judged[name]["whole"], judged[name]
        assert expected in judged[name]["partial"], judged[name]
