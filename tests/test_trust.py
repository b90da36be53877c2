"""Trusting a sender silences sender and link doubts for that authenticated sender only."""

from klezguard.core.parse import from_bytes
from klezguard.rules.engine import evaluate
from klezguard.rules.trust import trust_key
from tests.mailfactory import auth, build, context


def message(spf="pass", dkim="pass", dmarc="pass"):
    """The name shows another company's address: worth a doubt, unless the user trusts this sender."""
    results = auth(spf, dkim, dmarc, domain="invoices-partner.example")
    return build(from_='"orders@millstone.example" <billing@invoices-partner.example>', subject="Invoice",
                 headers=[("Authentication-Results", results)])


def test_trust_needs_an_authenticated_sender():
    ctx = context()
    assert trust_key(from_bytes(message()), ctx) == ("billing@invoices-partner.example", "invoices-partner.example")
    assert trust_key(from_bytes(message("fail", "fail", "fail")), ctx) is None


def test_trusted_sender_is_quiet_but_a_forger_is_not():
    ctx = context()
    before = evaluate(from_bytes(message()), ctx)
    assert any(f.category == "sender" for f in before.findings)
    ctx.trusted_senders = frozenset({trust_key(from_bytes(message()), ctx)})
    assert not any(f.category == "sender" for f in evaluate(from_bytes(message()), ctx).findings)
    forged = evaluate(from_bytes(message("fail", "none", "fail")), ctx)
    assert any(f.category == "sender" for f in forged.findings)
