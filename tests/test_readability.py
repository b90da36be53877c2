"""Every rule's text is written for a shop owner: reading grade 8 or below."""

import re

import pytest
import textstat

from klezguard.rules.registry import all_rules

MAX_GRADE = 8.0
_PLACEHOLDER = re.compile(r"\{[^{}]+\}")


def texts():
    for rule in all_rules().values():
        yield f"{rule.id}:title", rule.title
        yield f"{rule.id}:explanation", rule.explanation
        yield f"{rule.id}:advice", rule.advice
        for key, note in rule.notes.items():
            yield f"{rule.id}:note:{key}", note
        for severity, advice in getattr(rule, "advice_by_severity", {}).items():
            yield f"{rule.id}:advice:{severity}", advice


def test_there_are_texts_to_check():
    assert len(list(texts())) > 40


@pytest.mark.parametrize(("where", "text"), list(texts()), ids=lambda v: v if ":" in str(v) else "")
def test_reading_grade(where, text):
    plain = _PLACEHOLDER.sub("it", text)  # a value counts as one short word
    assert plain.strip(), f"{where} is empty"
    if len(plain.split()) < 6:
        return  # a title or short phrase: grade formulas mean nothing on three words
    grade = textstat.flesch_kincaid_grade(plain)
    assert grade <= MAX_GRADE, f"{where} reads at grade {grade}: {plain!r}"


def test_every_rule_is_complete():
    for rule in all_rules().values():
        assert rule.title and rule.explanation and rule.advice, rule.id
        assert len(rule.title) <= 80, f"{rule.id}: title should be one short line"
        assert rule.__doc__, f"{rule.id}: say why the rule exists"


def domain_texts():
    from klezguard.core.domainadvice import all_texts

    return list(all_texts().items())


@pytest.mark.parametrize(("where", "text"), domain_texts(), ids=lambda v: v if ":" in str(v) else "")
def test_domain_check_reading_grade(where, text):
    """The domain check's verdicts, problems, notes and steps (issue 15), the providers' steps too."""
    test_reading_grade(where, text)
