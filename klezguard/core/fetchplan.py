"""How many bytes of each MIME part the engine needs.

The IMAP scanner fetches only these bytes (a ranged BODY.PEEK per part), so every rule must work
on them. Keeping the plan in one place lets the scanner and the tests agree on what a partial view
holds.
"""

import math

HEAD_BYTES = 4 * 1024  # magic bytes, EICAR, script sniffing of an ordinary attachment
TEXT_BYTES = 256 * 1024  # message bodies, HTML/SVG attachments, delivery reports
CONTAINER_BYTES = 8 * 1024 * 1024  # archives and Office files are only readable whole

ARCHIVE_EXTENSIONS = frozenset("zip rar 7z jar gz tgz bz2 xz cab arj ace lzh lha z tar".split())
# Office files: the old binary formats, RTF and the zip-based types, plain ones too. A file named .docx is
# judged by its content: it can still hold a VBA project, a remote template or a DDE field.
OFFICE_EXTENSIONS = frozenset(
    "doc dot xls xlt xla ppt pps pot docm dotm xlsm xlsb xltm xlam pptm potm ppsm ppam sldm rtf "
    "docx dotx xlsx xltx pptx potx ppsx sldx".split()
)
# Containers that are not archives: disk images (listed with pycdlib) and Outlook's winmail.dat (TNEF).
IMAGE_EXTENSIONS = frozenset({"iso", "img", "udf"})
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
CONTAINER_TYPES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/x-rar",
        "application/x-7z-compressed",
        "application/java-archive",
        "application/gzip",
        "application/x-gzip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/rtf",
        "text/rtf",
        "application/x-iso9660-image",
        *TNEF_TYPES,
    }
)
TEXT_TYPES = frozenset(
    {
        "text/plain",
        "text/html",
        "image/svg+xml",
        "message/delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/rfc822",
        "message/global",
        "message/global-headers",
        "message/global-delivery-status",
        "application/xhtml+xml",
    }
)


def extension(filename: str) -> str:
    """The last extension of a file name, lower case, without the dot ('' when there is none)."""
    name = filename.strip().rstrip(". ")
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot >= 0 else ""


def decoded_bytes_needed(content_type: str, filename: str) -> int:
    """Decoded bytes of a part that the rules look at."""
    ext = extension(filename)
    if content_type in CONTAINER_TYPES or ext in ARCHIVE_EXTENSIONS or ext in OFFICE_EXTENSIONS:
        return CONTAINER_BYTES
    if ext in IMAGE_EXTENSIONS or filename.strip().lower() == "winmail.dat":
        return CONTAINER_BYTES
    if content_type.startswith("application/vnd.ms-") and "macroenabled" in content_type:
        return CONTAINER_BYTES
    if content_type.startswith("application/vnd.openxmlformats-officedocument."):
        return CONTAINER_BYTES
    # (a multipart the parser could not split, for a missing or wrong boundary, is read like a text: the
    # parts it hides are looked for in it)
    if content_type.startswith("multipart/"):
        return TEXT_BYTES
    if content_type in TEXT_TYPES or ext in {"htm", "html", "shtml", "xhtml", "svg", "hta", "mht", "mhtml"}:
        return TEXT_BYTES
    return HEAD_BYTES


def encoded_bytes_needed(decoded: int, encoding: str) -> int:
    """Transfer-encoded bytes to fetch so that `decoded` bytes come out after decoding."""
    encoding = encoding.lower()
    if encoding == "base64":
        # 57 decoded bytes per 76-character line plus CRLF; one extra line for slack.
        return (math.ceil(decoded / 57) + 1) * 78
    if encoding == "quoted-printable":
        return decoded * 3 + 78
    return decoded
