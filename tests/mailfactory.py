"""Builds test messages in a few lines, so each rule test shows only what matters to it."""

import email.utils
from email.message import EmailMessage

from klezguard.core.context import Context, SentIndex
from klezguard.core.parse import from_bytes, from_partial, partial_view
from klezguard.rules.engine import Result, evaluate

OWN = "harbour-test.example"
AUTHSERV = "mx.provider-test.example"


def auth(spf="pass", dkim="pass", dmarc="pass", domain="sender.example", dkim_domain=None,
         mailfrom=None, authserv=AUTHSERV) -> str:
    """An Authentication-Results value as the user's provider writes it."""
    parts = [authserv]
    if spf:
        parts.append(f"spf={spf} smtp.mailfrom={mailfrom or domain}")
    if dkim:
        parts.append(f"dkim={dkim} header.d={dkim_domain or domain}")
    if dmarc:
        parts.append(f"dmarc={dmarc} header.from={domain}")
    return "; ".join(parts)


def build(
    from_="Anna Weber <anna@weber-bau.example>",
    to=f"Owner <owner@{OWN}>",
    subject="Hello",
    body="Hi,\n\nsee you tomorrow.\n\nAnna\n",
    html=None,
    attachments=(),
    headers=(),
    received=True,
    message_id=None,
) -> bytes:
    """A message as bytes. `headers` are (name, value) pairs put on top (like a receiving server);
    `attachments` are (filename, mime type, bytes) triples."""
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    if received:
        msg["Received"] = (
            "from mail.sender.example (mail.sender.example [192.0.2.10]) by mx.provider-test.example "
            "with ESMTPS id abc123; Mon, 2 Nov 2026 10:00:00 +0000"
        )
    msg["From"] = from_
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 2 Nov 2026 09:59:00 +0000"
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="sender.example")
    msg["MIME-Version"] = "1.0"
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, mime, data in attachments:
        maintype, _, subtype = mime.partition("/")
        if isinstance(data, str):
            data = data.encode()
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def context(own_domains=(OWN,), trusted=(AUTHSERV,), sent=None, **kw) -> Context:
    index = None
    if sent is not None:
        index = SentIndex()
        for raw in sent:
            index.add(raw)
    return Context.build(own_domains=own_domains, trusted_authserv=trusted, sent=index, **kw)


def check(raw: bytes, ctx: Context | None = None) -> Result:
    """Judges `raw` strictly (a crashing rule fails the test) on both the full and the partial view."""
    ctx = ctx or context()
    full = evaluate(from_bytes(raw), ctx, strict=True)
    head, structure, fetched = partial_view(raw)
    partial = evaluate(from_partial(head, structure, fetched, len(raw)), ctx, strict=True)
    assert [f.rule for f in full.findings] == [f.rule for f in partial.findings], "partial view differs"
    return full


def rules(result: Result) -> set[str]:
    return {f.rule for f in result.findings}
