"""Domain names: registrable ("organisational") domains from the Public Suffix List, IDN forms and
free-mail providers.

Comparing the last two labels is wrong for most of the world (every .co.uk domain would look alike);
the Public Suffix List knows where an organisation's own part of a name begins.
"""

import functools
import ipaddress
from importlib import resources

from publicsuffixlist import PublicSuffixList

_psl: PublicSuffixList | None = None


def _list() -> PublicSuffixList:
    global _psl
    if _psl is None:
        _psl = PublicSuffixList()
    return _psl


@functools.lru_cache(maxsize=8192)
def ascii_domain(domain: str) -> str:
    """Lower-case ASCII (punycode) form, so that 'Bücher.de' and 'xn--bcher-kva.de' compare equal."""
    domain = domain.strip().strip(".").lower()
    if domain.isascii():
        return domain
    labels = []
    for label in domain.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


@functools.lru_cache(maxsize=8192)
def unicode_domain(domain: str) -> str:
    """The form a person reads: punycode labels decoded (garbage labels stay as they are)."""
    labels = []
    for label in domain.lower().split("."):
        if label.startswith("xn--"):
            try:
                labels.append(label[4:].encode("ascii").decode("punycode"))
                continue
            except UnicodeError:
                pass
        labels.append(label)
    return ".".join(labels)


_IPV4_CHARS = frozenset("0123456789.")


@functools.lru_cache(maxsize=8192)
def is_ip(host: str) -> bool:
    host = host.strip("[]")
    if ":" not in host and not _IPV4_CHARS.issuperset(host):
        return False  # a host name: the common case, answered without building an address
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def org_domain(domain: str) -> str:
    """The registrable domain ('mail.example.co.uk' -> 'example.co.uk'), in ASCII form."""
    domain = ascii_domain(domain)
    if not domain or is_ip(domain):
        return domain
    return _list().privatesuffix(domain) or domain


def public_suffix(domain: str) -> str:
    return _list().publicsuffix(ascii_domain(domain)) or ""


def same_org(a: str, b: str) -> bool:
    return bool(a) and bool(b) and org_domain(a) == org_domain(b)


@functools.cache
def freemail_domains() -> frozenset[str]:
    text = resources.files("klezguard.data").joinpath("freemail.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_freemail(domain: str) -> bool:
    domain = ascii_domain(domain)
    return domain in freemail_domains() or org_domain(domain) in freemail_domains()
