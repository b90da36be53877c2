"""Links in a message body: where each one leads and what the reader is shown.

HTML anchors (href and visible text), <area> and <form> targets, password fields, <meta> refresh, and
web addresses in plain text. Everything is found with a few precompiled regular expressions over at
most the first 256 KB of each body part (what the IMAP scanner fetches), so the full and the partial
view of a message give the same links.
"""

import functools
import html
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from klezguard.core.domains import _list as _suffix_list
from klezguard.core.domains import org_domain
from klezguard.core.fetchplan import TEXT_BYTES
from klezguard.core.headers import decode_bytes, unfold
from klezguard.core.limits import valid_host
from klezguard.core.message import Message, Part

MAX_LINKS = 400  # per message; a longer list adds nothing but time

# One pass over the tags that matter; the text between <a> and </a> is sliced out afterwards.
# Linear on any text: a tag ends at the next > and never spans a <, so an unclosed "<a " costs only its
# own length (with [^>] each of thousands of them would scan thousands of characters).
_TAG = re.compile(r"<(/?)(a|area|form|input|meta|button)\b([^<>]{0,4000})>", re.I)
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")
_ANY_TAG = re.compile(r"<[^<>]{0,4000}>")
_HIDDEN = re.compile(r"<!--|<(style|script|title|head)\b", re.I)
_WS = re.compile(r"\s+")
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s>]+)", re.I)
_TEXT_URL = re.compile(r"""\b(?:https?://|www\.)[^\s<>"'`{}|\\^\[\]]{1,2048}""", re.I)

# A host written in the visible text: "www.paypal.com", "https://paypal.com/signin", "paypal.com".
_SHOWN = re.compile(
    r"""^(?:(?:https?|ftp)://)?(?:[^@\s/]+@)?((?:[\w-]+\.)+[\w-]{2,63})\.?(?::\d{1,5})?(?:[/?#].*)?$""",
    re.I | re.S,
)
# Endings that are also common file extensions: "invoice.zip" shown over a download link is a file name.
_FILE_TLDS = frozenset({"zip", "mov", "py", "sh", "rs", "md", "pl", "cab", "pub", "exe", "doc", "pdf", "txt", "csv"})


@dataclass(frozen=True, slots=True)
class Link:
    """One place the message can take the reader."""

    url: str  # the target as written (entities decoded)
    text: str  # what the reader sees ('' for a bare address in plain text)
    host: str  # the target's host as written ('' for mailto:, relative and other non-web targets)
    kind: str  # "a", "area", "form", "meta", "text"


@dataclass
class Scan:
    links: list[Link] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)  # form actions ('' for none)
    password_fields: int = 0
    password_forms: list[str] = field(default_factory=list)  # actions of forms that hold a password field


def tag_attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _ATTR.findall(text):
        name = name.lower()
        if name not in out:
            if value[:1] in "\"'":
                value = value[1:-1]
            out[name] = html.unescape(value)
    return out


def visible_text(fragment: str) -> str:
    """The text a reader sees in an HTML fragment: tags dropped, entities decoded, spaces joined,
    invisible characters removed."""
    if "<" in fragment:
        fragment = _ANY_TAG.sub(" ", fragment)
    if "&" in fragment:
        fragment = html.unescape(fragment)
    if fragment.isascii():  # (no invisible character is ASCII)
        return unfold(fragment)
    return _WS.sub(" ", _INVISIBLE.sub("", fragment)).strip()


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    """The host of a web address ('' for mailto:, tel:, relative links and garbage). Cached: a newsletter
    repeats its few tracking addresses in every link."""
    url = url.strip()
    lower = url[:12].lower()
    if lower.startswith("//"):
        url = "http:" + url
    elif not (lower.startswith("http://") or lower.startswith("https://") or lower.startswith("ftp://")):
        if lower.startswith("www."):
            url = "http://" + url
        else:
            return ""
    url = url.replace("\\", "/")
    if url.isascii() and url.isprintable() and "[" not in url and "]" not in url:
        # the plain form (no brackets, no tab or line break for urlsplit to drop): what urlsplit's netloc is
        netloc = url.partition("://")[2]
        for end in "/?#":
            netloc = netloc.partition(end)[0]
    else:
        try:
            netloc = urlsplit(url).netloc
        except ValueError:
            return ""
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else ""
    host = host.partition(":")[0].rstrip(".")
    return host if valid_host(host) else ""


