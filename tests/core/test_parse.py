"""The message model: lenient parsing, IMAP part numbers, and the partial view."""

import base64

from klezguard.core.parse import decode_transfer, from_bytes, from_partial, partial_view
from tests.mailfactory import build

PDF = b"%PDF-1.4\n" + b"0" * 10000


def test_parts_are_numbered_like_imap():
    raw = build(html="<p>Hi</p>", attachments=[("a.pdf", "application/pdf", PDF)])
    msg = from_bytes(raw)
    assert [(p.part_id, p.content_type) for p in msg.parts] == [
        ("1.1", "text/plain"),
        ("1.2", "text/html"),
        ("2", "application/pdf"),
    ]
    assert msg.attachments[0].filename == "a.pdf"
    assert msg.attachments[0].data == PDF


def test_single_part_message_is_part_1():
    msg = from_bytes(b"From: a@b.example\nSubject: x\n\nhello\n")
    assert [p.part_id for p in msg.parts] == ["1"]
    assert msg.body_text.strip() == "hello"


def test_garbage_never_raises_and_keeps_defects():
    for raw in (b"", b"\x00\xff" * 50, b"Content-Type: multipart/mixed\n\nno boundary", b"From: <<<@>>>\n\n"):
        msg = from_bytes(raw)
        assert msg.subject is not None
        assert isinstance(msg.defects, list)
    broken = from_bytes(b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: text/plain\n\nhi\n')
    assert broken.defects  # missing closing boundary is recorded, not raised


def test_eight_bit_headers_are_recovered():
    msg = from_bytes("From: Jürgen Maier <j@maier.example>\nSubject: Grüße\n\nx".encode())
    assert msg.from_addr.name == "Jürgen Maier"
    assert msg.subject == "Grüße"


def test_rfc2231_and_rfc2047_file_names():
    raw = (
        b"From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename*=utf-8''invoice_%E2%80%AEfdp.scr\n"
        b"Content-Transfer-Encoding: base64\n\nTVqQAA==\n--b\n"
        b"Content-Type: application/pdf; name=\"=?utf-8?q?R=C3=A9sum=C3=A9.pdf?=\"\n\n%PDF\n--b--\n"
    )
    for msg in (from_bytes(raw), from_partial(*partial_view(raw))):
        assert msg.parts[0].filename == "invoice_\u202efdp.scr"
        assert msg.parts[0].data.startswith(b"MZ")
        assert msg.parts[1].filename == "Résumé.pdf"


def test_cut_base64_decodes_to_its_prefix():
    data = bytes(range(256)) * 100
    encoded = base64.encodebytes(data)
    for cut in (1, 77, 78, 1000, 4097, 5001):
        prefix = decode_transfer(encoded[:cut], "base64", truncated=True)
        assert data.startswith(prefix)
        assert len(prefix) >= (cut // 78 * 57) - 3


def test_cut_quoted_printable_decodes_to_its_prefix():
    encoded = b"caf=C3=A9 " * 50
    for cut in range(1, 40):
        prefix = decode_transfer(encoded[:cut], "quoted-printable", truncated=True)
        assert ("café " * 50).encode().startswith(prefix)


def test_partial_view_holds_only_the_fetch_plan():
    big = b"%PDF-1.4\n" + b"x" * 200_000
    raw = build(attachments=[("big.pdf", "application/pdf", big)])
    head, structure, fetched = partial_view(raw)
    assert len(head) < 2000
    msg = from_partial(head, structure, fetched, len(raw))
    pdf = msg.attachments[0]
    assert not pdf.complete
    assert big.startswith(pdf.data) and 4096 <= len(pdf.data) < 8000
    assert pdf.size == structure[-1].size > 200_000
    assert msg.subject == from_bytes(raw).subject


def test_addresses():
    msg = from_bytes(
        b'From: "Weber, Anna" <Anna@Weber-Bau.example>\nReply-To: x@y.example, z@w.example\n'
        b"Return-Path: <>\nTo: o@own.example\n\nx"
    )
    assert msg.from_addr.addr == "Anna@Weber-Bau.example"
    assert msg.from_addr.domain == "weber-bau.example"
    assert [a.addr for a in msg.reply_to] == ["x@y.example", "z@w.example"]
    assert msg.null_return_path and msg.return_path is None


def test_garbled_charset_names_never_raise():
    raw = (b"From: a@b.example\nContent-Type: text/html; charset=\"utf\x00-8\"\n\n"
           b'<a href="http://1.2.3.4/">x</a>')
    msg = from_bytes(raw)
    assert "1.2.3.4" in msg.body_html
