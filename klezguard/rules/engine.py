"""Runs every rule on a message and adds the findings up into a verdict."""

import hashlib
import logging
import string
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from klezguard.core.context import Context
from klezguard.core.message import Message
from klezguard.i18n import _
from klezguard.rules import trust, weights
from klezguard.rules.registry import REGISTRY, Hit, Rule, all_rules

log = logging.getLogger(__name__)

VERDICTS = ("clean", "suspicious", "threat")
MAX_HITS = 10  # findings of one rule in one message; more only says "and more like this"
MORE_NOTE = "There are more of the same kind. Only the first {n} are listed."


@dataclass
class Finding:
    rule: str
    category: str
    severity: str
    score: float
    title: str
    explanation: str
    advice: str
    evidence: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "score": self.score,
            "title": self.title,
            "explanation": self.explanation,
            "advice": self.advice,
            "evidence": self.evidence,
        }


@dataclass
class Result:
    verdict: str
    score: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Suspicious or a threat (a message that could not be checked is neither; it is listed as such)."""
        return self.verdict in ("suspicious", "threat")


class _Facts(dict[str, str]):
    """Template values; a missing one shows as '?' instead of raising."""

    def __missing__(self, key: str) -> str:
        return "?"


_formatter = string.Formatter()


def fill(template: str, facts: dict[str, str]) -> str:
    return _formatter.vformat(_(template), (), _Facts(facts))


def finding_from(rule: Rule, hit: Hit) -> Finding:
    severity = hit.severity or rule.severity
    explanation = fill(rule.explanation, hit.facts)
    extra = [fill(rule.notes[n], hit.facts) for n in hit.notes if n in rule.notes]
    if extra:
        explanation = " ".join([explanation, *extra])
    return Finding(
        rule=rule.id,
        category=rule.category,
        severity=severity,
        score=weights.points(rule.id, severity),
        title=fill(rule.title, hit.facts),
        explanation=explanation,
        advice=fill(next((rule.advice_by_note[n] for n in hit.notes if n in rule.advice_by_note),
                         rule.advice_by_severity.get(severity, rule.advice)), hit.facts),
        evidence=hit.evidence,
    )


def total_score(findings: list[Finding]) -> float:
    """Medium and high points add up per category under its cap; all low findings together count at most
    LOW_CAP, below the suspicious mark, so small quirks only ever add context."""
    total = 0.0
    for category in {f.category for f in findings}:
        rest = sum(f.score for f in findings if f.category == category and f.severity != "low")
        total += min(weights.CATEGORY_CAP.get(category, 10.0), rest)
    total += min(weights.LOW_CAP, sum(f.score for f in findings if f.severity == "low"))
    return round(total, 1)


def verdict_for(score: float) -> str:
    if score >= weights.THREAT_AT:
        return "threat"
    if score >= weights.SUSPICIOUS_AT:
        return "suspicious"
    return "clean"


WARM_UP_MAIL = (
    b"From: PayPal Support <service@paypa1-secure.example>\nTo: a@b.example\nSubject: x\n"
    b"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
    b'<a href="http://198.51.100.1/x">https://www.paypal.com/</a><form><input type="password"></form>\n'
)


def prepare() -> None:
    """Loads every rule, its lazy libraries and tables now. The desktop app calls this at start, so that a
    first scan on a worker thread does not hold the interpreter for long imports while the window waits."""
    import importlib

    from klezguard.core.parse import from_bytes

    all_rules()
    for name in ("oletools.olevba", "oletools.mraptor", "py7zr", "rarfile", "tnefparse", "pycdlib"):
        try:
            importlib.import_module(name)
        except ImportError:
            log.info("optional library %s is missing", name)
    evaluate(from_bytes(WARM_UP_MAIL), Context(own_domains=frozenset({"b.example"})))


_ENGINE: str | None = None
_JUDGING_LIBRARIES = ("publicsuffixlist", "filetype", "confusables", "oletools", "rarfile", "py7zr", "idna",
                      "tnefparse", "pycdlib")


def engine_digest(package: Path) -> str:
    """A digest of what judges mail: the rules' and the analysis' code, the data files, the weights and the
    versions of the libraries whose tables the rules read."""
    digest = hashlib.sha256()
    for folder in ("rules", "core", "data"):
        for path in sorted((package / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".json", ".txt") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(package).as_posix().encode())
                digest.update(path.read_bytes())
    for library in _JUDGING_LIBRARIES:  # their tables (suffix list, confusables, file types) judge too
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=missing".encode())
    digest.update(repr((weights.POINTS, weights.RULE_POINTS, weights.CATEGORY_CAP, weights.LOW_CAP,
                        weights.SUSPICIOUS_AT, weights.THREAT_AT)).encode())
    return digest.hexdigest()[:12]


def engine_version() -> str:
    """Changes whenever a rule's code, the message analysis it reads, a data file or a weight changes, so
    stored verdicts know they are stale."""
    global _ENGINE
    if _ENGINE is None:
        from klezguard import __version__

        _ENGINE = f"{__version__}+{engine_digest(Path(__file__).resolve().parents[1])}"
    return _ENGINE


def main_reason(result: Result) -> str:
    """The title of the finding that weighs most: the one line a list shows."""
    scored = [f for f in result.findings if f.score > 0]
    return scored[0].title if scored else ""


def _context_only(rule_id: str) -> bool:
    rule = REGISTRY.get(rule_id)
    return rule is not None and rule.context_only


def evaluate(msg: Message, ctx: Context, rules: dict[str, Rule] | None = None, strict: bool = False) -> Result:
    """Judges one message. A rule that crashes is logged and skipped, unless `strict` (tests)."""
    findings: list[Finding] = []
    for rule in (rules or all_rules()).values():
        try:
            hits: list[Hit] = []
            for hit in rule.check(msg, ctx):  # at most MAX_HITS + 1, the last only to say there are more
                hits.append(hit)
                if len(hits) > MAX_HITS:
                    break
            if not hits:  # most rules find nothing in most mail
                continue
            found = [finding_from(rule, hit) for hit in hits[:MAX_HITS]]
            if len(hits) > MAX_HITS:  # a mail with thousands of bad files: the first few say it all
                found[-1].evidence = {**found[-1].evidence, "more": MORE_NOTE.format(n=MAX_HITS)}
            findings.extend(found)
        except Exception:  # noqa: BLE001 - one broken rule must not hide the others' findings
            if strict:
                raise
            log.exception("rule %s failed", rule.id)
    if findings and trust.is_trusted(msg, ctx):
        findings = [f for f in findings if f.category not in trust.TRUSTED_CATEGORIES]
    if findings and not any(f.severity != "low" and not _context_only(f.rule) for f in findings):
        findings = [f for f in findings if not _context_only(f.rule)]
    order = {c: i for i, c in enumerate(("attachment", "sender", "link", "backscatter"))}
    findings.sort(key=lambda f: (-f.score, order.get(f.category, 9), f.rule))
    score = total_score(findings)
    return Result(verdict_for(score), score, findings)
