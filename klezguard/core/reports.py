"""Machine reports: mail that servers send to whoever runs a domain's mail, holding only data.

A DMARC aggregate report (RFC 7489 section 7.2.1) or an SMTP TLS report (RFC 8460) asks nobody to click,
pay or open anything: its one attachment is XML or JSON for a report tool. Its sender often cannot be
confirmed (reports are relayed, or sent by a provider's bulk system), and a spam filter may score it
high, yet a forged one could do no harm. So the sender checks say so in a low note instead of an alarm,
as long as the report carries nothing but report data.
"""

import re

from klezguard.core import links
from klezguard.core.domains import org_domain
from klezguard.core.message import Message, Part

DMARC = "DMARC report"
TLS = "TLS report"

# RFC 7489 7.2.1.1: "Report Domain: <domain> Submitter: <submitter> [Report-ID: <id>]"; RFC 8460 uses the
# same words. Reporters vary the case and some wrap it in brackets.
_SUBJECT = re.compile(r"^\W*report[ _-]?domain:\s*\S+\s+submitter:\s*\S+", re.I)
# receiver "!" policy-domain "!" begin "!" end ["!" unique] ".xml" [".gz" | ".zip"]; TLS: with ".json"
_FILE = re.compile(r"^[^!/\\]+![^!/\\]+!\d{9,11}!\d{9,11}(?:![^!/\\]*)?(?:\.(xml|json))?(?:\.gz|\.zip)?$", re.I)
_TLS_TYPES = frozenset({"application/tlsrpt+gzip", "application/tlsrpt+json"})
_DATA_TYPES = frozenset({
    "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
    "application/xml", "text/xml", "application/octet-stream", "application/json",
}) | _TLS_TYPES


def _report_file(part: Part) -> str:
    """The report kind this part holds, or ''."""
    if part.content_type in _TLS_TYPES:
        return TLS
    m = _FILE.match(part.filename or "")
    if m and part.content_type in _DATA_TYPES:
        return TLS if (m.group(1) or "").lower() == "json" else DMARC
    return ""


def machine_report(msg: Message) -> str:
    """DMARC or TLS when the message is such a report and carries nothing else to open; '' otherwise."""
    report_type = msg.content_params.get("report-type", "").lower() if msg.is_multipart_report else ""
    files = [p for p in msg.parts if p.is_attachment or p.content_type in _DATA_TYPES]
    if not files:
        return ""
    kinds = [_report_file(p) for p in files]
    if not all(kinds):
        return ""  # anything besides the report data is judged as usual
    sender_org = org_domain(msg.from_addr.domain) if msg.from_addr else ""
    if any(link.host and org_domain(link.host.lower()) != sender_org for link in links.scan(msg).links):
        return ""  # a "report" with a link to somewhere else asks the reader to go there
    if report_type == "tlsrpt" or _SUBJECT.match(msg.subject) or len(files) == 1:
        return kinds[0]
    return ""
