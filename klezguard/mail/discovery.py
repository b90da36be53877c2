"""Finds IMAP server settings from an e-mail address.

In order: a bundled table of common providers, the provider's published autoconfig file (the format
Thunderbird uses), DNS SRV records (RFC 6186), then a guess (imap.<domain>). Each network step has a
short timeout; the user can always type the settings by hand.
"""

import functools
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import defusedxml.ElementTree as SafeET
import dns.exception
import dns.resolver

from klezguard.mail.accounts import Security, ServerSettings

log = logging.getLogger(__name__)

STEP_TIMEOUT = 4.0
MAX_AUTOCONFIG_BYTES = 256 * 1024
AUTOCONFIG_URLS = (
    "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
    "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
)
SOCKET_TYPES = {"SSL": "ssl", "STARTTLS": "starttls", "PLAIN": "plain"}


@dataclass
class Discovery:
    settings: ServerSettings
    source: str  # "provider table", "autoconfig", "DNS SRV", "guess"
    provider: str = ""
    note: str = ""
    # The server wants a sign-in with the mail provider (OAuth2), as its autoconfig file says: the issuer that
    # file names (a host, e.g. login.microsoftonline.com), or "*" when it names none; "" when it says nothing.
    sign_in: str = ""


@functools.cache
def _providers() -> list[dict]:
    text = resources.files("klezguard.resources").joinpath("providers.json").read_text("utf-8")
    return json.loads(text)["providers"]


def from_table(email: str) -> Discovery | None:
    domain = email.rpartition("@")[2].lower()
    for entry in _providers():
        if domain in entry["domains"]:
            settings = ServerSettings(entry["host"], entry["port"], entry["security"], user=email)
            return Discovery(settings, "provider table", entry["name"], entry.get("note", "") or _password_note(entry))
    return None


def _password_note(entry: dict) -> str:
    """For a provider that wants OAuth2 when KlezGuard has no registration with it: the password path stays,
    and the password it takes is an app password."""
    from klezguard.errors import KnownError
    from klezguard.mail import signin

    wanted = entry.get("oauth2")
    if not wanted or not entry.get("app_password"):
        return ""
    try:
        provider = signin.providers().get(wanted["provider"])
        if provider is not None:
            signin.configured(provider)
            return ""  # it signs in with the provider
    except KnownError:
        pass
    return (f"{entry['name']} asks programs to sign in with {entry['name']} itself, and this copy of KlezGuard has "
            f"no registration for that: use an app password, made in your {entry['name']} account's security "
            "settings.")


def _imap_servers(xml: bytes, email: str) -> tuple[list[tuple[ServerSettings, bool]], str]:
    """The encrypted IMAP servers of an autoconfig file (TLS first), each with whether it wants OAuth2; and
    the issuer its <oAuth2> block names ("" when none)."""
    try:
        root = SafeET.fromstring(xml)
    except Exception:  # noqa: BLE001 - defusedxml and expat raise many types on hostile or broken XML
        return [], ""
    local, _, domain = email.partition("@")
    candidates = []
    for server in root.iter("incomingServer"):
        if server.get("type") != "imap":
            continue
        host = (server.findtext("hostname") or "").strip()
        socket_type = SOCKET_TYPES.get((server.findtext("socketType") or "").strip().upper())
        try:
            port = int((server.findtext("port") or "").strip())
        except ValueError:
            continue
        user = (server.findtext("username") or "%EMAILADDRESS%").strip()
        user = user.replace("%EMAILADDRESS%", email).replace("%EMAILLOCALPART%", local)
        user = user.replace("%EMAILDOMAIN%", domain)
        host = host.replace("%EMAILDOMAIN%", domain)
        oauth2 = any((a.text or "").strip().lower() == "oauth2" for a in server.iter("authentication"))
        if host and socket_type in ("ssl", "starttls"):
            candidates.append((ServerSettings(host, port, "ssl" if socket_type == "ssl" else "starttls", user=user),
                               oauth2))
    candidates.sort(key=lambda c: 0 if c[0].security == "ssl" else 1)
    issuer = ""
    for block in root.iter("oAuth2"):
        issuer = (block.findtext("issuer") or "").strip().lower()
        issuer = issuer or (urllib.parse.urlparse((block.findtext("tokenURL") or "").strip()).hostname or "")
        break
    return candidates, issuer


def parse_autoconfig(xml: bytes, email: str) -> ServerSettings | None:
    """The best IMAP server of an autoconfig file (TLS first, then STARTTLS; plain is never chosen)."""
    candidates, _ = _imap_servers(xml, email)
    return candidates[0][0] if candidates else None


def autoconfig_sign_in(xml: bytes, email: str) -> str:
    """Whether the best IMAP server of an autoconfig file wants OAuth2: the issuer named, "*" when none is,
    "" when it wants a password."""
    candidates, issuer = _imap_servers(xml, email)
    if not candidates or not candidates[0][1]:
        return ""
    return issuer or "*"


def from_autoconfig(email: str, urls=AUTOCONFIG_URLS, timeout: float = STEP_TIMEOUT) -> Discovery | None:
    domain = email.rpartition("@")[2].lower()
    for template in urls:
        url = template.format(domain=domain, email=email)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - https templates
                body = response.read(MAX_AUTOCONFIG_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.debug("autoconfig %s: %s", url, exc)
            continue
        if len(body) > MAX_AUTOCONFIG_BYTES:
            continue
        settings = parse_autoconfig(body, email)
        if settings:
            return Discovery(settings, "autoconfig", sign_in=autoconfig_sign_in(body, email))
    return None


def from_srv(email: str, resolver: dns.resolver.Resolver | None = None,
             timeout: float = STEP_TIMEOUT) -> Discovery | None:
    domain = email.rpartition("@")[2].lower()
    resolver = resolver or dns.resolver.Resolver()
    resolver.lifetime = timeout
    pairs: tuple[tuple[str, Security], ...] = (("_imaps._tcp", "ssl"), ("_imap._tcp", "starttls"))
    for service, security in pairs:
        try:
            answers = resolver.resolve(f"{service}.{domain}", "SRV")
        except (dns.exception.DNSException, OSError) as exc:
            log.debug("SRV %s.%s: %s", service, domain, exc)
            continue
        records = sorted(answers, key=lambda r: (r.priority, -r.weight))
        for record in records:
            host = str(record.target).rstrip(".")
            if host and host != ".":  # "." means: no such service here (RFC 6186)
                return Discovery(ServerSettings(host, record.port, security, user=email), "DNS SRV")
    return None


def guess(email: str) -> Discovery:
    domain = email.rpartition("@")[2].lower()
    return Discovery(ServerSettings(f"imap.{domain}", 993, "ssl", user=email), "guess")


def discover(email: str, steps: list[Callable[[str], Discovery | None]] | None = None) -> Discovery:
    """Server settings for `email`; always returns something (the last resort is a guess)."""
    for step in steps or (from_table, from_autoconfig, from_srv):
        found = step(email)
        if found:
            return found
    return guess(email)
