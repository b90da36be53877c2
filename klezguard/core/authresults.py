"""Authentication-Results (RFC 8601), read only where the user's own provider wrote them.

Anyone can put an Authentication-Results header into a message they send. Only the headers that the
receiving provider added on top are worth anything. Every server that handles a message puts its
headers on top of the ones it received, so the provider's own headers sit above the Received line
where the message entered the provider (the "entry" line: written by a provider host, naming a host
outside the provider as the one it came from). Everything below that line came with the message.

* with configured authserv-ids, the first run of headers carrying one of those ids in the provider's
  part of the header block counts; a header with a trusted id lower down is a forgery to ignore;
* without configuration, the provider is the host named in the topmost Received line, and only its
  headers above the entry line count.

`provider_written()` answers the same question for any header (spam verdicts, for example).
`sent_from_computer()` tells when the provider's entry line shows the message arriving straight from a
home or office computer rather than from a mail server. `arc_origin()` reads what the first forwarder
of a forwarded message found, once the provider has confirmed the forwarding chain (ARC).
"""

import functools
import ipaddress
import re
from dataclasses import dataclass, field

from klezguard.core.domains import is_ip, org_domain
from klezguard.core.headers import to_text, unfold
from klezguard.core.message import Message

_BY_HOST = re.compile(r"\bby\s+([A-Za-z0-9._-]+)", re.I)
_FROM_PART = re.compile(r"^\s*from\s+(.*?)(?:\bby\s|$)", re.I | re.S)
_FROM_HELO = re.compile(r"^\s*from\s+\[?([A-Za-z0-9._:-]+)", re.I)
_IP_IN_FROM = re.compile(r"[\[(]\s*(?:IPv6:)?([0-9A-Fa-f.:]{3,45})\s*[\])]")
_RDNS_IN_FROM = re.compile(r"\(([A-Za-z0-9._-]+\.[A-Za-z]{2,})[\s\[)]")
_TOKEN = re.compile(r'([A-Za-z0-9._/-]+)\s*=\s*("[^"]*"|[^\s;]+)')
_POLICY = re.compile(r"\bp\s*=\s*([A-Za-z]+)", re.I)
_DISPOSITION = re.compile(r"\bdis\s*=\s*([A-Za-z]+)", re.I)

# Operators whose mail systems span several registrable domains (one provider, many names).
_SAME_OPERATOR = {
    "office365.com": "outlook.com",
    "office365.us": "outlook.com",
    "outlook.cn": "outlook.com",
    "hotmail.com": "outlook.com",
    "microsoft.com": "outlook.com",
    "exchangelabs.com": "outlook.com",
    "office.com": "outlook.com",
    "googlemail.com": "google.com",
    "gmail.com": "google.com",
    "1e100.net": "google.com",
    "yahoodns.net": "yahoo.com",
    "yahoo.net": "yahoo.com",
}
MICROSOFT = "outlook.com"


def operator(domain: str) -> str:
    """The organisation running a mail host ('x.protection.outlook.com' and 'y.office365.com' -> 'outlook.com')."""
    org = org_domain(domain)
    return _SAME_OPERATOR.get(org, org)


@dataclass
class MethodResult:
    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)
    comment: str = ""  # the text of the comments, e.g. "p=REJECT sp=REJECT dis=QUARANTINE"

    @property
    def domain(self) -> str:
        """The domain the result is about (DKIM d=, SPF mailfrom/helo, DMARC header.from)."""
        for key in ("header.d", "header.from", "smtp.mailfrom", "header.i", "smtp.mail", "smtp.helo", "policy.from"):
            value = self.props.get(key, "")
            if value and value.lower() != "none":
                return value.rpartition("@")[2].strip("<>\"' ").lower().rstrip(".")
        return ""

    @property
    def policy(self) -> str:
        """For DMARC: the published policy ('reject', 'quarantine', 'none') or '' when not recorded."""
        match = _POLICY.search(self.comment)
        if match:
            return match.group(1).lower()
        value = (self.props.get("policy.dmarc") or self.props.get("action") or "").lower()
        # Microsoft writes action=oreject / pct.quarantine / none.
        for word in ("reject", "quarantine", "none"):
            if word in value:
                return word
        return ""

    @property
    def disposition(self) -> str:
        """For DMARC: what the provider did ('none', 'quarantine', 'reject'), '' when not recorded."""
        match = _DISPOSITION.search(self.comment)
        return match.group(1).lower() if match else ""


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

    def result(self, method: str) -> str:
        """The first result of a method ('pass', 'fail', 'softfail', 'none', ...) or '' when absent."""
        found = self.of(method)
        return found[0].result if found else ""

    @property
    def dmarc(self) -> str:
        """'pass', 'fail', 'none', ... or '' when the provider did not check DMARC."""
        return self.result("dmarc")

    @property
    def dmarc_policy(self) -> str:
        found = self.of("dmarc")
        return found[0].policy if found else ""

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


