"""Rules are small registered units: an id, a category, a default severity, plain-language text and a
check. Weights live in `weights.py`, apart from detection.

A check yields `Hit`s holding the concrete values; the rule's text templates are filled with them,
so every finding names what was actually seen.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from klezguard.core.context import Context
from klezguard.core.message import Message

Severity = Literal["low", "medium", "high"]
CATEGORIES = ("sender", "attachment", "link", "backscatter")
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")


@dataclass
class Hit:
    """One thing a rule found.

    facts: values for the rule's text templates. evidence: what a helper would want to check (header
    values, file names with hidden characters made visible). notes: keys of the rule's extra sentences
    that apply (an innocent reading, or why it is more serious here). severity: None = the rule's default.
    """

    facts: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    severity: Severity | None = None


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement `check`."""

    id: ClassVar[str]
    category: ClassVar[str]
    severity: ClassVar[Severity]
    title: ClassVar[str]
    explanation: ClassVar[str]
    advice: ClassVar[str]
    # Advice for one severity where the default would say too much or too little (a low finding
    # should not tell the user to treat the mail as fake). Missing severities use `advice`.
    advice_by_severity: ClassVar[dict[str, str]] = {}
    notes: ClassVar[dict[str, str]] = {}
    # Advice that fits one trick better than the rule's own (a challenge's confirm link, a bank change):
    # the first of the hit's notes found here wins over `advice` and `advice_by_severity`.
    advice_by_note: ClassVar[dict[str, str]] = {}
    # A finding that only adds weight to others ("you never heard from this sender"): the engine drops it
    # when no medium or high finding stands beside it, so it can never make a verdict on its own.
    context_only: ClassVar[bool] = False

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        raise NotImplementedError


REGISTRY: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: adds one instance of the rule to the registry; ids are unique forever."""
    rule = cls()
    if rule.id in REGISTRY:
        raise ValueError(f"duplicate rule id {rule.id}")
    if rule.category not in CATEGORIES:
        raise ValueError(f"{rule.id}: unknown category {rule.category}")
    if rule.severity not in SEVERITIES:
        raise ValueError(f"{rule.id}: unknown severity {rule.severity}")
    prefix = rule.id.split(".", 1)[0]
    if prefix != rule.category:
        raise ValueError(f"{rule.id}: id must start with its category '{rule.category}.'")
    REGISTRY[rule.id] = rule
    return cls


def all_rules() -> dict[str, Rule]:
    """Every registered rule (importing the rule modules registers them)."""
    import klezguard.rules.catalog  # noqa: F401 - importing the rule modules registers them

    return REGISTRY
