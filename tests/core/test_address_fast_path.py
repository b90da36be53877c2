"""The plain-address fast path of parse_addresses must read every header it accepts exactly as the stdlib's
full parser does (a difference would be a way to show one sender and be judged as another)."""

import email.utils

from hypothesis import given, settings
from hypothesis import strategies as st

from klezguard.core.headers import _PLAIN, Address, decode_words, parse_addresses

ATOM = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-",
               min_size=1, max_size=12)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '_-\t.,\"<>@()", max_size=20)
SPACE = st.sampled_from(["", " ", "  ", "\t"])


def full_parser(text: str) -> list[Address]:
    out = []
    for name, addr in email.utils.getaddresses([text]):
        addr = addr.strip().strip("<>")
        name = decode_words(name).strip().strip('"').strip()
        if addr or name:
            out.append(Address(name, addr))
    return out


@settings(max_examples=600, deadline=None)
@given(ATOM, st.lists(LABEL, min_size=2, max_size=3), NAME, SPACE, SPACE, st.booleans())
def test_the_fast_path_reads_what_the_full_parser_reads(local, labels, name, before, after, bracketed):
    addr = f"{local}@{'.'.join(labels)}"
    text = f"{before}{name} <{addr}>{after}" if bracketed else f"{before}{addr}{after}"
    if _PLAIN.fullmatch(text) and ".." not in text:
        assert parse_addresses(text) == full_parser(text)


def test_forms_outside_the_fast_path_go_to_the_full_parser():
    for text in ['"Weber, Anna" <anna@x.example>', "anna@x.example (Anna)", "a@x.example, b@y.example",
                 "=?utf-8?q?J=C3=BCrgen?= <j@x.example>", "PayPal <service@paypal.com> <evil@x.example>",
                 "undisclosed-recipients:;"]:
        assert not _PLAIN.fullmatch(text)
        assert parse_addresses(text) == full_parser(text)
