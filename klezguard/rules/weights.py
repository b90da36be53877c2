"""How much each finding counts, kept apart from how it is detected.

Points add up per category under a cap, and all low-severity findings together under a smaller cap
(below the suspicious mark), so ten small quirks never outweigh one real spoof.
"""

POINTS = {"low": 1.0, "medium": 3.5, "high": 7.0}

# Per-rule exceptions to POINTS, by severity. Keep this short: most rules use the defaults.
RULE_POINTS: dict[str, dict[str, float]] = {}

CATEGORY_CAP = {"sender": 10.0, "attachment": 12.0, "link": 7.0, "backscatter": 7.0}
LOW_CAP = 2.0  # all low findings of a message together

SUSPICIOUS_AT = 3.0
THREAT_AT = 7.0


def points(rule_id: str, severity: str) -> float:
    return RULE_POINTS.get(rule_id, {}).get(severity, POINTS[severity])