def userinfo_host(url: str) -> str:
    """The domain a link puts before an '@' (https://www.paypal.com@evil.top/): browsers ignore it as
    a user name, readers take it for the site."""
    head = url.strip()[:300]
    start = head.find("://")
    if start < 0 or start > 6:
        return ""
    netloc = head[start + 3 :].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" not in netloc:
        return ""
    return shown_host(unquote(netloc.rpartition("@")[0]).partition(":")[0])


def _body_text(part: Part) -> str:
    return decode_bytes(part.data[:TEXT_BYTES], part.charset)


def drop_hidden(source: str) -> str:
    """HTML without what a reader never sees: comments, and style, script, title and head sections. As a
    browser does, an unclosed comment, style, script or title hides the rest of the page. One pass: each
    search starts where the last ended."""
    lower = source.lower()
    out = []
    pos = 0
    while (m := _HIDDEN.search(lower, pos)) is not None:
        out.append(source[pos : m.start()])
        out.append(" ")
        tag = m.group(1)
        if tag is None:  # a comment
            end = lower.find("-->", m.end())
            pos = len(source) if end < 0 else end + 3
            continue
        close = lower.find("</" + tag, m.end())
        if close < 0:
            pos = m.end() if tag == "head" else len(source)  # an unclosed <head> hides nothing
            continue
        end = lower.find(">", close)
        pos = len(source) if end < 0 else end + 1
    out.append(source[pos:])
    return "".join(out)


def _scan_html(source: str, scan: Scan) -> None:
    source = drop_hidden(source)
    open_a: tuple[str, int] | None = None  # href and where its text starts
    form_action: str | None = None
    form_has_password = False
    for m in _TAG.finditer(source):
        closing, tag, rest = m.group(1), m.group(2).lower(), m.group(3)
        if tag == "a":
            if open_a is not None:
                href, start = open_a
                _add(scan, Link(href, visible_text(source[start : m.start()]), host_of(href), "a"))
                open_a = None
            if not closing:
                href_attr = tag_attributes(rest).get("href")
                if href_attr is not None:
                    href_attr = _WS.sub("", href_attr)
                    open_a = (href_attr, m.end())
        elif closing:
            if tag == "form" and form_action is not None:
                if form_has_password:
                    scan.password_forms.append(form_action)
                form_action, form_has_password = None, False
            continue
        elif tag == "area":
            href = _WS.sub("", tag_attributes(rest).get("href", ""))
            if href:
                _add(scan, Link(href, tag_attributes(rest).get("alt", ""), host_of(href), "area"))
        elif tag == "form":
            action = _WS.sub("", tag_attributes(rest).get("action", ""))
            scan.forms.append(action)
            form_action, form_has_password = action, False
            if action:
                _add(scan, Link(action, "", host_of(action), "form"))
        elif tag == "input":
            if tag_attributes(rest).get("type", "").strip().lower() == "password":
                scan.password_fields += 1
                form_has_password = True
        elif tag == "meta":
            attrs = tag_attributes(rest)
            if attrs.get("http-equiv", "").strip().lower() == "refresh":
                found = _REFRESH_URL.search(attrs.get("content", ""))
                if found:
                    _add(scan, Link(found.group(1), "", host_of(found.group(1)), "meta"))
    if open_a is not None:
        href, start = open_a
        _add(scan, Link(href, visible_text(source[start : start + 2000]), host_of(href), "a"))
    if form_action is not None and form_has_password:
        scan.password_forms.append(form_action)


def _text_urls(text: str) -> Iterator[re.Match[str]]:
    """`_TEXT_URL.finditer(text)`, trying the pattern only where a match can start: every match begins with
    'http' or 'www.' in some case (no other character folds to these letters), so those places are found
    with plain substring searches of the lower-cased text. Text whose lower-case form has another length
    (a dotted capital I) is searched the ordinary way."""
    low = text.lower()
    if len(low) != len(text):
        yield from _TEXT_URL.finditer(text)
        return
    pos, web, www = 0, low.find("http"), low.find("www.")
    while True:
        if 0 <= web < pos:  # each search resumes only once passed, so the text is read once per word
            web = low.find("http", pos)
        if 0 <= www < pos:
            www = low.find("www.", pos)
        start = min(web, www) if web >= 0 and www >= 0 else max(web, www)
        if start < 0:
            return
        m = _TEXT_URL.match(text, start)
        if m is None:
            pos = start + 1
            continue
        yield m
        pos = m.end()


def _scan_plain(text: str, scan: Scan) -> None:
    for m in _text_urls(text):
        url = m.group(0).rstrip(".,;:!?)>]'\"")
        _add(scan, Link(url, url, host_of(url), "text"))


