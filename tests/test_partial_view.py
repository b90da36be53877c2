"""The engine gives the same findings on a whole message and on the partial view the IMAP scanner
fetches (header block, MIME structure, first bytes of each part, archives whole up to a cap).

Runs on the project's own messages and, where the labelled corpus sits beside the repository
(../shared/corpus, as on the developers' machines and in CI), on every message of it too.
"""

from pathlib import Path

import pytest

from klezguard.core.parse import from_bytes, from_partial, partial_view
from klezguard.rules.engine import evaluate
from tests.mailfactory import context

ROOT = Path(__file__).resolve().parent.parent
OWN = (sorted((ROOT / "klezguard" / "resources" / "demo").rglob("*.eml"))
       + sorted((ROOT / "tests" / "messages").rglob("*.eml"))
       + sorted((ROOT / "eval" / "written-apart").rglob("*.eml")))
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_FILES = sorted(CORPUS.rglob("*.eml")) if CORPUS.is_dir() else []
CTX = context(own_domains=("harbourline-joinery.co.uk", "brightwater-bakery.com"),
              trusted=("mx1.northmail.net", "mx.mailhost-demo.net"))


def findings(msg):
    return sorted((f.rule, f.severity, f.title) for f in evaluate(msg, CTX, strict=True).findings)


def test_own_messages_exist():
    assert len(OWN) >= 20


@pytest.mark.parametrize("path", OWN + CORPUS_FILES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_same_findings_on_partial_view(path):
    raw = path.read_bytes()
    head, structure, fetched = partial_view(raw)
    assert findings(from_bytes(raw)) == findings(from_partial(head, structure, fetched, len(raw)))
