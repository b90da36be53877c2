"""Messages built to overwhelm a mail scanner: bombs, floods and absurd shapes, each a few KB to a few MB.

Used by the bounded-work tests (each must be judged, with a finding that says what was too much, and
never hang or eat memory) and by benchmarks/bench_hostile.py (which prints the time and memory of the
worst). Built on the fly, deterministic; the biggest takes a few seconds to make and is cached."""

import bz2
import functools
import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Callable

from tests.mailfactory import build

MZ = b"MZ\x90\x00" + b"\x00" * 60


@functools.lru_cache(maxsize=4)
def _bz2_zeros(size: int) -> bytes:
    """A bzip2 stream of `size` zero bytes (one stream, many blocks)."""
    compressor = bz2.BZ2Compressor(9)
    chunk = b"\0" * 45_000_000
    out = []
    for start in range(0, size, len(chunk)):
        out.append(compressor.compress(chunk[: min(len(chunk), size - start)]))
    out.append(compressor.flush())
    return b"".join(out)


def _raw_zip(members: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip from (name, method, compressed bytes, stated uncompressed size, crc) without compressing
    anything here, so that a member can state honest or lying sizes for a stream made elsewhere."""
    out = io.BytesIO()
    central = []
    for name, method, data, size, crc in members:
        offset = out.tell()
        raw_name = name.encode()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 46, 0, method, 0, 0, crc, len(data), size,
                              len(raw_name), 0) + raw_name + data)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 46, 46, 0, method, 0, 0, crc, len(data),
                                   size, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)
    start = out.tell()
    for record in central:
        out.write(record)
    end = out.tell()
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), end - start, start, 0))
    return out.getvalue()


def bzip2_zip_bomb(honest: bool = True, members: int = 10, size: int = 450_000_000) -> bytes:
    stream = _bz2_zeros(size)
    crc = zlib.crc32(b"")  # wrong on purpose: nobody may read that far to check it
    stated = size if honest else 1000
    return _raw_zip([(f"invoice{n}.pdf", zipfile.ZIP_BZIP2, stream, stated, crc) for n in range(members)])


@functools.lru_cache(maxsize=2)
def lzma_zip_bomb(honest: bool = True, size: int = 50_000_000) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_LZMA) as z:
        z.writestr("invoice.pdf", b"\0" * size)
    data = buf.getvalue()
    if not honest:  # rewrite the stated sizes in both headers to 1000
        data = data.replace(struct.pack("<I", size), struct.pack("<I", 1000))
    return data


def deflate_zip_bomb(members: int = 10, size: int = 50_000_000) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = compressor.compress(b"\0" * size) + compressor.flush()
    crc = zlib.crc32(b"\0" * 1024)  # wrong on purpose
    return _raw_zip([(f"part{n}.bin", zipfile.ZIP_DEFLATED, stream, size, crc) for n in range(members)])


def nested_zip(depth: int = 30) -> bytes:
    data = MZ
    name = "setup.exe"
    for level in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), f"level{level}.zip"
    return data


def gzip_bomb(size: int = 50_000_000) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(b"\0" * size) + compressor.flush()


def xz_bomb(size: int = 50_000_000) -> bytes:
    return lzma.compress(b"\0" * size, preset=1)


def _attach(filename: str, mime: str, data: bytes) -> bytes:
    return build(subject=f"Your documents: {filename}", attachments=[(filename, mime, data)])


def many_parts(count: int, named: bool) -> bytes:
    boundary = "b0undary"
    head = (f"From: Anna <anna@weber-bau.example>\nTo: owner@example.com\nSubject: {count} parts\n"
            f"Message-ID: <parts{count}@weber-bau.example>\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n')
    name = '; name="file{}.txt"' if named else ""
    part = f"--{boundary}\nContent-Type: text/plain{name}\n\nx\n"
    body = "".join(part.format(n) if named else part for n in range(count))
    return (head + body + f"--{boundary}--\n").encode()


def deep_nesting(depth: int = 5000) -> bytes:
    head = ("From: Anna <anna@weber-bau.example>\nTo: owner@example.com\nSubject: nested\n"
            "Message-ID: <deep@weber-bau.example>\nMIME-Version: 1.0\n")
    opens = "".join(f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n' for n in range(depth))
    closes = "".join(f"\n--b{n}--\n" for n in reversed(range(depth)))
    return (head + opens + "Content-Type: text/plain\n\nx\n" + closes).encode()


def many_params(count: int = 100_000) -> bytes:
    params = "".join(f"; p{n}=v{n}" for n in range(count))
    return (f"From: a@weber-bau.example\nTo: owner@example.com\nSubject: params\nMIME-Version: 1.0\n"
            f"Content-Type: text/plain{params}\n\nx\n").encode()


def header_flood(count: int = 100_000) -> bytes:
    lines = "".join(f"X-Filler-{n}: value {n}\n" for n in range(count))
    return (f"From: a@weber-bau.example\nTo: owner@example.com\nSubject: headers\n{lines}\nx\n").encode()


def huge_header(size: int = 5_000_000) -> bytes:
    return (f"From: a@weber-bau.example\nTo: owner@example.com\nSubject: one long header\nX-Long: {'a' * size}\n\n"
            "x\n").encode()


def many_received(count: int = 20_000) -> bytes:
    hops = "".join(f"Received: from h{n}.example (h{n}.example [192.0.2.{n % 250}]) by mx.example; "
                   "Mon, 2 Nov 2026 10:00:00 +0000\n" for n in range(count))
    return (f"{hops}From: a@weber-bau.example\nTo: owner@example.com\nSubject: hops\n\nx\n").encode()


def www_flood(size: int = 256_000) -> bytes:
    return build(subject="www", body="www." * (size // 4))


def label_flood_from(labels: int = 4000) -> bytes:
    domain = ".".join(["a"] * labels) + ".example"
    return build(from_=f"Bank <service@{domain}>", subject="labels")


def html_flood(fragment: str, size: int = 256_000) -> bytes:
    """HTML only (no plain text), so the preview has to read it too."""
    raw = build(subject=f"html {fragment!r}", body="", html=fragment * (size // len(fragment)))
    return raw


def link_flood(count: int = 100_000) -> bytes:
    return build(subject="links", body="", html="".join(f'<a href="http://h{n}.example/">x</a>' for n in range(count)))


def long_token(size: int = 256_000) -> bytes:
    return build(subject="token", body="http://" + "a" * size)


def many_encoded_words(count: int = 50_000) -> bytes:
    return (f"From: a@weber-bau.example\nTo: owner@example.com\nSubject: {' '.join(['=?utf-8?q?a?='] * count)}\n\n"
            "x\n").encode()


def many_addresses(count: int = 50_000) -> bytes:
    to = ", ".join(f"u{n}@example.com" for n in range(count))
    return f"From: a@weber-bau.example\nTo: {to}\nSubject: everyone\n\nx\n".encode()


CASES: dict[str, Callable[[], bytes]] = {
    "zip bzip2 bomb, honest sizes": lambda: _attach("docs.zip", "application/zip", bzip2_zip_bomb(True)),
    "zip bzip2 bomb, lying sizes": lambda: _attach("docs.zip", "application/zip", bzip2_zip_bomb(False)),
    "zip lzma bomb, honest sizes": lambda: _attach("docs.zip", "application/zip", lzma_zip_bomb(True)),
    "zip lzma bomb, lying sizes": lambda: _attach("docs.zip", "application/zip", lzma_zip_bomb(False)),
    "zip deflate bomb": lambda: _attach("docs.zip", "application/zip", deflate_zip_bomb()),
    "zip nested 30 deep": lambda: _attach("docs.zip", "application/zip", nested_zip(30)),
    "gzip bomb": lambda: _attach("docs.gz", "application/gzip", gzip_bomb()),
    "xz bomb": lambda: _attach("docs.xz", "application/x-xz", xz_bomb()),
    "100k parts": lambda: many_parts(100_000, named=False),
    "100k attachments": lambda: many_parts(100_000, named=True),
    "5,000 nested multiparts": lambda: deep_nesting(5000),
    "100k Content-Type parameters": lambda: many_params(100_000),
    "100k header lines": lambda: header_flood(100_000),
    "a 5 MB header": lambda: huge_header(5_000_000),
    "20k Received hops": lambda: many_received(20_000),
    "www. flood, 256 KB": lambda: www_flood(256_000),
    "From domain of 4,000 labels": lambda: label_flood_from(4000),
    "<!-- flood, 256 KB": lambda: html_flood("<!--"),
    "<style> flood, 256 KB": lambda: html_flood("<style>"),
    "<script> flood, 256 KB": lambda: html_flood("<script>"),
    "<title> flood, 256 KB": lambda: html_flood("<title>"),
    "<a flood, 256 KB": lambda: html_flood("<a "),
    "<a newline flood, 256 KB": lambda: html_flood("<a\n"),
    "100k links": lambda: link_flood(100_000),
    "256 KB word": lambda: long_token(256_000),
    "50k encoded words": lambda: many_encoded_words(50_000),
    "50k addresses": lambda: many_addresses(50_000),
}
