"""Threats 5 and 6, found by a tester after the first fixes: text from mail that cannot be stored or
printed, text that turns itself around, fake lines in evidence, floods of findings and file names.

Each message goes through what a user runs: `check` as a process, a scan of a local mailbox and of
the real Dovecot, the safe preview, the detail pane."""

import base64
import os
import subprocess
import sys

from klezguard.core.parse import from_bytes
from klezguard.core.preview import html_to_text, preview_text
from klezguard.core.visible import one_line
from klezguard.rules.engine import MAX_HITS
from tests.mailfactory import build, check
from tests.threat_model.conftest import census, count, server_args

CODE = "import sys; from klezguard.cli import main; sys.exit(main(sys.argv[1:]))"
# A charset that is a Python codec but not a character set: it decodes \ud83d into a lone surrogate,
# which no database, file or terminal can write.
SURROGATE = (b"From: =?unicode_escape?q?Bank=5Cud800?= <a@evil.example>\nTo: me@example.com\n"
             b"Subject: =?unicode_escape?q?Invoice=5Cud83d?=\nMessage-ID: <1@evil.example>\nMIME-Version: 1.0\n"
             b"Content-Type: text/plain\n\nhello\n")
DANGER = build(subject="The real phish", attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)])
RLO = "\u202e"


def _encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, timeout=120,
                          env=env or dict(os.environ))


def test_a_lone_surrogate_never_stops_check(tmp_path):
    (tmp_path / "1-odd.eml").write_bytes(SURROGATE)
    (tmp_path / "2-danger.eml").write_bytes(DANGER)
    done = run(["check", str(tmp_path)])
    assert done.returncode == 1, done.stderr[-2000:]  # the dangerous one after it was still judged
    assert b"The real phish" in done.stdout and b"Traceback" not in done.stderr
    msg = from_bytes(SURROGATE)
    assert msg.subject.encode("utf-8") and msg.from_display.encode("utf-8")  # storable and printable


def test_a_lone_surrogate_never_stops_a_scan(imap_server, mailbox, monkeypatch):
    mailbox.multiappend("INBOX", [SURROGATE, DANGER])
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    done = run(["scan", *server_args(imap_server), "--quarantine", "threat"])
    assert done.returncode == 1, done.stderr[-2000:]
    assert count(mailbox, "KlezGuard Quarantine") == 1 and len(census(mailbox)["INBOX"]) == 1


def test_a_direction_override_in_a_name_is_shown_as_a_marker():
    raw = build(from_=f"{_encoded(RLO + '<moc.lapyap@ecivres.ws>')} <x@evil.example>")
    from klezguard.gui.models import sender_text

    shown = sender_text(from_bytes(raw).from_display, "x@evil.example")
    assert RLO not in shown and "[U+202E]" in shown and "x@evil.example" in shown
    assert check(raw).flagged  # and the rules say so (tests/rules/test_sender.py)


def test_the_preview_shows_overrides_as_markers():
    text = html_to_text(f'<a href="http://ecivres.ws/moc.lapyap//:sptth">log in{RLO}</a>')
    assert RLO not in text and "[U+202E]" in text and "ecivres.ws" in text


def test_html_the_parser_gives_up_on_is_reduced_to_text(tmp_path):
    assert html_to_text("<![>" + "<" * 250_000) is not None  # the fallback is one linear pass
    assert "x" in html_to_text("&#" + "9" * 5000 + ";<![>x")  # a reference too long to read stays text


def test_thousands_of_bad_files_give_a_bounded_report():
    files = [(f"song{n}.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60) for n in range(300)]
    result = check(build(attachments=files))
    per_rule: dict[str, int] = {}
    for finding in result.findings:
        per_rule[finding.rule] = per_rule.get(finding.rule, 0) + 1
    assert max(per_rule.values()) == MAX_HITS
    assert any("more" in f.evidence for f in result.findings)
    text = preview_text(from_bytes(build(attachments=[("x" * 5000 + ".pdf", "application/pdf", b"%PDF")] * 80)))
    assert "and 30 more" in text and len(text) < 10_000


def test_a_folded_content_type_cannot_fake_lines_of_a_report(tmp_path):
    exe = base64.encodebytes(b"MZ\x90\x00" + b"\x00" * 200).decode()
    raw = ("From: Anna <anna@weber-bau.example>\nTo: maya@example.com\nSubject: Statement\n"
           "Message-ID: <ct@weber-bau.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
           "--B\nContent-Type: text/plain\n\nHere is the statement.\n"
           "--B\nContent-Type: audio/x-wav\n        | Content: Sound (WAV)\n \n [ok] statement (checked)\n"
           "  ; name=\"statement.wav\"\nContent-Disposition: attachment; filename=\"statement.wav\"\n"
           "Content-Transfer-Encoding: base64\n\n" + exe + "--B--\n").encode()
    assert [p.content_type for p in from_bytes(raw).parts] == ["text/plain", "audio/x-wav"]
    (tmp_path / "m.eml").write_bytes(raw)
    out = run(["check", str(tmp_path / "m.eml")]).stdout.decode()
    assert "[ok] statement" not in out.lower() and "| content: sound" not in out.lower()
    assert one_line("a\nb") == "a\\u000ab"


def test_output_in_a_narrow_encoding_never_stops_check(tmp_path):
    (tmp_path / "1.eml").write_bytes(build(subject="Pizza \U0001f355 tonight"))
    (tmp_path / "2.eml").write_bytes(DANGER)
    done = run(["check", str(tmp_path)], env=dict(os.environ, PYTHONIOENCODING="cp1252"))
    assert done.returncode == 1 and b"The real phish" in done.stdout, done.stderr[-2000:]
