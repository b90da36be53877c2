"""Scoring: points add up per category under caps, so many small quirks never make a threat."""

from klezguard.rules import weights
from klezguard.rules.engine import Finding, fill, total_score, verdict_for


def finding(category: str, severity: str, rule: str = "x") -> Finding:
    return Finding(rule, category, severity, weights.POINTS[severity], "t", "e", "a", {})


def test_ten_low_quirks_stay_clean():
    lows = [finding("sender", "low", f"sender.q{i}") for i in range(10)]
    assert total_score(lows) == weights.LOW_CAP
    assert verdict_for(total_score(lows)) == "clean"


def test_one_real_spoof_is_flagged_and_high_is_a_threat():
    assert verdict_for(total_score([finding("sender", "medium")])) == "suspicious"
    assert verdict_for(total_score([finding("attachment", "high")])) == "threat"


def test_low_findings_of_several_categories_stay_clean_together():
    lows = [finding("sender", "low", "sender.a"), finding("attachment", "low", "attachment.b"),
            finding("link", "low", "link.c")]
    assert verdict_for(total_score(lows)) == "clean"


def test_category_cap_limits_one_category():
    many = [finding("link", "high", f"link.r{i}") for i in range(5)]
    assert total_score(many) == weights.CATEGORY_CAP["link"]


def test_categories_add_up():
    both = [finding("sender", "medium"), finding("link", "medium")]
    assert total_score(both) == 2 * weights.POINTS["medium"]


def test_template_with_missing_fact_does_not_raise():
    assert fill("From {who} to {whom}", {"who": "a"}) == "From a to ?"
