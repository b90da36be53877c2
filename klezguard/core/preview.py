"""A safe preview of a message: its text only. Nothing remote is loaded and no attachment is opened,
because the preview is plain text: HTML is reduced to text, and each link shows where it really goes.
Direction overrides are shown as markers, so no text can turn a link target or a line around."""

import html
import re

from klezguard.core.links import drop_hidden, tag_attributes
from klezguard.core.message import Message
from klezguard.core.visible import mark_overrides, one_line

MAX_CHARS = 20_000
MAX_HREF = 300  # characters of a link target shown
MAX_FILES = 50  # attachments named at the end
MAX_NAME = 120  # characters of each name
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}
SKIP_TAGS = {"noscript", "template"}  # style, script, head and title go with links.drop_hidden


# One token: a tag (<a href=...>, </p>) or a declaration (<!DOCTYPE>, <?xml?>). None spans a <, so the
# whole page is read in one linear pass; Python's html.parser takes minutes on 256 KB of unclosed "<a ".
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^<>]{0,4000})>|<[!?/][^<>]{0,4000}>")
# A numeric character reference too long for any character: html.unescape would fail on thousands of digits.
_HUGE_REFERENCE = re.compile(r"&#(?:[xX]0*[0-9a-fA-F]{7,}|0*[0-9]{8,});?")


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    return html.unescape(_HUGE_REFERENCE.sub("\ufffd", text))


def html_to_text(markup: str) -> str:
    """HTML reduced to the text a reader sees, with each link's real target after its text."""
    markup = drop_hidden(markup[: MAX_CHARS * 5])
    out: list[str] = []
    links: list[str] = []
    skip = 0
    pos = 0
    for m in _TOKEN.finditer(markup):
        if not skip:
            out.append(_unescape(markup[pos : m.start()]))
        pos = m.end()
        closing, tag = m.group(1), (m.group(2) or "").lower()
        if not tag:
            continue  # a declaration or a bogus comment
        if tag in SKIP_TAGS:
            skip = max(0, skip - 1) if closing else skip + 1
            continue
        if tag in BLOCK_TAGS:
            out.append("\n")
        if tag == "a":
            if not closing:
                links.append(tag_attributes(m.group(3)).get("href") or "")
            elif links:
                href = links.pop()
                if href and not href.startswith("#"):
                    out.append(f" <{one_line(href)[:MAX_HREF]}>")
        elif tag == "img" and not closing:
            alt = tag_attributes(m.group(3)).get("alt")
            if alt:
                out.append(f"[picture: {alt}]")
    if not skip:
        out.append(_unescape(markup[pos:]))
    text = "".join(out)
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