_AR_CHUNK = re.compile(r'[^();"\\]+|\\.|"(?:[^"\\]|\\.)*"?|[();]|\\', re.S)


def _split_pieces(value: str) -> list[tuple[str, str]]:
    """Splits at ';' outside comments and quotes: [(text without comments, comment text)]."""
    if "(" not in value and '"' not in value:
        return [(p.strip(), "") for p in value.split(";")]
    pieces: list[tuple[str, str]] = []
    text: list[str] = []
    comment: list[str] = []
    depth = 0
    for chunk in _AR_CHUNK.findall(value):
        if chunk == "(":
            depth += 1
            comment.append(" ")
        elif chunk == ")":
            depth = max(0, depth - 1)
        elif depth:
            comment.append(chunk[1:] if chunk.startswith("\\") and len(chunk) == 2 else chunk)
        elif chunk == ";":
            pieces.append(("".join(text).strip(), " ".join("".join(comment).split())))
            text, comment = [], []
        else:
            text.append(chunk)
    pieces.append(("".join(text).strip(), " ".join("".join(comment).split())))
    return pieces


def parse_header(value: str) -> tuple[str, list[MethodResult]]:
    """Splits one Authentication-Results value into its authserv-id and method results."""
    pieces = _split_pieces(value)
    if not pieces:
        return "", []
    head = pieces[0][0]
    first_word = head.split(" ", 1)[0] if head else ""
    if "=" in first_word:
        # Microsoft 365 writes no authserv-id: the first piece is already a result.
        authserv, rest = "", pieces
    else:
        authserv, rest = (head.split()[0].lower() if head.split() else ""), pieces[1:]
    results = []
    for piece, comment in rest:
        tokens = _TOKEN.findall(piece)
        if not tokens:
            continue
        method, result = tokens[0]
        method = method.split("/", 1)[0].lower()
        if method in ("none", "reason"):
            continue
        props = {k.lower(): v.strip('"') for k, v in tokens[1:]}
        results.append(MethodResult(method, result.strip('"').lower(), props, comment))
    return authserv, results


# --- where the provider's headers end ------------------------------------------------------------


# Addresses only used inside networks (RFC 1918, shared address space, unique local). Not Python's
# is_private, which also counts the documentation ranges that examples and tests use as public hosts.
_INTERNAL_NETS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


