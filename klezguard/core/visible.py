"""Makes hidden characters visible, so evidence shows a file name or address as it really is."""

import functools
import unicodedata

# Characters that change how text is shown without being seen themselves.
INVISIBLE = {
    0x00AD: "SOFT HYPHEN",
    0x034F: "COMBINING GRAPHEME JOINER",
    0x061C: "ARABIC LETTER MARK",
    0x115F: "HANGUL CHOSEONG FILLER",
    0x1160: "HANGUL JUNGSEONG FILLER",
    0x17B4: "KHMER VOWEL INHERENT AQ",
    0x17B5: "KHMER VOWEL INHERENT AA",
    0x180E: "MONGOLIAN VOWEL SEPARATOR",
    0x200B: "ZERO WIDTH SPACE",
    0x200C: "ZERO WIDTH NON-JOINER",
    0x200D: "ZERO WIDTH JOINER",
    0x200E: "LEFT-TO-RIGHT MARK",
    0x200F: "RIGHT-TO-LEFT MARK",
    0x2028: "LINE SEPARATOR",
    0x2029: "PARAGRAPH SEPARATOR",
    0x202A: "LEFT-TO-RIGHT EMBEDDING",
    0x202B: "RIGHT-TO-LEFT EMBEDDING",
    0x202C: "POP DIRECTIONAL FORMATTING",
    0x202D: "LEFT-TO-RIGHT OVERRIDE",
    0x202E: "RIGHT-TO-LEFT OVERRIDE",
    0x2060: "WORD JOINER",
    0x2061: "FUNCTION APPLICATION",
    0x2062: "INVISIBLE TIMES",
    0x2063: "INVISIBLE SEPARATOR",
    0x2064: "INVISIBLE PLUS",
    0x2066: "LEFT-TO-RIGHT ISOLATE",
    0x2067: "RIGHT-TO-LEFT ISOLATE",
    0x2068: "FIRST STRONG ISOLATE",
    0x2069: "POP DIRECTIONAL ISOLATE",
    0x206A: "INHIBIT SYMMETRIC SWAPPING",
    0x206F: "NOMINAL DIGIT SHAPES",
    0x3164: "HANGUL FILLER",
    0xFEFF: "ZERO WIDTH NO-BREAK SPACE",
    0xFFA0: "HALFWIDTH HANGUL FILLER",
}
BIDI_CONTROLS = frozenset({0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069})
ODD_SPACES = frozenset({0x00A0, 0x1680, 0x3000} | set(range(0x2000, 0x200B)) | {0x202F, 0x205F})


def hidden_characters(text: str) -> list[str]:
    """Names of the invisible or direction-changing characters in `text`, in order."""
    found = []
    for ch in text:
        cp = ord(ch)
        if cp in INVISIBLE:
            found.append(f"U+{cp:04X} {INVISIBLE[cp]}")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t":
            found.append(f"U+{cp:04X} {unicodedata.name(ch, 'CONTROL CHARACTER')}")
    return found


def visible(text: str) -> str:
    """`text` with each hidden character replaced by a marker such as [U+202E RIGHT-TO-LEFT OVERRIDE]
    and runs of white space shown with their length."""
    if text.isascii() and text.isprintable() and "    " not in text:
        return text  # nothing hidden (no control, no odd space) and no run of four spaces to count
    out: list[str] = []
    run = 0

    def flush() -> None:
        if run:
            out.append(" " * run if run < 4 else f" [{run} spaces] ")

    for ch in text:
        cp = ord(ch)
        if ch == " " or cp in ODD_SPACES:
            run += 1
            continue
        flush()
        run = 0
        if cp in INVISIBLE:
            out.append(f"[U+{cp:04X} {INVISIBLE[cp]}]")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            out.append(f"[U+{cp:04X}]")
        else:
            out.append(ch)
    flush()
    return "".join(out)


# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts colour, cursor and
# title sequences; U+009B is CSI on its own), DEL, and those that reorder or break the lines around them.
_TERMINAL_UNSAFE = frozenset({*range(0x00, 0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS,
                              0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0xD800, 0xE000)})


def terminal_safe(text: str, keep: str = "\n\t") -> str:
    """`text` with every character a terminal would act on written as \\uXXXX, so text from a message
    can never move the cursor, clear a line, retitle the window or reorder what is printed. The same
    escape is valid inside a JSON string, so JSON output stays valid and means the same."""
    if text.isprintable() and text.isascii():
        return text
    return text.translate(_escapes(keep))


@functools.lru_cache(maxsize=16)
def _escapes(keep: str) -> dict[int, str]:
    """terminal_safe's translation table: each unsafe character not in `keep` to its \\uXXXX escape."""
    kept = {ord(ch) for ch in keep}
    return {cp: f"\\u{cp:04x}" for cp in _TERMINAL_UNSAFE if cp not in kept}


def mark_overrides(text: str) -> str:
    """`text` with each direction override, embedding or isolate shown as a marker such as [U+202E]:
    it can then no longer turn the rest of its line around (a link target read backwards, say)."""
    if text.isascii():
        return text
    return "".join(f"[U+{ord(ch):04X}]" if ord(ch) in BIDI_CONTROLS else ch for ch in text)


def one_line(text: str) -> str:
    """A subject, a name or a file name as the app shows it on one line: line breaks and other controls
    written as \\uXXXX, and each direction override or isolate shown as a marker such as [U+202E], so a
    name can never turn an address around or start a fake line."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        cp = ord(ch)
        if cp in BIDI_CONTROLS:
            out.append(f"[U+{cp:04X}]")
        elif cp in _TERMINAL_UNSAFE:
            out.append(" " if ch == "\t" else f"\\u{cp:04x}")
        else:
            out.append(ch)
    return "".join(out)


def readable_address(addr: str) -> str:
    """An address as a person reads it: an international domain in its own letters, with the form mail
    servers use after it, so that a look-alike cannot hide behind either ("info@müller.de (xn--mller-kva.de)")."""
    from klezguard.core.domains import unicode_domain

    local, at, domain = addr.rpartition("@")
    if not at or "xn--" not in domain.lower():
        return addr
    shown = unicode_domain(domain)
    return addr if shown == domain.lower() else f"{local}@{shown} ({domain})"
