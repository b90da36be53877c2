"""Malformed mail never raises and never takes long: mutations of our own test messages."""

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klezguard.core.parse import from_bytes, from_partial, partial_view
from klezguard.rules.engine import evaluate
from tests.mailfactory import auth, build, context

DEMO = Path(__file__).resolve().parent.parent / "klezguard" / "resources" / "demo"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("scan.pdf.exe", b"MZ" + b"\0" * 100)
        z.writestr("inner.zip", b"PK\x03\x04" + b"\0" * 40)
    return buf.getvalue()


SEEDS = [
    build(headers=[("Authentication-Results", auth(dmarc="fail"))], html='<a href="http://1.2.3.4/x">https://bank.example</a>'),
    build(
        from_='"Boss <boss@harbour-test.example>" <x@evil.example>',
        attachments=[("a.zip", "application/zip", _zip())],
    ),
    build(attachments=[("invoice_\u202efdp.scr", "audio/x-wav", b"MZ\x90\x00")]),
    b"From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\n\n"
    b"--x\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--x\nContent-Type: text/rfc822-headers\n\n"
    b"Message-ID: <abc@own.example>\nFrom: o@harbour-test.example\n--x--\n",
] + [p.read_bytes() for p in sorted(DEMO.rglob("*.eml"))[:12]]

CTX = context(sent=[SEEDS[0]])


def mutate(raw: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(raw)
    for kind, pos, value in ops:
        if not data:
            break
        i = pos % len(data)
        if kind == 0:
            data[i] = value
        elif kind == 1:
            del data[i : i + value % 64]
        elif kind == 2:
            data[i:i] = data[max(0, i - value) : i]  # duplicate a run (headers, boundaries)
        elif kind == 3:
            data[i:i] = b"\n--" if value % 2 else b"=?utf-8?b?"
        else:
            del data[i:]
    return bytes(data)


@settings(max_examples=300, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    ops=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_mail_never_raises(seed, ops):
    raw = mutate(SEEDS[seed], ops)
    result = evaluate(from_bytes(raw), CTX, strict=True)
    assert result.verdict in ("clean", "suspicious", "threat")
    head, structure, fetched = partial_view(raw)
    evaluate(from_partial(head, structure, fetched, len(raw)), CTX, strict=True)


@settings(max_examples=100, deadline=3000)
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw):
    evaluate(from_bytes(raw), CTX, strict=True)
