"""The demo mailbox's expected verdicts are data (klezguard/resources/demo/expected.jsonl: per message the
verdict, the rules that must fire, the rules that must not), and this test holds the engine to them."""

import json
from importlib import resources

import pytest

from klezguard.application.check import check_files, files_context
from klezguard.rules.registry import all_rules

DEMO = resources.files("klezguard.resources").joinpath("demo")
EXPECTED = [json.loads(line) for line in DEMO.joinpath("expected.jsonl").read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def results():
    errors: list = []
    ctx = files_context([str(DEMO / "sent")], ["brightwater-bakery.com"], ["mx.mailhost-demo.net"], errors)
    assert errors == []
    out = {}
    for item in check_files([str(DEMO / "inbox")], ctx):
        source, _msg, result = item
        out["inbox/" + source.rsplit("/", 1)[-1]] = result
    return out


def test_every_demo_message_has_one_expectation_and_known_rule_ids():
    files = sorted(p.name for p in DEMO.joinpath("inbox").iterdir() if p.name.endswith(".eml"))
    assert sorted(e["file"].removeprefix("inbox/") for e in EXPECTED) == files
    ids = set(all_rules())
    assert {r for e in EXPECTED for r in e["must"] + e["must_not"]} <= ids


@pytest.mark.parametrize("expected", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_demo_message_gets_its_expected_verdict_and_rules(results, expected):
    result = results[expected["file"]]
    fired = {f.rule for f in result.findings if f.severity != "low"}
    assert result.verdict == expected["verdict"]
    assert set(expected["must"]) <= fired
    assert not set(expected["must_not"]) & {f.rule for f in result.findings}
