"""Lists what an archive holds, from bytes in memory, under hard limits so that a zip bomb costs nothing.

Nothing is extracted to disk and nothing is run. Zip and tar members can be read (bounded) so that the
caller can sniff them; RAR and 7z are only listed (their libraries need outside tools or extract whole
solid blocks to read content). Compressed single files (gzip, bzip2, xz) are decompressed up to the byte
budget and listed as one member, or as a tar.
"""

import binascii
import bz2
import io
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_MEMBERS = 1000  # more than this: the listing stops and says so
MAX_DEPTH = 3  # archives inside archives are opened this many levels deep (the attachment is level 0)
MAX_TOTAL = 10 * 1024 * 1024  # decompressed bytes read from one message, all attachments and levels together
MAX_MEMBER = 4 * 1024 * 1024  # a single member is read whole only up to this size
MAX_RATIO = 200  # a member that claims to expand more than this is not read
BOMB_RATIO = 1000  # ... and more than this (or more than BOMB_SIZE in all) marks the archive a bomb
BOMB_SIZE = 1024 * 1024 * 1024
MAX_LZMA_DICT = 64 * 1024 * 1024  # an LZMA dictionary larger than this is not decoded (it is memory up front)


@dataclass(slots=True)
class Budget:
    """Decompressed bytes still allowed for one message (shared by its attachments and all nesting levels)."""

    left: int = MAX_TOTAL

    def take(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True


@dataclass(slots=True)
class Member:
    name: str
    size: int  # uncompressed size as the archive states it (-1 unknown)
    packed: int = -1
    encrypted: bool = False
    is_dir: bool = False
    key: object = None  # what the reader needs to find the member


@dataclass(slots=True)
class Listing:
    kind: str
    members: list[Member] = field(default_factory=list)
    encrypted: bool = False  # some content needs a password
    names_hidden: bool = False  # even the names are encrypted
    truncated: bool = False  # more than MAX_MEMBERS: the rest is not listed
    bomb: str = ""  # why the archive looks built to overwhelm scanners ('' if it does not)
    error: str = ""
    reader: Callable[[Member, int], bytes | None] | None = None

    def read(self, member: Member, limit: int, budget: Budget) -> bytes | None:
        """Up to `limit` decompressed bytes of a member, or None when it cannot or must not be read. Never
        more: every reader decompresses with an output limit, whatever the method and the stated sizes."""
        if self.reader is None or member.encrypted or member.is_dir:
            return None
        if member.size >= 0 and member.packed > 0 and member.size > MAX_RATIO * member.packed and limit > 4096:
            return None
        want = min(limit, member.size) if member.size >= 0 else limit
        if not budget.take(max(want, 0)):
            return None
        try:
            data = self.reader(member, want + 1)  # one byte more tells a member that is bigger than it says
        except Exception:  # noqa: BLE001 - hostile archives break decoders in many ways; unreadable = skip
            return None
        if data is not None and len(data) > want and 0 <= member.size == want:
            self.bomb = self.bomb or "lying"
        return data[:want] if data is not None else None


def _zip_count(data: bytes) -> int:
    """Entry count from the end-of-central-directory record (-1 if not found), read before zipfile parses
    every entry, so that a zip with a million entries costs nothing."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if pos < 0 or pos + 22 > len(data):
        return -1
    count: int = struct.unpack_from("<H", data, pos + 10)[0]
    return count


def list_zip(data: bytes) -> Listing:
    listing = Listing("zip")
    count = _zip_count(data)
    if count > MAX_MEMBERS or count == 0xFFFF:
        listing.truncated = True
        listing.bomb = "many_files"
        return listing
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - zipfile raises many types on damaged archives
        listing.error = type(exc).__name__
        return listing
    total = 0
    for info in infos[:MAX_MEMBERS]:
        encrypted = bool(info.flag_bits & 0x1)
        listing.encrypted |= encrypted
        listing.members.append(
            Member(info.filename, info.file_size, info.compress_size, encrypted, info.is_dir(), info)
        )
        total += info.file_size
        if info.file_size > BOMB_RATIO * max(info.compress_size, 1) and info.file_size > MAX_MEMBER:
            listing.bomb = "ratio"
    if total > BOMB_SIZE:
        listing.bomb = "size"
    listing.truncated = len(infos) > MAX_MEMBERS

    listing.reader = lambda member, limit: _zip_member(data, member.key, limit)  # type: ignore[arg-type]
    return listing


def _zip_member(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """At most `limit` decompressed bytes of a zip member, read from its local header on. zipfile's own
    reader inflates a bzip2 or LZMA member in one call without an output limit: a few KB can become
    gigabytes. Methods other than stored, deflate, bzip2 and LZMA are not read."""
    offset = info.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_len + extra_len
    raw = data[start : start + info.compress_size]
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        return raw[:limit]
    if method == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, limit)
    if method == zipfile.ZIP_BZIP2:
        return bz2.BZ2Decompressor().decompress(raw, max_length=limit)
    if method == zipfile.ZIP_LZMA and len(raw) >= 9:
        size = struct.unpack_from("<H", raw, 2)[0]  # version (2 bytes), properties size, properties
        props = raw[4 : 4 + size]
        if len(props) < 5:
            return None
        pb, rest = divmod(props[0], 45)
        lp, lc = divmod(rest, 9)
        dict_size = int.from_bytes(props[1:5], "little")
        if pb > 4 or dict_size > MAX_LZMA_DICT:  # a dictionary is memory the decoder takes before any output
            return None
        filters = [{"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}]
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters).decompress(raw[4 + size :], max_length=limit)
    return None


def list_rar(data: bytes) -> Listing:
    listing = Listing("rar")
    try:
        import rarfile  # noqa: PLC0415 - only needed for the rare RAR attachment

        rf = rarfile.RarFile(io.BytesIO(data))
        if rf.needs_password() and not rf.infolist():
            listing.encrypted = listing.names_hidden = True
            return listing
        infos = rf.infolist()
    except Exception as exc:  # noqa: BLE001 - rarfile raises its own and OS errors on damaged/locked files
        name = type(exc).__name__
        if "Password" in name or "Encrypt" in name:
            listing.encrypted = listing.names_hidden = True
        else:
            listing.error = name
        return listing
    for info in infos[:MAX_MEMBERS]:
        encrypted = bool(info.needs_password())
        listing.encrypted |= encrypted
        listing.members.append(Member(info.filename, info.file_size, info.compress_size, encrypted, info.is_dir()))
    listing.truncated = len(infos) > MAX_MEMBERS
    return listing


def list_7z(data: bytes) -> Listing:
    listing = Listing("7z")
    try:
        import py7zr  # noqa: PLC0415 - only needed for the rare 7z attachment

        with py7zr.SevenZipFile(io.BytesIO(data), mode="r") as sz:
            encrypted = bool(sz.needs_password())
            infos = sz.list()
    except Exception as exc:  # noqa: BLE001 - py7zr raises many types; a locked header asks for a password
        name = type(exc).__name__
        if "Password" in name:
            listing.encrypted = listing.names_hidden = True
        else:
            listing.error = name
        return listing
    listing.encrypted = encrypted
    total = 0
    for info in infos[:MAX_MEMBERS]:
        size = int(getattr(info, "uncompressed", -1) or 0)
        total += size
        listing.members.append(Member(info.filename, size, -1, encrypted, bool(info.is_directory)))
    listing.truncated = len(infos) > MAX_MEMBERS
    if total > BOMB_SIZE:
        listing.bomb = "size"
    return listing


def gzip_inner_name(data: bytes) -> str:
    """The original file name stored in a gzip header (FNAME), or ''."""
    if len(data) < 10 or data[:2] != b"\x1f\x8b":
        return ""
    flags = data[3]
    pos = 10
    if flags & 0x04:  # FEXTRA
        if len(data) < pos + 2:
            return ""
        pos += 2 + struct.unpack_from("<H", data, pos)[0]
    if not flags & 0x08:  # FNAME
        return ""
    end = data.find(b"\x00", pos, pos + 1024)
    return data[pos:end].decode("latin-1") if end > pos else ""


def _decompress(kind: str, data: bytes, limit: int) -> tuple[bytes, bool, int]:
    """At most `limit` decompressed bytes; whether the stream ended within them; and how many input
    bytes they took (-1 where the library does not say)."""
    if kind == "gzip":
        obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = obj.decompress(data, limit)
        return out, obj.eof, len(data) - len(obj.unconsumed_tail) - len(obj.unused_data)
    decomp = bz2.BZ2Decompressor() if kind == "bz2" else lzma.LZMADecompressor(memlimit=MAX_LZMA_DICT * 2)
    pieces: list[bytes] = []
    got = used = 0
    while got < limit and not decomp.eof:  # fed in slices, so that the input it took is known
        if decomp.needs_input:
            if used >= len(data):
                break
            piece = decomp.decompress(data[used : used + 4096], max_length=limit - got)
            used = min(len(data), used + 4096)
        else:
            piece = decomp.decompress(b"", max_length=limit - got)
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces), decomp.eof, used


def _inner_name(kind: str, data: bytes, outer: str) -> str:
    if kind == "gzip":
        stored = gzip_inner_name(data)
        if stored:
            return stored
    lower = outer.lower()
    for suffix, repl in ((".tgz", ".tar"), (".tbz2", ".tar"), (".tbz", ".tar"), (".txz", ".tar"),
                         (".gz", ""), (".bz2", ""), (".xz", "")):
        if lower.endswith(suffix):
            return outer[: len(outer) - len(suffix)] + repl
    return outer


def list_compressed(kind: str, data: bytes, outer_name: str, budget: Budget) -> Listing:
    """A gzip/bzip2/xz file holds one file: list it (or the tar inside it)."""
    listing = Listing(kind)
    inner = _inner_name(kind, data, outer_name)
    claimed = struct.unpack_from("<I", data, len(data) - 4)[0] if kind == "gzip" and len(data) >= 18 else -1
    take = min(budget.left, MAX_TOTAL)
    try:
        content, ended, used = _decompress(kind, data, take)
    except Exception as exc:  # noqa: BLE001 - zlib/bz2/lzma errors on damaged data
        listing.error = type(exc).__name__
        return listing
    budget.take(len(content))
    if not ended and len(content) >= take:
        ratio = len(content) / max(used, 1) if used >= 0 else 0
        listing.bomb = "size" if len(data) * BOMB_RATIO < take or ratio > MAX_RATIO else ""
        listing.truncated = True
    if inner.lower().endswith(".tar") or (len(content) > 262 and content[257:262] == b"ustar"):
        tar = list_tar(content)
        tar.kind = kind + "+tar"
        tar.truncated |= listing.truncated
        tar.bomb = tar.bomb or listing.bomb
        return tar
    size = len(content) if ended else claimed
    listing.members.append(Member(inner, size, len(data), key=content))
    listing.reader = lambda member, limit: member.key[:limit]  # type: ignore[index]
    return listing


def list_tar(data: bytes) -> Listing:
    """Lists a tar held in memory; a cut-off tar lists the members before the cut."""
    listing = Listing("tar")
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - closed with the BytesIO
    except Exception as exc:  # noqa: BLE001 - tarfile raises ReadError and others on damaged data
        listing.error = type(exc).__name__
        return listing
    try:
        while True:
            info = tf.next()
            if info is None:
                break
            if len(listing.members) >= MAX_MEMBERS:
                listing.truncated = True
                break
            listing.members.append(Member(info.name, info.size, info.size, False, info.isdir(), info))
    except Exception:  # noqa: BLE001 - a cut-off tar ends the listing where it is cut
        listing.truncated = True

    def read(member: Member, limit: int) -> bytes:
        start = member.key.offset_data  # type: ignore[attr-defined]
        return data[start : start + min(limit, member.size)]

    listing.reader = read
    return listing


def list_archive(kind: str, data: bytes, outer_name: str, budget: Budget) -> Listing | None:
    """The listing of an archive of `kind` (as `filetypes.sniff` names it), or None for other kinds."""
    if kind == "zip":
        return list_zip(data)
    if kind == "rar":
        return list_rar(data)
    if kind == "7z":
        return list_7z(data)
    if kind in ("gzip", "bz2", "xz"):
        return list_compressed(kind, data, outer_name, budget)
    if kind == "tar":
        return list_tar(data)
    return None


# --- disk images, Outlook's winmail.dat and uuencoded text: containers that are not archives -------------

ISO_MAGIC_OFFSET = 0x8001  # "CD001" (ISO 9660) or "BEA01"/"NSR02" (UDF) in the volume descriptors
MAX_ISO_DIRS = 200  # directories of a disk image walked


def is_iso(data: bytes) -> bool:
    """An ISO 9660 or UDF image, by its volume descriptors (32 KB in: the first bytes are empty)."""
    tag = data[ISO_MAGIC_OFFSET : ISO_MAGIC_OFFSET + 5]
    return tag in (b"CD001", b"BEA01", b"NSR02", b"NSR03")


def list_iso(data: bytes) -> Listing:
    """The files of an ISO 9660 / UDF disk image (pycdlib), under the long names Windows shows (Joliet or
    UDF, else ISO 9660 without its ';1'). Members can be read, bounded."""
    listing = Listing("iso")
    try:
        import pycdlib  # noqa: PLC0415 - only for the rare disk image

        iso = pycdlib.PyCdlib()
        iso.open_fp(io.BytesIO(data))
        if iso.has_udf():
            facet = "udf_path"
        elif iso.has_joliet():
            facet = "joliet_path"
        else:
            facet = "iso_path"
        dirs = 0
        for here, _subdirs, files in iso.walk(**{facet: "/"}):
            dirs += 1
            if dirs > MAX_ISO_DIRS:
                listing.truncated = True
                break
            for name in files:
                if len(listing.members) >= MAX_MEMBERS:
                    listing.truncated = True
                    break
                path = here.rstrip("/") + "/" + name
                shown = path.lstrip("/")
                if facet == "iso_path":
                    shown = shown.split(";", 1)[0].rstrip(".")
                size = -1
                try:
                    size = int(iso.get_record(**{facet: path}).get_data_length())
                except Exception:  # noqa: BLE001 - a damaged record: size unknown
                    size = -1
                listing.members.append(Member(shown, size, size, key=(facet, path)))
            if listing.truncated:
                break
    except Exception as exc:  # noqa: BLE001 - pycdlib raises its own and struct errors on damaged images
        listing.error = type(exc).__name__
        if not listing.members:
            return listing

    def read(member: Member, limit: int) -> bytes | None:
        where: tuple[str, str] = member.key  # type: ignore[assignment]
        with iso.open_file_from_iso(**{where[0]: where[1]}) as f:
            out: bytes = f.read(limit)
        return out

    listing.reader = read
    return listing


TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_TNEF_KEEP = {0x9002, 0x8010, 0x800F, 0x9005}  # attachment start, title, data, MAPI properties
_TNEF_CODEPAGE = {0x9006, 0x9007}  # version, OEM code page


def _mapi_plausible(blob: bytes) -> bool:
    """True when every count in a MAPI property list fits in its bytes. tnefparse trusts the counts, so a
    hostile count of four billion would keep it busy for hours: such a list is left out."""
    n = len(blob)
    if n < 4:
        return False
    count = struct.unpack_from("<I", blob)[0]
    if count > n // 4:
        return False
    off = 4
    fixed = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8,
             0x0040: 8, 0x0048: 16}
    for _ in range(count):
        if off + 4 > n:
            return True  # tnefparse skips the rest one by one (at most n // 4 of them)
        kind, name = struct.unpack_from("<HH", blob, off)
        off += 4
        if name >= 0x8000:
            if off + 24 > n:
                return False
            named = struct.unpack_from("<I", blob, off + 16)[0]
            off += 20
            if named:
                length = struct.unpack_from("<I", blob, off)[0]
                off += 4 + length + (-length % 4)
            else:
                off += 4
        values = 1
        multi = bool(kind & 0x1000)
        kind &= ~0x1000
        if multi:
            if off + 4 > n:
                return False
            values = struct.unpack_from("<I", blob, off)[0]
            off += 4
            if values > (n - off) // 2 + 1:
                return False
        if kind in fixed:
            off += fixed[kind] * values
        elif kind in (0x001E, 0x001F, 0x000D, 0x0102, 0x0000):
            if not multi:
                if off + 4 > n:
                    return False
                values = struct.unpack_from("<I", blob, off)[0]
                off += 4
                if values > (n - off) // 4 + 1:
                    return False
            for _ in range(values):
                if off + 4 > n:
                    return False
                length = struct.unpack_from("<I", blob, off)[0]
                off += 4 + length + (-length % 4)
        else:
            return False
        if off > n:
            return False
    return True


def _tnef_objects(data: bytes) -> bytes | None:
    """The TNEF stream rebuilt with only what lists the attached files (within MAX_MEMBERS attachments),
    or None when it is not TNEF. Embedded mails (an attached Outlook item) and implausible MAPI lists are
    left out, so that tnefparse never meets what it cannot bound."""
    if not data.startswith(TNEF_SIGNATURE) or len(data) < 6:
        return None
    out = [data[:6]]
    pos, attachments = 6, 0
    while pos + 9 <= len(data):
        level = data[pos]
        name, _kind, length = struct.unpack_from("<HHI", data, pos + 1)
        end = pos + 9 + length + 2
        if end > len(data):
            break
        body = data[pos + 9 : pos + 9 + length]
        if name == 0x9002 and level == 2:
            attachments += 1
            if attachments > MAX_MEMBERS:
                break
        keep = (level == 2 and name in _TNEF_KEEP) or (level == 1 and name in _TNEF_CODEPAGE)
        if keep and name == 0x9005:
            keep = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46" not in body and (
                _mapi_plausible(body)
            )
        if keep and (attachments or level == 1):
            out.append(data[pos:end])
        pos = end
    return b"".join(out)


def list_tnef(data: bytes) -> Listing:
    """The files inside Outlook's winmail.dat (TNEF, read with tnefparse). The files are stored whole, not
    compressed, so they can be read as they are."""
    listing = Listing("tnef")
    stream = _tnef_objects(data)
    if stream is None:
        listing.error = "not TNEF"
        return listing
    try:
        import logging  # noqa: PLC0415

        import tnefparse  # noqa: PLC0415 - only for the rare winmail.dat

        logging.getLogger("tnefparse").setLevel(logging.CRITICAL + 1)
        tnef = tnefparse.TNEF(stream, do_checksum=False)
        found = tnef.attachments
    except Exception as exc:  # noqa: BLE001 - tnefparse raises many types on damaged files
        listing.error = type(exc).__name__
        return listing
    for att in found[:MAX_MEMBERS]:
        try:
            name = str(att.long_filename() or att.name or "")
        except Exception:  # noqa: BLE001 - a name in an unknown code page
            name = ""
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        content = att.data if isinstance(att.data, bytes) else b""
        listing.members.append(Member(name.strip("\x00"), len(content), len(content), key=content))
    listing.truncated = len(found) > MAX_MEMBERS
    listing.reader = lambda member, limit: member.key[:limit]  # type: ignore[index]
    return listing


_UU_BEGIN = re.compile(rb"^begin(?:-base64)? +([0-7]{3,4}) +([^\r\n]{1,255}?)[ \t]*\r?$", re.M)
MAX_UU_FILES = 20  # uuencoded files looked for in one text


def _uu_line(line: bytes) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        # Some encoders pad lines; cut to the length the first character states (as uudecode does).
        size = ((line[0] - 32) & 63) * 4 + 5
        return binascii.a2b_uu(line[: size // 3])


def list_uuencoded(text: bytes) -> Listing:
    """Files uuencoded in a mail text ('begin 644 name' ... 'end'). Only complete files with every line
    decodable count: a text that merely mentions 'begin 644' holds none."""
    listing = Listing("uuencode")
    for m in _UU_BEGIN.finditer(text):
        if len(listing.members) >= MAX_UU_FILES:
            listing.truncated = True
            break
        if m.group(0).startswith(b"begin-base64"):
            continue  # (the base64 variant of uuencode is rare; not decoded)
        lines = text[m.end() :].split(b"\n", 200_000)
        chunks: list[bytes] = []
        ended = False
        for raw in lines[1:]:
            line = raw.rstrip(b"\r")
            if line.strip() == b"end":
                ended = True
                break
            if not line:
                break
            try:
                chunks.append(_uu_line(line))
            except (binascii.Error, IndexError):
                break
        if not ended or not any(chunks):
            continue
        content = b"".join(chunks)
        name = m.group(2).decode("utf-8", "replace").strip()
        listing.members.append(Member(name, len(content), -1, key=content))
    listing.reader = lambda member, limit: member.key[:limit]  # type: ignore[index]
    return listing
