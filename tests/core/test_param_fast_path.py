"""The plain-parameter fast path of the parser must read every Content-Type and Content-Disposition it
accepts exactly as the stdlib's `get_params` does (a difference would be a way to name one file and be
judged as another)."""

import email
import email.message

from hypothesis import given, settings
from hypothesis import strategies as st

from klezguard.core.parse import _plain_params

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+.-_", min_size=0, max_size=12)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-*", min_size=0, max_size=8)
VALUE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._/+:,=@()?-\"\\<>;'%*\t",
                max_size=14)
SPACE = st.sampled_from(["", " ", "  ", "\t", "\n\t", "\r\n ", "\x1c", "\x0b"])  # folded headers too


def stdlib(value: str) -> list:
    m = email.message.Message()
    m["Content-Type"] = value
    return m.get_params()


PAIR = st.tuples(SPACE, NAME, SPACE, SPACE, st.booleans(), VALUE, SPACE)


@settings(max_examples=1500, deadline=None)
@given(SPACE, TOKEN, SPACE, st.lists(PAIR, max_size=4))
def test_the_fast_path_reads_what_the_stdlib_reads(before, head, after, pairs):
    text = before + head + after
    for b, name, s1, s2, quoted, value, a in pairs:
        text += f";{b}{name}{s1}={s2}" + (f'"{value}"' if quoted else value) + a
    plain = _plain_params(text)
    if plain is not False:
        assert plain == stdlib(text)


def test_common_forms_take_the_fast_path_and_odd_ones_do_not():
    for text in ['text/plain; charset="utf-8"', "text/plain;charset=utf-8", 'attachment; filename="invoice 12.pdf"',
                 'multipart/mixed; boundary="----=_Part_1_2.3"', 'multipart/alternative;\n\tboundary="b1_x"']:
        assert _plain_params(text) == stdlib(text)
    for text in ["attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", 'attachment; filename="a;b.exe"',
                 'text/plain; name="a\\"b"', "text/plain; a=<b>", "text/plain; a= b c "]:
        assert _plain_params(text) is False


def test_an_enclosed_message_is_serialised_exactly_up_to_the_bound_and_no_further():
    """A bounced message of thousands of parts: the rules read its first TEXT_BYTES, so re-serialising stops
    past ENCLOSED_BYTES, and what is kept is exactly the start of the whole serialisation."""
    from email.message import EmailMessage

    from klezguard.core.parse import ENCLOSED_BYTES, from_bytes

    inner = EmailMessage()
    inner["From"] = "a@b.example"
    inner["Subject"] = "many parts"
    inner.set_content("start")
    for n in range(400):
        inner.add_attachment(b"x" * 2000 + str(n).encode(), maintype="application", subtype="octet-stream",
                             filename=f"f{n}.bin")
    outer = EmailMessage()
    outer["From"] = "MAILER-DAEMON@mx.example"
    outer["Subject"] = "Undelivered"
    outer.set_content("returned")
    outer.add_attachment(inner)
    raw = outer.as_bytes()
    whole = email.message_from_bytes(raw).get_payload()[1].get_payload()[0].as_bytes()
    assert len(whole) > 2 * ENCLOSED_BYTES
    part = next(p for p in from_bytes(raw).parts if p.content_type == "message/rfc822")
    assert ENCLOSED_BYTES < len(part.data) < len(whole)
    assert part.data[:ENCLOSED_BYTES] == whole[:ENCLOSED_BYTES]
