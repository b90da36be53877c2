"""Authentication-Results (RFC 8601), read only where the user's own provider wrote them.

Anyone can put an Authentication-Results header into a message they send. Only the headers that the
receiving provider added on top are worth anything, so:

* with configured authserv-ids, the first run of headers carrying one of those ids counts, and any
  further header with a trusted id lower down is a forgery to ignore;
* without configuration, the provider is the host named in the topmost Received line, and only
  headers above the point where the mail entered that provider, written by it, count.
"""

import re
from dataclasses import dataclass, field

from klezguard.core.domains import org_domain
from klezguard.core.message import Message

_COMMENT = re.compile(r"\([^()]*\)")
_BY_HOST = re.compile(r"\bby\s+([A-Za-z0-9._-]+)", re.I)
_TOKEN = re.compile(r'([A-Za-z0-9._/-]+)\s*=\s*("[^"]*"|[^\s;]+)')


@dataclass
class MethodResult:
    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """The domain the result is about (DKIM d=, SPF mailfrom/helo, DMARC header.from)."""
        for key in ("header.d", "header.from", "smtp.mailfrom", "header.i", "smtp.helo", "policy.from"):
            value = self.props.get(key, "")
            if value:
                return value.rpartition("@")[2].strip("<>\"' ").lower()
        return ""


@dataclass
class AuthResults:
    """What the user's provider concluded. `found` is False when no trustworthy header exists."""

    found: bool = False
    authserv_id: str = ""
    results: list[MethodResult] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # A-R headers we did not trust

    def of(self, method: str) -> list[MethodResult]:
        return [r for r in self.results if r.method == method]

    def passed(self, method: str) -> list[str]:
        return [r.domain for r in self.of(method) if r.result == "pass"]

    @property
    def dmarc(self) -> str:
        """'pass', 'fail', 'none', ... or '' when the provider did not check DMARC."""
        found = self.of("dmarc")
        return found[0].result if found else ""

    def aligned_pass(self, domain: str) -> bool:
        """True when SPF or DKIM passed for the same organisation as `domain` (relaxed alignment)."""
        org = org_domain(domain)
        if not org:
            return False
        if self.dmarc == "pass":
            dm = self.of("dmarc")[0].domain
            if not dm or org_domain(dm) == org:
                return True
        return any(org_domain(d) == org for d in self.passed("dkim") + self.passed("spf") if d)

    def checked(self, method: str) -> bool:
        return bool(self.of(method))


def parse_header(value: str) -> tuple[str, list[MethodResult]]:
    """Splits one Authentication-Results value into its authserv-id and method results."""
    text = value
    for _ in range(3):  # nested comments
        text = _COMMENT.sub(" ", text)
    pieces = [p.strip() for p in text.split(";")]
    if not pieces:
        return "", []
    head = pieces[0]
    if "=" in head.split(" ", 1)[0]:
        # Microsoft 365 writes no authserv-id: the first piece is already a result.
        authserv, rest = "", pieces
    else:
        authserv, rest = (head.split()[0].lower() if head.split() else ""), pieces[1:]
    results = []
    for piece in rest:
        tokens = _TOKEN.findall(piece)
        if not tokens:
            continue
        method, result = tokens[0]
        method = method.split("/", 1)[0].lower()
        if method in ("none", "reason"):
            continue
        props = {k.lower(): v.strip('"') for k, v in tokens[1:]}
        results.append(MethodResult(method, result.strip('"').lower(), props))
    return authserv, results


def _provider_zone(msg: Message) -> tuple[str, int]:
    """The provider's organisation (from the topmost Received 'by' host) and the header index where
    headers written before the mail reached the provider begin."""
    provider = ""
    for index, (name, value) in enumerate(msg.headers):
        if name.lower() != "received":
            continue
        match = _BY_HOST.search(str(value))
        host = match.group(1).lower().rstrip(".") if match else ""
        if not host or "." not in host:
            continue
        if not provider:
            provider = org_domain(host)
            continue
        if org_domain(host) != provider:
            return provider, index
    return provider, len(msg.headers)


def read(msg: Message, trusted_ids: frozenset[str]) -> AuthResults:
    """The provider's Authentication-Results of `msg` (see the module docstring for whom we trust)."""
    cache = msg.__dict__.setdefault("_auth_cache", {})
    if trusted_ids in cache:
        return cache[trusted_ids]
    all_headers = [(i, str(v)) for i, (n, v) in enumerate(msg.headers) if n.lower() == "authentication-results"]
    out = AuthResults()
    if trusted_ids:
        state = "before"  # before, inside or after the provider's run of headers
        for _, value in all_headers:
            authserv, results = parse_header(value)
            if state != "after" and authserv in trusted_ids:
                state = "inside"
                out.found = True
                out.authserv_id = authserv
                out.results.extend(results)
                out.headers.append(value)
            else:
                if state == "inside":
                    state = "after"  # lower down, even the provider's id is sender-written
                out.ignored.append(value)
    else:
        provider, boundary = _provider_zone(msg)
        for index, value in all_headers:
            authserv, results = parse_header(value)
            by_provider = provider and (authserv == "" or org_domain(authserv) == provider)
            if index < boundary and by_provider and (not out.headers or out.authserv_id == authserv):
                out.found = True
                out.authserv_id = authserv
                out.results.extend(results)
                out.headers.append(value)
            else:
                out.ignored.append(value)
    cache[trusted_ids] = out
    return out
