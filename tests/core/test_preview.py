from klezguard.core.parse import from_bytes
from klezguard.core.preview import html_to_text, preview_text
from tests.mailfactory import build


def test_html_is_reduced_to_text_with_real_link_targets():
    text = html_to_text('<style>p{}</style><p>Pay <a href="http://198.51.100.7/x">https://bank.example</a></p>'
                        '<img src="https://tracker.example/p.gif" alt="logo"><script>alert(1)</script>')
    assert "Pay https://bank.example <http://198.51.100.7/x>" in text
    assert "[picture: logo]" in text and "tracker" not in text and "alert" not in text


def test_preview_prefers_plain_text_and_lists_files():
    raw = build(body="Hello there", html="<p>HTML</p>", attachments=[("a.pdf", "application/pdf", b"%PDF")])
    text = preview_text(from_bytes(raw))
    assert text.startswith("Hello there") and "Attached (not opened): a.pdf" in text