@functools.lru_cache(maxsize=4096)
def _ip_kind(text: str) -> int:
    """0: not an IP address, 1: an address used only inside networks, 2: a public address."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return 0
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return 1
    return 1 if any(ip.version == net.version and ip in net for net in _INTERNAL_NETS) else 2


def _came_from_outside(received: str, orgs: set[str]) -> bool:
    """True when a Received line (written by a provider host) names a sending host outside the provider."""
    match = _FROM_PART.match(received)
    if not match:
        return False  # "Received: by ..." only: a local hop
    part = match.group(1)
    kinds = [k for k in map(_ip_kind, _IP_IN_FROM.findall(part)) if k]
    if kinds:
        if all(k == 1 for k in kinds):
            return False
        rdns = _RDNS_IN_FROM.search(part)
        helo = _FROM_HELO.match(received)
        names = [n.group(1) for n in (rdns, helo) if n]
        # A public address whose name is one of the provider's own hosts is an internal hop.
        return not any("." in n and not is_ip(n) and operator(n) in orgs for n in names)
    helo = _FROM_HELO.match(received)
    name = helo.group(1).lower().rstrip(".") if helo else ""
    if not name or "." not in name or name in ("localhost", "localhost.localdomain"):
        return False
    kind = _ip_kind(name.strip("[]"))
    if kind:
        return kind == 2
    return operator(name) not in orgs


def _zone(msg: Message, trusted_ids: frozenset[str]) -> tuple[str, int, bool]:
    """(provider organisation, end, entered): headers[:end] were written by the provider; `entered` is
    True when a Received line shows the message arriving from a host outside the provider. Cached."""
    cache: dict[frozenset[str], tuple[str, int, bool]] = msg.__dict__.setdefault("_zone_cache", {})
    if trusted_ids in cache:
        return cache[trusted_ids]
    orgs = {operator(i) for i in trusted_ids if "." in i}
    provider = ""
    last_inside = -1
    entry = -1
    for index, (name, value) in enumerate(msg.headers):
        if name.lower() != "received":
            continue
        text = " ".join(str(value).split())
        match = _BY_HOST.search(text)
        host = match.group(1).lower().rstrip(".") if match else ""
        if not host or "." not in host or (host[-1].isdigit() and is_ip(host)):
            # "by localhost", "by 10.1.1.1": a hop inside somebody's system; it does not move the zone.
            if provider and last_inside >= 0:
                last_inside = index
            continue
        if not provider:
            provider = operator(host)
            orgs.add(provider)
        if operator(host) not in orgs:
            break
        last_inside = index
        if _came_from_outside(text, orgs):
            entry = index
            break
    end = (entry if entry >= 0 else last_inside) + 1 if provider else 0
    cache[trusted_ids] = (provider, end, entry >= 0)
    return cache[trusted_ids]


_LOOKED_UP_NAME = re.compile(r"\(([A-Za-z0-9._-]+\.[A-Za-z]{2,}\.?)[\s\[)]")  # "(mail.x.de. [ip])" too
# "(unknown [ip])" (Postfix), "([ip])" (sendmail), "from [ip] (helo=...)" (Exim): the lookup found no name
_NO_NAME = re.compile(r"\(unknown \[|\(\s*\[[0-9a-fA-F.:]+\]|^\s*\[?[0-9a-fA-F.:]+\]?\s*(?:\(|$)", re.I)


def entry_host(msg: Message, trusted_ids: frozenset[str] = frozenset()) -> str:
    """Who handed the message to the user's provider: the organisation of the sending host named in the
    Received line where it entered, by the name the provider looked up for its address ('' when no line
    shows it entering; 'unnamed' for an address without a name, as a home or hijacked computer has). The
    name the sender gave itself (HELO) is not used: a forger chooses it."""
    provider, end, entered = _zone(msg, trusted_ids)
    if not entered or end < 1:
        return ""
    text = " ".join(str(msg.headers[end - 1][1]).split())
    match = _FROM_PART.match(text)
    part = match.group(1) if match else ""
    found = _LOOKED_UP_NAME.search(part)
    name = found.group(1).lower().rstrip(".") if found else ""
    if "." in name and not is_ip(name):
        return operator(name)
    if _NO_NAME.search(part):
        return "unnamed"  # the provider looked the address up and found no name
    return ""  # the provider does not write down the name it looked up (Microsoft 365, some Exim set-ups)


def provider_zone(msg: Message, trusted_ids: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The provider's organisation and the index where the headers that came with the message begin.

    (("", 0) when the message has no Received line to tell.)"""
    provider, end, _ = _zone(msg, trusted_ids)
    return provider, end


def came_from_outside(msg: Message, trusted_ids: frozenset[str] = frozenset()) -> bool:
    """True when the Received lines show the message arriving at the provider from a host outside it
    (False for mail that stayed inside the provider, e.g. between colleagues, and for local copies)."""
    return _zone(msg, trusted_ids)[2]


def provider_written(msg: Message, index: int, trusted_ids: frozenset[str] = frozenset()) -> bool:
    """True when header number `index` of `msg.headers` was added by the user's provider.

    Besides the position rule, Microsoft 365 renames or strips the X-MS-Exchange-Organization-*,
    X-Forefront-Antispam-Report and X-Microsoft-Antispam headers of mail from outside, so those
    count wherever they stand when the provider is Microsoft."""
    provider, end, _ = _zone(msg, trusted_ids)
    if index < end:
        return True
    if provider == MICROSOFT and 0 <= index < len(msg.headers):
        name = msg.headers[index][0].lower()
        return name.startswith("x-ms-exchange-organization-") or name in (
            "x-forefront-antispam-report",
            "x-microsoft-antispam",
        )
    return False