def _add(scan: Scan, link: Link) -> None:
    if len(scan.links) < MAX_LINKS:
        scan.links.append(link)


def scan(msg: Message) -> Scan:
    """Every link of the message's body parts (computed once per message)."""
    cached: Scan | None = msg.__dict__.get("_link_scan")
    if cached is not None:
        return cached
    result = Scan()
    for part in msg.body_parts:
        text = _body_text(part)
        if part.content_type == "text/html":
            _scan_html(text, result)
        else:
            _scan_plain(text, result)
    msg.__dict__["_link_scan"] = result
    return result


# --- what a link shows and where it leads -----------------------------------------------------------------
def shown_host(text: str) -> str:
    """The host the visible text presents as the destination ('' when the text is not an address)."""
    text = text.strip().strip("<>()[]\"'").strip()
    if not text or len(text) > 2000 or " " in text or "@" in text.split("/", 1)[0].split("?", 1)[0]:
        return ""
    m = _SHOWN.match(text)
    if not m:
        return ""
    host = m.group(1).lower()
    if "_" in host:
        return ""
    tld = host.rsplit(".", 1)[-1]
    has_scheme = "://" in text[:10]
    if not has_scheme and not host.startswith("www.") and tld in _FILE_TLDS:
        return ""
    if tld.isdigit():
        return ""
    if not _suffix_list().privatesuffix(host, accept_unknown=False):
        return ""
    return host


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a host written as an IP: dotted (203.0.113.9), bracketed IPv6, or the number
    forms browsers also accept (3405803785, 0xCB007109, 0313.0.0161.011)."""
    host = host.strip().lower()
    if not host:
        return None
    if host.startswith("["):
        try:
            return ipaddress.IPv6Address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return None
    if not re.fullmatch(r"[0-9a-fx.]+", host) or not host[0].isdigit():
        return None
    parts = host.split(".")
    if len(parts) > 4 or "" in parts:
        return None
    numbers = []
    for p in parts:
        try:
            if p.startswith("0x"):
                numbers.append(int(p[2:] or "0", 16))
            elif len(p) > 1 and p.startswith("0"):
                numbers.append(int(p, 8))
            else:
                numbers.append(int(p, 10))
        except ValueError:
            return None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in numbers[:-1]:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + numbers[-1]
    return ipaddress.IPv4Address(value)


def is_plain_ip(host: str) -> bool:
    """True for the usual dotted or bracketed form, False for the disguised number forms."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


# Services that rewrite links to count clicks or to scan them. Their target sits in the address
# (Google, Facebook, Outlook Safe Links, Proofpoint) or in an opaque token (mail services): a link text
# naming a site while the link goes through one of these is normal for newsletters. The click counters
# of the common newsletter services are listed; an unlisted one is judged by the mail itself (a
# newsletter that shows its own site, see rules/links.py).
REDIRECTORS = frozenset(
    """list-manage.com mcsv.net mailchimp.com mailchi.mp sendgrid.net mandrillapp.com mailgun.org
    hubspotlinks.com hubspotemail.net hs-sites.com hubspot.com exct.net exacttarget.com rs6.net
    constantcontact.com createsend.com createsend1.com cmail19.com cmail20.com mjt.lu mailjet.com
    sendibt2.com sendibt3.com sendibm1.com sendinblue.com brevo.com klclick.com klclick1.com klclick2.com
    klaviyomail.com awstrack.me sparkpostmail.com spgo.io pstmrk.it postmarkapp.com mlsend.com
    mailerlite.com aweber.com gr8.com getresponse.com ck.page convertkit-mail.com convertkit-mail2.com
    substack.com eloqua.com en25.com mktoweb.com mktdns.com pardot.com salesforce.com iterable.com
    customeriomail.com intercom-clicks.com intercom.io zendesk.com freshdesk.com campaign-archive.com
    emltrk.com emailsrvr.com cts.vresp.com vresp.com benchmarkemail.com icontact.com ymlp.com
    safelinks.protection.outlook.com protection.outlook.com urldefense.proofpoint.com urldefense.com
    mimecast.com mimecastprotect.com cudasvc.com barracudanetworks.com trendmicro.com
    fireeyecloud.com messagelabs.com symantec.com clicktime.symantec.com
    google.com googleadservices.com doubleclick.net l.facebook.com facebook.com instagram.com
    linkedin.com lnkd.in t.co twitter.com youtube.com bit.ly bitly.com tinyurl.com ow.ly buff.ly
    goo.gl rebrand.ly shorturl.at cutt.ly is.gd t.ly
    slack-redir.net steamcommunity.com vk.com away.vk.com out.reddit.com
    acemlna.com acemlnb.com acemlnc.com acemlnd.com activehosted.com klclick3.com
    maillist-manage.com maillist-manage.eu maillist-manage.in maillist-manage.com.au zcsend.net
    mcusercontent.com mailchimpapp.net rsgsv.net mcdlv.net mailgun.net sendgrid.com sendibm2.com
    sendibt1.com mlsend2.com mailerlite.net convertkit-mail3.com convertkit-mail4.com
    cmail1.com cmail2.com createsend2.com createsend3.com ccsend.com ctctcdn.com mktomail.com
    mtasv.net sailthru.com emarsys.net dmtrk.net bmetrack.com stat-pulse.com sendpulse.com
    beehiiv.com shopifyemail.com squarespace-mail.com intercom-mail.com chtah.com messagegears.net
    secure-web.cisco.com linkprotect.cudasvc.com sp1-brevo.net brevo.net sendibm3.com
    """.split()
)
_EMBEDDED = re.compile(r"(?:https?|ftp)(?::|%3a|-3a)(?://?|%2f%2f|__)([^/?#&%_*\s]+)", re.I)
_HOSTLIKE = re.compile(r"^(?:www\.)?(?:[a-z0-9-]+\.)+[a-z]{2,63}$", re.I)


