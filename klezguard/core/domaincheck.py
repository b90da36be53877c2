"""Reads what a domain publishes against forged mail: SPF, DMARC, MX and DKIM keys.

The records are fetched here with dnspython, so a timeout, a dead server, SERVFAIL and "no such domain"
are told apart and said plainly. The SPF and DMARC texts are then handed to checkdmarc's parsers, which
follow include/redirect/a/mx/exists and count the DNS look-ups against SPF's limit of 10 (RFC 7208 4.6.4)
and know every DMARC tag. checkdmarc is used for its parsers only: its checks of MTA-STS, BIMI and SMTP
would reach out over HTTPS and port 25. It drops `pct` (removed in RFC 9989), but most receivers still
honour it, so `pct` is read here.

No policy or wording lives here: `domainadvice` turns these facts into a verdict and steps.
"""

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import dns.exception
import dns.nameserver
import dns.resolver

from klezguard.core.domains import ascii_domain, is_ip, org_domain

DEFAULT_TIMEOUT = 2.0  # one try at one server
DEFAULT_LIFETIME = 4.0  # all tries of one question
SPF_LOOKUP_LIMIT = 10
_DMARC_TAG = re.compile(r"(?:^|;)\s*([a-zA-Z]+)\s*=\s*([^;]*)")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


class DomainUnreadable(Exception):
    """The domain's records could not be read. `reason`: timeout, refused, servfail, nxdomain, invalid."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def valid_domain(domain: str) -> str:
    """The domain in ASCII, lower case, without a trailing dot, or DomainUnreadable('invalid')."""
    name = ascii_domain(domain.strip().rstrip(".").rpartition("@")[2])
    if not name or "." not in name or is_ip(name) or not _HOST.match(name):
        raise DomainUnreadable("invalid", domain)
    return name


def parse_nameserver(text: str) -> tuple[str, int]:
    """'IP', 'IP:PORT', '[IPv6]:PORT' or a bare IPv6 address -> (address, port)."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    if not is_ip(host) or not 0 < port < 65536:
        raise ValueError(f"not an IP address with an optional port: {text!r}")
    return host, port