def provider_values(msg: Message, name: str, trusted_ids: frozenset[str] = frozenset()) -> list[str]:
    """The values of header `name` that the provider wrote (unfolded), topmost first."""
    lname = name.lower()
    return [
        unfold(to_text(v))
        for i, (n, v) in enumerate(msg.headers)
        if n.lower() == lname and provider_written(msg, i, trusted_ids)
    ]


def read(msg: Message, trusted_ids: frozenset[str]) -> AuthResults:
    """The provider's Authentication-Results of `msg` (see the module docstring for whom we trust)."""
    cache: dict[frozenset[str], AuthResults] = msg.__dict__.setdefault("_auth_cache", {})
    if trusted_ids in cache:
        return cache[trusted_ids]
    all_headers = [
        (i, unfold(to_text(v))) for i, (n, v) in enumerate(msg.headers) if n.lower() == "authentication-results"
    ]
    out = AuthResults()
    if not all_headers:
        cache[trusted_ids] = out
        return out
    provider, end, _ = _zone(msg, trusted_ids)
    has_zone = bool(provider)
    if trusted_ids:
        trusted_orgs = {operator(i) for i in trusted_ids if "." in i}
        state = "before"  # before, inside or after the provider's run of headers
        for index, value in all_headers:
            authserv, results = parse_header(value)
            trusted = authserv in trusted_ids or (authserv == "" and provider in trusted_orgs)
            in_zone = index < end if has_zone else True
            if state != "after" and trusted and in_zone:
                state = "inside"
                out.found = True
                out.authserv_id = out.authserv_id or authserv
                out.results.extend(results)
                out.headers.append(value)
            else:
                if state == "inside":
                    state = "after"  # lower down, even the provider's id is sender-written
                out.ignored.append(value)
    else:
        for index, value in all_headers:
            authserv, results = parse_header(value)
            by_provider = has_zone and (authserv == "" or operator(authserv) == provider)
            if index < end and by_provider and (not out.headers or out.authserv_id == authserv):
                out.found = True
                out.authserv_id = authserv
                out.results.extend(results)
                out.headers.append(value)
            else:
                out.ignored.append(value)
    cache[trusted_ids] = out
    return out


# --- forwarded mail: what the first forwarder found (ARC) ------------------------------------------

_ARC_INSTANCE = re.compile(r"^\s*i\s*=\s*(\d+)\s*;", re.I)
_RESULT_WORDS = frozenset({"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy"})
# Gmail and others summarise the first hop in the comment of arc=pass: "i=1 spf=pass spfdomain=a.example
# dkim=pass dkdomain=a.example dmarc=pass fromdomain=a.example".
_COMMENT_DOMAIN_KEYS = {"spf": "spfdomain", "dkim": "dkdomain", "dmarc": "fromdomain"}
_COMMENT_PROP = {"spf": "smtp.mailfrom", "dkim": "header.d", "dmarc": "header.from"}


def _from_arc_comment(comment: str) -> list[MethodResult]:
    pairs = [(k.lower(), v.strip('"').lower()) for k, v in _TOKEN.findall(comment)]
    values = dict(pairs)
    out = []
    for key, value in pairs:
        if key in _COMMENT_DOMAIN_KEYS and value in _RESULT_WORDS:
            domain = values.get(_COMMENT_DOMAIN_KEYS[key], "")
            out.append(MethodResult(key, value, {_COMMENT_PROP[key]: domain} if domain else {}))
    return out


def arc_origin(msg: Message, ar: AuthResults) -> list[MethodResult]:
    """What the first forwarder found when the message reached it: its sealed ARC-Authentication-Results
    (instance 1), or else the provider's summary of it in the arc=pass comment. Only when the provider
    says the chain is intact (arc=pass): without that, the record is just text the sender wrote.
    [] when there is nothing to tell. Cached."""
    arc = ar.of("arc")
    if not arc or arc[0].result != "pass":
        return []
    cache: dict[int, tuple[AuthResults, list[MethodResult]]] = msg.__dict__.setdefault("_arc_cache", {})
    key = id(ar)
    if key in cache and cache[key][0] is ar:
        return cache[key][1]
    found: list[MethodResult] = []
    for name, value in msg.headers:
        if name.lower() != "arc-authentication-results":
            continue
        text = unfold(to_text(value))
        match = _ARC_INSTANCE.match(text)
        if match and match.group(1) == "1":
            found = [r for r in parse_header(text[match.end():])[1] if r.method in ("spf", "dkim", "dmarc")]
            break
    if not found:
        found = _from_arc_comment(arc[0].comment)
    cache[key] = (ar, found)
    return found


