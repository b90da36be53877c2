"""Machine reports (DMARC aggregate, SMTP TLS) hold only data: an unconfirmed sender is a note, not an alarm.
Anything else in such a mail (a link elsewhere, another file) is judged as usual."""

import gzip

from tests.mailfactory import auth, build, check, rules

REPORT_XML = gzip.compress(b"<?xml version='1.0'?><feedback><report_metadata/></feedback>")
REPORT_NAME = "google.com!harbour-test.example!1764892800!1764979199.xml.gz"
FAILED = auth(spf="fail", dkim="fail", dmarc="fail", domain="google.com") + " (p=reject)"


def _report(attachments=(), html=None, subject="Report domain: harbour-test.example Submitter: google.com "
            "Report-ID: 1234567890"):
    return build(
        from_="noreply-dmarc-support@google.com",
        subject=subject,
        body="This is an aggregate report from google.com.\n",
        html=html,
        attachments=[(REPORT_NAME, "application/gzip", REPORT_XML), *attachments],
        headers=[("Authentication-Results", FAILED)],
    )


def _severity(result, rule):
    return next(f.severity for f in result.findings if f.rule == rule)


def test_a_dmarc_report_whose_sender_cannot_be_confirmed_is_only_a_note():
    result = check(_report())
    assert result.verdict == "clean"
    assert _severity(result, "sender.not_confirmed") == "low"
    note = next(f for f in result.findings if f.rule == "sender.not_confirmed").explanation
    assert "automatic report" in note


def test_a_tls_report_is_a_report_too():
    raw = build(
        from_="noreply-smtp-tls-reporting@google.com",
        subject="Report Domain: harbour-test.example Submitter: google.com Report-ID: <2026.12.01T00.00.00Z>",
        attachments=[("google.com!harbour-test.example!1764547200!1764633599.json.gz", "application/tlsrpt+gzip",
                      gzip.compress(b"{}"))],
        headers=[("Authentication-Results", FAILED)],
    )
    assert check(raw).verdict == "clean"


def test_the_same_forged_sender_without_the_report_is_a_threat():
    raw = build(from_="noreply-dmarc-support@google.com", subject="Your account",
                headers=[("Authentication-Results", FAILED)])
    assert _severity(check(raw), "sender.not_confirmed") == "high"


def test_a_report_with_a_link_elsewhere_is_no_longer_a_mere_report():
    html = '<p>See your dashboard: <a href="https://dmarc-viewer.example.net/login">open</a></p>'
    assert _severity(check(_report(html=html)), "sender.not_confirmed") == "high"


def test_a_report_with_another_file_is_judged_as_usual():
    result = check(_report(attachments=[("invoice.pdf.exe", "application/octet-stream", b"MZ" + b"\0" * 200)]))
    assert result.verdict == "threat"
    assert _severity(result, "sender.not_confirmed") == "high"
    assert any(f.category == "attachment" for f in result.findings)


def test_a_report_named_file_with_a_program_inside_a_zip_is_still_caught():
    import io
    import zipfile

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("report.exe", b"MZ" + b"\0" * 200)
    raw = build(from_="noreply-dmarc-support@google.com",
                subject="Report domain: harbour-test.example Submitter: google.com",
                attachments=[("google.com!harbour-test.example!1764892800!1764979199.zip", "application/zip",
                              data.getvalue())],
                headers=[("Authentication-Results", FAILED)])
    assert any(r.startswith("attachment.") for r in rules(check(raw)))
