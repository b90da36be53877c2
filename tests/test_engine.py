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


def test_the_engine_version_follows_code_data_and_weights(tmp_path):
    import shutil
    from pathlib import Path

    from klezguard.rules.engine import engine_digest, engine_version

    package = Path(__file__).resolve().parents[1] / "klezguard"
    copy = tmp_path / "klezguard"
    for folder in ("rules", "core", "data"):
        shutil.copytree(package / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    first = engine_digest(copy)
    assert engine_version().endswith(first)
    seen = {first}
    for changed, text in (("data/freemail.txt", "\nnew-free-mail.example\n"),
                          ("rules/attachments.py", "\n# a changed rule\n"),
                          ("rules/weights.py", "\nTHREAT_AT_NOTE = 1\n"),
                          ("core/parse.py", "\n# changed analysis\n")):
        with (copy / changed).open("a") as file:
            file.write(text)
        seen.add(engine_digest(copy))
    assert len(seen) == 5  # each change made a new version