def make_resolver(nameserver: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  lifetime: float = DEFAULT_LIFETIME) -> dns.resolver.Resolver:
    """The system's resolver, or one server given as 'IP[:PORT]'."""
    if nameserver:
        host, port = parse_nameserver(nameserver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.cache = None
    return resolver


@dataclass
class Spf:
    record: str = ""  # '' when the domain has none
    all: str = ""  # what the record says for everyone else: pass (+all), neutral (?all), softfail (~all), fail (-all)
    lookups: int = 0  # DNS look-ups a receiver makes, nested includes and redirects counted
    includes: list[str] = field(default_factory=list)  # every include/redirect target, nested ones too
    error: str = ""  # a syntax error, a loop, two records: receivers then ignore SPF
    warnings: list[str] = field(default_factory=list)


@dataclass
class Dmarc:
    record: str = ""
    location: str = ""  # where it was found: the domain itself or its organisational domain
    policy: str = ""  # none, quarantine, reject
    subdomain_policy: str = ""
    pct: int = 100
    rua: list[str] = field(default_factory=list)
    ruf: list[str] = field(default_factory=list)
    adkim: str = "r"  # r: relaxed (a sub-domain's signature counts), s: strict (only the exact domain)
    aspf: str = "r"
    error: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Dkim:
    selector: str
    found: bool
    record: str = ""  # the key record's text, shortened


@dataclass
class DomainFacts:
    domain: str
    mx: list[str] = field(default_factory=list)  # mail servers, lowest preference first
    spf: Spf = field(default_factory=Spf)
    dmarc: Dmarc = field(default_factory=Dmarc)
    dkim: list[Dkim] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DomainFacts":
        return cls(domain=str(data["domain"]), mx=list(data.get("mx", [])), spf=Spf(**data.get("spf", {})),
                   dmarc=Dmarc(**data.get("dmarc", {})), dkim=[Dkim(**d) for d in data.get("dkim", [])],
                   seconds=float(data.get("seconds", 0.0)))


def _reason(exc: Exception) -> DomainUnreadable:
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return DomainUnreadable("timeout", str(exc))
    if isinstance(exc, dns.resolver.NoNameservers):
        text = str(exc)
        reason = "refused" if "REFUSED" in text else "servfail"
        return DomainUnreadable(reason, text)
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return DomainUnreadable("nxdomain", str(exc))
    return DomainUnreadable("servfail", f"{type(exc).__name__}: {exc}")


def _answer(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[Any]:
    """The records, [] when the name has none of that type; DomainUnreadable when DNS failed."""
    try:
        return list(resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False))
    except dns.resolver.NXDOMAIN:
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise _reason(exc) from exc


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    texts = []
    for rdata in _answer(resolver, name, "TXT"):
        texts.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    return texts


def _exists(resolver: dns.resolver.Resolver, domain: str) -> None:
    """NXDOMAIN for the domain itself is its own answer ('no such domain'), unlike a missing record."""
    try:
        resolver.resolve(domain, "SOA", raise_on_no_answer=False, search=False)
    except (dns.exception.DNSException, OSError) as exc:
        raise _reason(exc) from exc


def read_mx(resolver: dns.resolver.Resolver, domain: str) -> list[str]:
    rows = sorted((r.preference, r.exchange.to_text(omit_final_dot=True).lower())
                  for r in _answer(resolver, domain, "MX"))
    return [host for _pref, host in rows if host]  # a null MX ('.') says: no mail here


def _targets(parsed: dict[str, Any]) -> list[str]:
    found = []
    for mechanism in parsed.get("mechanisms", []):
        if mechanism.get("mechanism") == "include":
            found.append(str(mechanism.get("value", "")).lower())
            found += _targets(mechanism.get("parsed") or {})
    redirect = parsed.get("redirect")
    if isinstance(redirect, dict):
        found.append(str(redirect.get("value", redirect.get("domain", ""))).lower())
        found += _targets(redirect.get("parsed") or {})
    elif isinstance(redirect, str) and redirect:
        found.append(redirect.lower())
    return found


def _final_all(parsed: dict[str, Any]) -> str:
    """The 'all' that applies: a redirect hands the decision to the target record (RFC 7208 6.1)."""
    value = parsed.get("all")
    redirect = parsed.get("redirect")
    if isinstance(redirect, dict) and not value:
        return _final_all(redirect.get("parsed") or {})
    return str(value or "")


def read_spf(resolver: dns.resolver.Resolver, domain: str) -> Spf:
    import checkdmarc.spf
    import checkdmarc.utils

    records = [t for t in _txt(resolver, domain) if t.lower().startswith("v=spf1") and
               (len(t) == 6 or t[6] == " ")]
    if not records:
        return Spf()
    if len(records) > 1:
        return Spf(record=" | ".join(records), error="There are two SPF records; receivers then ignore both.")
    record = records[0]
    checkdmarc.utils.DNS_CACHE.clear()  # a re-check must see today's records, and only this server's
    try:
        parsed = checkdmarc.spf.parse_spf_record(record, domain, resolver=resolver, ignore_too_many_lookups=True,
                                                 timeout=resolver.timeout, retries=0)
    except checkdmarc.spf.SPFError as exc:
        text = str(exc)
        if _timed_out(text):
            raise DomainUnreadable("timeout", text) from exc
        return Spf(record=record, error=text)
    except Exception as exc:  # noqa: BLE001 - a parser's slip on an odd record must not stop the whole check
        return Spf(record=record, error=f"{type(exc).__name__}: {exc}")
    late = next((str(w) for w in parsed.get("warnings", []) if _timed_out(str(w))), "")
    if late:  # an include that did not answer: the count and the verdict would be a guess
        raise DomainUnreadable("timeout", late)
    details = parsed.get("parsed") or {}
    return Spf(record=record, all=_final_all(details), lookups=int(parsed.get("dns_lookups") or 0),
               includes=list(dict.fromkeys(t for t in _targets(details) if t)),
               warnings=[str(w) for w in parsed.get("warnings", [])])


def _timed_out(text: str) -> bool:
    return "timed out" in text or "lifetime expired" in text


def _tags(record: str) -> dict[str, str]:
    return {k.lower(): v.strip() for k, v in _DMARC_TAG.findall(record)}


def _uris(value: Any) -> list[str]:
    if isinstance(value, list):
        return [f"{u.get('scheme', 'mailto')}:{u.get('address', '')}" for u in value if isinstance(u, dict)]
    return [u.strip() for u in str(value or "").split(",") if u.strip()]


def read_dmarc(resolver: dns.resolver.Resolver, domain: str) -> Dmarc:
    """The record at _dmarc.<domain>, else at the organisational domain's (RFC 7489 6.6.3)."""
    import checkdmarc.dmarc
    import checkdmarc.utils

    location = domain
    records = [t for t in _txt(resolver, f"_dmarc.{domain}") if t.lower().startswith("v=dmarc1")]
    org = org_domain(domain)
    if not records and org != domain:
        location = org
        records = [t for t in _txt(resolver, f"_dmarc.{org}") if t.lower().startswith("v=dmarc1")]
    if not records:
        return Dmarc()
    if len(records) > 1:
        return Dmarc(record=" | ".join(records), location=location,
                     error="There are two DMARC records; receivers then ignore both.")
    record = records[0]
    tags = _tags(record)
    checkdmarc.utils.DNS_CACHE.clear()
    try:
        parsed = checkdmarc.dmarc.parse_dmarc_record(record, location, resolver=resolver,
                                                     timeout=resolver.timeout, retries=0)
    except checkdmarc.dmarc.DMARCError as exc:
        return Dmarc(record=record, location=location, error=str(exc), policy=tags.get("p", "").lower())
    except Exception as exc:  # noqa: BLE001 - a parser's slip on an odd record must not stop the whole check
        return Dmarc(record=record, location=location, error=f"{type(exc).__name__}: {exc}")
    values = {k: v.get("value") for k, v in parsed.get("tags", {}).items()}
    try:
        pct = max(0, min(100, int(tags.get("pct", "100"))))
    except ValueError:
        return Dmarc(record=record, location=location, error=f"pct={tags['pct']} is not a number.")
    policy = str(values.get("p") or "none")
    subdomain = str(values.get("sp") or policy)
    if location != domain:
        policy = subdomain  # a sub-domain is covered by its parent's sp=
    return Dmarc(record=record, location=location, policy=policy, subdomain_policy=subdomain, pct=pct,
                 rua=_uris(values.get("rua")), ruf=_uris(values.get("ruf")),
                 adkim=str(values.get("adkim") or "r"), aspf=str(values.get("aspf") or "r"),
                 warnings=[str(w) for w in parsed.get("warnings", [])])


def read_dkim(resolver: dns.resolver.Resolver, domain: str, selector: str) -> Dkim:
    texts = _txt(resolver, f"{selector}._domainkey.{domain}")
    key = next((t for t in texts if "p=" in t.replace(" ", "")), "")
    found = bool(key) and not re.search(r"(?:^|;)\s*p=\s*(?:;|$)", key)  # an empty p= is a revoked key
    return Dkim(selector=selector, found=found, record=key[:120])


_DKIM_TAG = re.compile(r"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)", re.I)


def selectors_in(signatures: list[str], domain: str) -> list[str]:
    """The s= of DKIM-Signature headers that signed for `domain` or a name under it (d=)."""
    found: list[str] = []
    for signature in signatures:
        tags = {k.lower(): "".join(v.split()) for k, v in _DKIM_TAG.findall(signature)}
        signer = tags.get("d", "").lower().rstrip(".")
        selector = tags.get("s", "").lower()
        if (signer == domain or signer.endswith("." + domain)) and selector and selector not in found:
            found.append(selector)
    return found


def read_domain(domain: str, resolver: dns.resolver.Resolver,
                selectors: list[str] | tuple[str, ...] = ()) -> DomainFacts:
    """Everything one check needs. Raises DomainUnreadable when DNS could not answer or the domain
    does not exist; a missing or broken record is a fact, not an error."""
    started = time.monotonic()
    name = valid_domain(domain)
    _exists(resolver, name)
    facts = DomainFacts(domain=name)
    facts.mx = read_mx(resolver, name)
    facts.spf = read_spf(resolver, name)
    facts.dmarc = read_dmarc(resolver, name)
    for selector in dict.fromkeys(s.strip().lower() for s in selectors if s.strip()):
        if re.fullmatch(r"[a-z0-9_][a-z0-9._-]{0,62}", selector):
            facts.dkim.append(read_dkim(resolver, name, selector))
    facts.seconds = round(time.monotonic() - started, 3)
    return facts
