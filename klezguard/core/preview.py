"""A safe preview of a message: its text only. Nothing remote is loaded and no attachment is opened,
because the preview is plain text: HTML is reduced to text, and each link shows where it really goes.
Direction overrides are shown as markers, so no text can turn a link target or a line around."""

import html
import re
from html.parser import HTMLParser

from klezguard.core.message import Message
from klezguard.core.visible import mark_overrides, one_line

MAX_CHARS = 20_000
MAX_HREF = 300  # characters of a link target shown
MAX_FILES = 50  # attachments named at the end
MAX_NAME = 120  # characters of each name
_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}
SKIP_TAGS = {"script", "style", "head", "title", "noscript", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[picture: {alt}]")

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("#"):
                self.out.append(f" <{one_line(href)[:MAX_HREF]}>")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def _strip_tags(markup: str) -> str:
    """The fallback for HTML the parser gives up on: tags dropped in one linear pass (a tag ends at the
    next < or >, so thousands of unclosed < cost no more than their length)."""
    text = _TAG.sub(" ", markup).replace("<", " ")
    try:
        return html.unescape(text)
    except Exception:  # noqa: BLE001 - a character reference of thousands of digits
        return text


def html_to_text(markup: str) -> str:
    markup = markup[: MAX_CHARS * 5]
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser raises on some garbage; fall back to stripping tags
        return mark_overrides(_strip_tags(markup))
    text = "".join(parser.out)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return mark_overrides(_BLANK_LINES.sub("\n\n", text).strip())


def preview_text(msg: Message) -> str:
    """The message text for reading: the plain part if there is one, else the HTML reduced to text."""
    text = msg.body_text.strip()
    if not text and msg.body_html:
        text = html_to_text(msg.body_html)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n[...]"
    files = [one_line(p.filename or p.content_type)[:MAX_NAME] for p in msg.attachments[:MAX_FILES]]
    if files:
        more = len(msg.attachments) - len(files)
        text += "\n\n" + "Attached (not opened): " + ", ".join(files) + (f" and {more} more" if more > 0 else "")
    return mark_overrides(text)
