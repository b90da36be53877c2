"""A safe preview of a message: its text only. Nothing remote is loaded and no attachment is opened,
because the preview is plain text: HTML is reduced to text, and each link shows where it really goes."""

import html
import re
from html.parser import HTMLParser

from klezguard.core.message import Message

MAX_CHARS = 20_000
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
                self.out.append(f" <{href}>")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup[: MAX_CHARS * 5])
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser raises on some garbage; fall back to stripping tags
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.out)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()


def preview_text(msg: Message) -> str:
    """The message text for reading: the plain part if there is one, else the HTML reduced to text."""
    text = msg.body_text.strip()
    if not text and msg.body_html:
        text = html_to_text(msg.body_html)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n[...]"
    files = [p.filename or p.content_type for p in msg.attachments]
    if files:
        text += "\n\n" + "Attached (not opened): " + ", ".join(files)
    return text
