"""`klezguard check`: readable report, exact JSON Lines, exit status 0 / 1 / 2."""

import json
import subprocess
import sys

from tests.mailfactory import build

CLEAN = build(subject="Lunch on Friday?")
KLEZ = build(
    subject="Your statement",
    attachments=[("statement.wav", "audio/x-wav", b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run")],
)


def run(*args):
    return subprocess.run([sys.executable, "-m", "klezguard", "check", *args], capture_output=True, text=True)


def test_clean_mail_exits_0(tmp_path):
    (tmp_path / "a.eml").write_bytes(CLEAN)
    proc = run(str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "Lunch on Friday?" in proc.stdout
    assert "1 messages checked" in proc.stdout or "1 message checked" in proc.stdout


def test_json_lines_have_the_exact_shape(tmp_path):
    (tmp_path / "a.eml").write_bytes(CLEAN)
    (tmp_path / "b.eml").write_bytes(KLEZ)
    proc = run("--json", str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["source"] for r in rows] == [str(tmp_path / "a.eml"), str(tmp_path / "b.eml")]
    for row in rows:
        assert set(row) == {"source", "message_id", "from", "subject", "verdict", "score", "findings"}
        for f in row["findings"]:
            assert set(f) == {"rule", "category", "severity", "score", "title", "explanation", "advice", "evidence"}
    assert rows[0]["verdict"] == "clean" and rows[0]["findings"] == []
    assert rows[1]["verdict"] == "threat"
    assert any(f["category"] == "attachment" for f in rows[1]["findings"])


def test_mbox_messages_are_numbered(tmp_path):
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(b"From a@b Mon Nov  2 10:00:00 2026\n" + CLEAN + b"\nFrom a@b Mon Nov  2 10:00:00 2026\n" + CLEAN)
    rows = [json.loads(line) for line in run("--json", str(mbox)).stdout.splitlines()]
    assert [r["source"] for r in rows] == [f"{mbox}#1", f"{mbox}#2"]


def test_unreadable_path_exits_2_and_still_checks_the_rest(tmp_path):
    (tmp_path / "a.eml").write_bytes(CLEAN)
    proc = run(str(tmp_path / "nope.eml"), str(tmp_path / "a.eml"))
    assert proc.returncode == 2
    assert "nope.eml" in proc.stderr and "No such file" in proc.stderr
    assert "Lunch on Friday?" in proc.stdout


def test_check_says_that_bounces_need_the_sent_mail(tmp_path, capsys):
    from klezguard.cli import main
    from tests.rules import test_bounces

    (tmp_path / "bounce.eml").write_bytes(test_bounces.sample("dsn_postfix"))
    main(["check", str(tmp_path / "bounce.eml")])
    assert "add --sent PATH" in capsys.readouterr().err
    main(["check", str(tmp_path / "bounce.eml"), "--sent", str(tmp_path / "bounce.eml")])
    assert "add --sent" not in capsys.readouterr().err


def test_check_says_once_for_many_notices_and_help_names_the_headers_it_reads(tmp_path, capsys):
    import pytest

    from klezguard.cli import main
    from tests.rules import test_bounces

    for n in range(3):
        (tmp_path / f"bounce{n}.eml").write_bytes(test_bounces.sample("dsn_postfix"))
    main(["check", str(tmp_path)])
    assert capsys.readouterr().err.count("add --sent PATH") == 1
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "topmost Received line" in out and "can only be told with your sent mail" in out


def test_the_app_names_the_system_packages_qt_needs_instead_of_aborting(monkeypatch, capsys):
    import klezguard.cli as cli

    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert cli.missing_x11_packages(find=lambda name: None if name == "xcb-cursor" else "lib.so") == ["libxcb-cursor0"]
    monkeypatch.setattr(cli, "missing_x11_packages", lambda: ["libxcb-cursor0"])
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "sudo apt install libxcb-cursor0" in err and len(err.strip().splitlines()) == 1


def test_the_system_package_check_passes_here_and_is_skipped_off_x11(monkeypatch):
    import klezguard.cli as cli

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert cli.missing_x11_packages() == []  # make test installed them (scripts/system-deps.sh)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.missing_x11_packages(find=lambda name: None) == []
