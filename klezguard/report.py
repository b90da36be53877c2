"""Turns results into what people and scripts read: a plain report, or JSON Lines."""

import json
import textwrap
from typing import Protocol

from klezguard.core.visible import terminal_safe
from klezguard.i18n import _
from klezguard.rules.engine import Result

VERDICT_WORDS = {"clean": "OK", "suspicious": "SUSPICIOUS", "threat": "DANGEROUS", "unchecked": "NOT CHECKED"}


class Headline(Protocol):
    """What a report shows of a message: a Message, or the summary a scan hands over."""

    @property
    def message_id(self) -> str: ...

    @property
    def from_display(self) -> str: ...

    @property
    def subject(self) -> str: ...


def as_json(source: str, msg: Headline, result: Result, note: str = "") -> str:
    """One JSON line. Controls that json.dumps keeps raw (C1, direction overrides) are written as \\uXXXX,
    which means the same to a JSON reader and nothing to a terminal."""
    return terminal_safe(json.dumps(
        {
            "source": source,
            "message_id": msg.message_id,
            "from": msg.from_display,
            "subject": msg.subject,
            "verdict": result.verdict,
            "score": result.score,
            "findings": [f.to_dict() for f in result.findings],
            **({"reason": note} if note else {}),
        },
        ensure_ascii=False,
        default=str,
    ))


def _evidence_lines(evidence: dict[str, object]) -> list[str]:
    lines = []
    for key, value in evidence.items():
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            lines.append(f"{key}: {v}")
    return lines


def as_text(source: str, msg: Headline, result: Result, width: int = 100, note: str = "") -> str:
    """A readable block for one message: verdict first, then each finding with advice and evidence."""
    return format_text(source, msg.subject, msg.from_display, result.verdict,
                       [f.to_dict() for f in result.findings], width, note)


def format_text(source: str, subject: str, sender: str, verdict: str, findings: list[dict],
                width: int = 100, note: str = "") -> str:
    """The same block from stored values (the desktop app's "Copy report"). Each value stays on its own
    line with its controls made visible, so no subject, file name or header can fake a line of the report."""
    def one(text: object) -> str:
        return terminal_safe(str(text), keep="")

    head = f"[{_(VERDICT_WORDS.get(verdict, verdict))}] {one(subject) or _('(no subject)')}"
    lines = [head, f"  {_('From')}: {one(sender) or '?'}",
             f"  {_('File') if '://' not in source else _('Where')}: {one(source)}"]
    scored = [f for f in findings if f.get("score", 0) > 0]
    if verdict == "unchecked":
        lines.append("  " + _("KlezGuard could not check it: {why}").format(why=one(note) or "?"))
    elif not scored:
        lines.append("  " + _("Nothing suspicious found."))
    wrap = textwrap.TextWrapper(width=width, initial_indent="      ", subsequent_indent="      ")
    for f in scored:
        lines.append(f"  * {one(f['title'])}")
        lines.extend(wrap.wrap(one(f["explanation"])))
        lines.extend(wrap.wrap(_("What to do:") + " " + one(f["advice"])))
        for ev in _evidence_lines(f.get("evidence", {})):
            lines.append("        | " + one(ev))
    for f in findings:
        if f.get("score", 0) <= 0:
            lines.append(f"  - {_('Note')}: {one(f['title'])}")
    return "\n".join(lines)


def summary(counts: dict[str, int], errors: int) -> str:
    total = sum(counts.values())
    parts = [
        _("{n} messages checked").format(n=total),
        _("{n} dangerous").format(n=counts.get("threat", 0)),
        _("{n} suspicious").format(n=counts.get("suspicious", 0)),
        _("{n} OK").format(n=counts.get("clean", 0)),
    ]
    text = ", ".join(parts) + "."
    if errors:
        text += " " + _("{n} could not be read (see above).").format(n=errors)
    return text
