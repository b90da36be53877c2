"""Threat 6: escape sequences in mail never reach the terminal.

A dangerous message whose encoded Subject holds `ESC[1G ESC[2K[OK] Lunch on Friday` would display as
"[OK] Lunch on Friday". `check`, `scan`, `quarantine list` and `watch` print it as a user runs them
(separate processes, real output bytes); no raw control character may appear, the escape is shown as
\\u001b, and the JSON output still parses to the original text.
"""

import base64
import json
import os
import subprocess
import sys
import time

import pytest

from tests.mailfactory import build
from tests.threat_model.conftest import server_args

SUBJECT = "\x1b[1G\x1b[2K[OK] Lunch on Friday"
NAME = "\x1b]0;KlezGuard: all clear\x07Your Bank \u202egnp.exe\u009b2J"
ENCODED = "=?utf-8?b?" + base64.b64encode(SUBJECT.encode()).decode() + "?="
ENCODED_NAME = "=?utf-8?b?" + base64.b64encode(NAME.encode()).decode() + "?="
RAW = build(from_=f"{ENCODED_NAME} <attacker@evil.example>", subject="PLACEHOLDER",
            attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60)]
            ).replace(b"Subject: PLACEHOLDER", b"Subject: " + ENCODED.encode())
RAW_CONTROLS = [b"\x1b", b"\x07", b"\r", "\u009b".encode(), "\u202e".encode()]
CODE = "import sys; from klezguard.cli import main; sys.exit(main(sys.argv[1:]))"


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, timeout=120,
                          env=dict(os.environ), **kw)


def assert_no_raw_controls(data: bytes) -> None:
    for control in RAW_CONTROLS:
        assert control not in data, (control, data[:2000])


def test_check_shows_escapes_instead_of_acting_on_them(tmp_path):
    path = tmp_path / "hostile.eml"
    path.write_bytes(RAW)
    text = run(["check", str(path)])
    assert text.returncode == 1
    assert_no_raw_controls(text.stdout + text.stderr)
    assert b"\\u001b[1G\\u001b[2K[OK] Lunch on Friday" in text.stdout
    assert b"\\u202e" in text.stdout
    as_json = run(["check", "--json", str(path)])
    assert_no_raw_controls(as_json.stdout)
    record = json.loads(as_json.stdout.decode().splitlines()[0])
    assert record["subject"] == SUBJECT  # JSON escapes keep the exact text for scripts
    assert "\u202e" in record["from"]


def test_scan_list_and_watch_show_escapes(imap_server, mailbox, monkeypatch):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    mailbox.append("INBOX", RAW)
    scan = run(["scan", *server_args(imap_server), "--quarantine", "threat"])
    assert scan.returncode == 1, scan.stderr
    assert_no_raw_controls(scan.stdout + scan.stderr)
    assert b"\\u001b[2K[OK] Lunch" in scan.stdout
    listing = run(["quarantine", "list", *server_args(imap_server)])
    assert_no_raw_controls(listing.stdout + listing.stderr)
    assert b"\\u001b[2K[OK] Lunch" in listing.stdout
    restore = run(["quarantine", "restore", *server_args(imap_server), "--all"])
    assert restore.returncode == 0
    assert_no_raw_controls(restore.stdout + restore.stderr)

    watch = subprocess.Popen([sys.executable, "-c", CODE, "watch", *server_args(imap_server)], env=dict(os.environ),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        time.sleep(2)
        mailbox.append("INBOX", RAW.replace(b"Date:", b"X-Again: yes\nDate:"))
        out = b""
        os.set_blocking(watch.stdout.fileno(), False)
        while b"Lunch" not in out and time.monotonic() < deadline:
            chunk = watch.stdout.read()
            out += chunk or b""
            time.sleep(0.2)
    finally:
        watch.terminate()
        rest, err = watch.communicate(timeout=20)
    out += rest or b""
    assert b"Lunch" in out, err[-2000:]
    assert_no_raw_controls(out + err)


@pytest.mark.parametrize("text, shown", [("\x1b[2Kx", "\\u001b[2Kx"), ("a\rb", "a\\u000db"),
                                         ("tab\tok\nline", "tab\tok\nline"), ("\u009b31m", "\\u009b31m"),
                                         ("Grüße", "Grüße")])
def test_terminal_safe(text, shown):
    from klezguard.core.visible import terminal_safe

    assert terminal_safe(text) == shown
