"""The plain-URL fast path of host_of must find the host urlsplit finds (a difference would let a link show
one site and be judged as another)."""

from urllib.parse import urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from klezguard.core.links import host_of, valid_host

CHARS = "abcAB09.-_~:@%!$&'()*+,;=/?# " + "[]\t\\"


def by_urlsplit(url: str) -> str:
    url = url.strip()
    low = url[:12].lower()
    if low.startswith("//"):
        url = "http:" + url
    elif not low.startswith(("http://", "https://", "ftp://")):
        if not low.startswith("www."):
            return ""
        url = "http://" + url
    try:
        netloc = urlsplit(url.replace("\\", "/")).netloc
    except ValueError:
        return ""
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else ""
    host = host.partition(":")[0].rstrip(".")
    return host if valid_host(host) else ""


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "//", "www.", ""]), st.text(CHARS, max_size=40))
@example("https://", "user:pw@www.example.com:8080/path?x=1#y")
@example("http://", "example.com\\@evil.example/")
@example("https://", "a.example?next=http://b.example/")
@example("http://", "a.example#frag/b.example")
@example("www.", "shop.example.co.uk/offer")
@example("//", "cdn.example.net/x.js")
@example("http://", "[2001:db8::1]:80/")
@example("http://", "good.example\tevil.example/")
def test_host_of_finds_what_urlsplit_finds(scheme, rest):
    url = scheme + rest
    host_of.cache_clear()
    assert host_of(url) == by_urlsplit(url)


def test_the_examples_find_real_hosts():
    assert host_of("https://user:pw@www.example.com:8080/path?x=1#y") == "www.example.com"
    assert host_of("https://a.example?next=http://b.example/") == "a.example"
    assert host_of("http://example.com\\@evil.example/") == "example.com"