# --- mail straight from a computer ----------------------------------------------------------------

_HELO_TOKEN = re.compile(r"^\s*from\s+(\S+)", re.I)
_SAID_HELO = re.compile(r"\bhelo=([^\s)\]]+)|\((?:EHLO|HELO)\s+([^\s)]+)\)", re.I)
# Mail a user submits with a login (to their own provider) is not a computer talking to a mail exchanger.
_AUTHENTICATED = re.compile(r"\bwith\s+(?:UTF8)?(?:E?SMTP|LMTP)S?AS?\b|authenticated", re.I)
_DYNAMIC_WORDS = re.compile(
    r"(?:^|[.-])(?:dyn|dynamic|dynip|dsl|adsl|vdsl|xdsl|dial|dialup|dialin|ppp|pppoe|pool|cable|cpe|dhcp|"
    r"broadband|ftth|fttc|fttx|fibre|fiber|resi|residential|home|users?|cust|customer|clients?|mobile|wireless)"
    r"\d*(?=[.-]|$)",
    re.I,
)


def _names_its_address(name: str, ip: str) -> bool:
    """'dsl-186-6-115.example.net' for 186.6.115.221: the name is made from the address (an ISP's pool)."""
    octets = ip.split(".")
    if len(octets) != 4:
        return False
    digits = re.findall(r"\d+", name)
    joined = "-".join(digits)
    return any(
        "-".join(octets[i : i + 2]) in joined or "-".join(reversed(octets[i : i + 2])) in joined for i in range(3)
    )


def sent_from_computer(msg: Message, trusted_ids: frozenset[str] = frozenset()) -> str:
    """'49v6jaqs (host-201-181.cable.example.net [201.181.179.59])' when the provider's entry line shows the
    message coming straight from a computer on a home or office line, not from a mail server: the
    computer greeted with a bare word or an address instead of a server name, or its address has an
    internet provider's pool name. That is how worms (Klez) and spam programs send; mail servers and
    people's mail programs (which log in to their provider) do not. '' otherwise."""
    _, end, entered = _zone(msg, trusted_ids)
    if not entered or end < 1:
        return ""
    text = " ".join(to_text(msg.headers[end - 1][1]).split())
    if _AUTHENTICATED.search(text):
        return ""
    first_m = _HELO_TOKEN.match(text)
    first = first_m.group(1) if first_m else ""
    public = [ip for ip in _IP_IN_FROM.findall(text) if _ip_kind(ip) == 2]
    if not public:
        return ""
    ip = public[0]
    said = _SAID_HELO.search(text)
    if said:
        # Exim "from name ([ip] helo=x)", Yahoo/qmail "from name (EHLO x) (ip)": the first word is the
        # looked-up name (or the address), the greeting is given apart.
        helo = said.group(1) or said.group(2)
        rdns = first.lower().rstrip(".") if "." in first and not first.startswith("[") and not is_ip(first) else ""
    else:
        # Postfix, Sendmail: "from greeting (looked-up name [ip])", "unknown" when there is no name.
        helo = first
        rdns_m = _RDNS_IN_FROM.search(text)
        rdns = rdns_m.group(1).lower().rstrip(".") if rdns_m else ""
    literal = helo.startswith("[") or is_ip(helo)
    bare = bool(helo) and not literal and "." not in helo.strip(".")
    rdns_org = org_domain(rdns) if rdns else ""
    # An ISP's pool name: made from the address, with a word like dsl or cable before the ISP's own domain.
    pool = bool(rdns) and _names_its_address(rdns, ip) and bool(_DYNAMIC_WORDS.search(rdns[: -len(rdns_org) or None]))
    forged_helo = pool and not literal and org_domain(helo.lower()) != rdns_org
    if bare or (literal and (not rdns or pool)) or forged_helo:
        return f"{helo} ({rdns or 'no name'} [{ip}])"
    return ""