@functools.lru_cache(maxsize=4096)
def embedded_hosts(url: str) -> tuple[str, ...]:
    """Hosts of web addresses carried inside a link (a redirect's target), up to three levels of
    percent-encoding, Proofpoint's -3A__ form included."""
    found: list[str] = []
    own = url.find("://")
    text = url[own + 3 :] if own >= 0 else url
    for _ in range(3):
        for m in _EMBEDDED.finditer(text):
            host = m.group(1).split(":", 1)[0].lower().rstrip(".")
            if host and host not in found:
                found.append(host)
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    for _, value in parse_qsl(query, keep_blank_values=False):
        value = value.strip().split("/", 1)[0].lower()
        if _HOSTLIKE.match(value) and value not in found:
            found.append(value)  # Mimecast's ?domain=github.com
    return tuple(found)


def is_redirector(host: str) -> bool:
    host = host.lower()
    org = org_domain(host)
    return host in REDIRECTORS or org in REDIRECTORS or any(host.endswith("." + r) for r in REDIRECTORS)


# What an unlisted click counter looks like: a counting host name (click.shop.example, links.news.example)
# or a counting path (/t/12337/850395, /ls/click?upn=..., /c/eJyVkM...) that carries only opaque numbers and
# tokens. A fake sign-in page needs words a reader might check (/paypal/login/verify.php); a counter needs none.
_COUNTER_LABELS = frozenset(
    "click clicks clk link links lnk track tracking trk t l r c e em email mail go url redirect lists list "
    "news newsletter mkt marketing info ct ea".split()
)
_COUNTER_PATH = frozenset("t c l r e u ls wf cl0 cl1 click clicks track tracking trk redirect link links go ss".split())
_OPAQUE = re.compile(r"^(?:\d+|[A-Za-z0-9_=-]{16,}|[a-f0-9]{8,}|(?=[^/]*\d)(?=[^/]*[A-Za-z])[A-Za-z0-9_=-]{8,})$")


def looks_like_click_counter(url: str) -> bool:
    """A link whose whole address is a counting host or path with opaque tokens: how a newsletter's own
    mail service counts clicks, whatever its name."""
    host = host_of(url).lower()
    rest = url.split("//", 1)[-1]
    path = rest.partition("/")[2].split("#", 1)[0]
    path, _, query = path.partition("?")
    segments = [seg for seg in path.split("/") if seg]
    first_label = host.split(".", 1)[0]
    counting_path = bool(segments) and segments[0].lower() in _COUNTER_PATH
    opaque = all(_OPAQUE.match(seg) for seg in segments[1 if counting_path else 0:])
    if not segments:
        return first_label in _COUNTER_LABELS and bool(query)
    if not counting_path and not opaque and first_label in _COUNTER_LABELS:
        # /mk/cl/f/sh/<token>: a few short fixed words in front of the counter's tokens
        words = 0
        while words < len(segments) and len(segments[words]) <= 3 and segments[words].isalpha():
            words += 1
        tokens = segments[words:]
        return 0 < words <= 5 and bool(tokens) and all(_OPAQUE.match(seg) for seg in tokens)
    if counting_path and (opaque or query):
        return True
    return first_label in _COUNTER_LABELS and opaque
