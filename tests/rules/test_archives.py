"""Archive listing under hard limits: zip bombs (many members, absurd ratios, deep nesting, huge gzip
streams) cost next to nothing and are reported; nothing is written to disk."""

import gzip
import io
import struct
import time
import zipfile
import zlib

from klezguard.core import archives
from tests.mailfactory import build, check, rules

FAST = 2.0  # seconds; each bomb must be judged well within this (on the full and the partial view)


def zip_of(files: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compress, compresslevel=9) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return bio.getvalue()


def many_members(n: int) -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"f{i}.txt", b"")
    return bio.getvalue()


def high_ratio(size: int) -> bytes:
    """A zip with one member of `size` zero bytes, compressed to about size/1000."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return bio.getvalue()


def timed_check(name: str, mime: str, data: bytes):
    raw = build(attachments=[(name, mime, data)])
    start = time.perf_counter()
    result = check(raw)
    assert time.perf_counter() - start < FAST
    return result


def test_many_members_stop_the_listing():
    result = timed_check("bomb.zip", "application/zip", many_members(5000))
    finding = next(f for f in result.findings if f.rule == "attachment.archive_bomb")
    assert f"more than {archives.MAX_MEMBERS} files" in finding.explanation
    assert finding.severity == "medium"


def test_high_ratio_member_is_not_read():
    data = high_ratio(100 * 1024 * 1024)  # 100 MB of zeros in about 100 KB
    assert len(data) < 1024 * 1024
    result = timed_check("invoice.zip", "application/zip", data)
    finding = next(f for f in result.findings if f.rule == "attachment.archive_bomb")
    assert "zip bomb" in finding.explanation


def test_deep_nesting_stops():
    data = zip_of({"invoice.pdf": b"%PDF-1.4\n"})
    for level in range(6):
        data = zip_of({f"level{level}.zip": data})
    result = timed_check("nested.zip", "application/zip", data)
    finding = next(f for f in result.findings if f.rule == "attachment.archive_bomb")
    assert "inside archives inside archives" in finding.explanation
    assert "attachment.nested_archive" not in rules(result)


def test_gzip_bomb_is_decompressed_only_to_the_budget():
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [stream.compress(bytes(1024 * 1024)) for _ in range(100)]  # 100 MB of zeros
    data = b"".join(parts) + stream.flush()
    budget = archives.Budget()
    start = time.perf_counter()
    listing = archives.list_compressed("gzip", data, "backup.tar.gz", budget)
    assert time.perf_counter() - start < FAST
    assert budget.left >= 0 and listing.truncated
    timed_check("backup.gz", "application/gzip", data)


def test_read_is_bounded_even_when_the_header_lies():
    """A member that claims to be small but inflates to much more is cut at the asked length."""
    data = bytearray(zip_of({"a.txt": bytes(5 * 1024 * 1024)}))
    # Patch the central directory's uncompressed size to 10 bytes.
    pos = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, pos + 24, 10)
    listing = archives.list_zip(bytes(data))
    member = listing.members[0]
    assert member.size == 10
    got = listing.read(member, 4096, archives.Budget())
    assert got is None or len(got) <= 4096


def test_budget_is_shared_across_levels():
    budget = archives.Budget(left=100)
    assert budget.take(60) and not budget.take(60) and budget.take(40) and budget.left == 0


def test_listing_holds_names_sizes_and_encryption():
    data = zip_of({"dir/Invoice.pdf": b"%PDF-1.4\n", "notes.txt": b"hello"})
    listing = archives.list_zip(data)
    assert [(m.name, m.size, m.encrypted) for m in listing.members] == [
        ("dir/Invoice.pdf", 9, False),
        ("notes.txt", 5, False),
    ]
    assert not listing.encrypted and not listing.bomb


def test_gzip_header_name():
    bio = io.BytesIO()
    with gzip.GzipFile(filename="report.pdf", mode="wb", fileobj=bio) as gz:
        gz.write(b"%PDF-1.4\n")
    assert archives.gzip_inner_name(bio.getvalue()) == "report.pdf"
    assert archives.gzip_inner_name(gzip.compress(b"x")) == ""
