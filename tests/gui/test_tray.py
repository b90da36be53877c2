"""The tray under a real X display (Xvfb with trayer): icon, state, menu, and a notification that opens
its message when clicked. Runs in a child process because the test session's Qt is offscreen."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.xvfb import VirtualDisplay

ROOT = Path(__file__).resolve().parents[2]


def test_tray_icon_notification_and_click(tmp_path):
    shot = tmp_path / "tray.png"
    if not VirtualDisplay.available():
        message = "Xvfb and trayer are not installed: run 'apt-get install xvfb trayer' (make test does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required under CI=true")
        pytest.skip(message)
    with VirtualDisplay() as display:
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "gui" / "tray_driver.py"), str(shot)],
                              env=display.env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=60,
                              cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["tray"] and result["icon_shown"]
    assert result["tooltip"] == "KlezGuard — threats are waiting"
    assert result["menu"] == ["Open KlezGuard", "Scan now", "Pause watching", "Quit"]
    assert result["balloon"] and result["clicked"] == [[42]]
    assert shot.stat().st_size > 5_000  # more than an empty black screen


def test_quit_from_the_tray_menu_leaves_no_process(tmp_path):
    """The real app with its helper processes, quit from the tray menu: every process of it is gone."""
    if not VirtualDisplay.available():
        message = "Xvfb and trayer are not installed: run 'apt-get install xvfb trayer' (make test does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required under CI=true")
        pytest.skip(message)
    import time
    import uuid

    marker = f"klezguard-quit-{uuid.uuid4().hex}"
    with VirtualDisplay() as display:
        env = display.env(PYTHONPATH=str(ROOT), KLEZGUARD_QUIT_TEST=marker, KLEZGUARD_CONFIG_DIR=str(tmp_path / "c"),
                          KLEZGUARD_DATA_DIR=str(tmp_path / "d"), HOME=str(tmp_path))
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "gui" / "quit_driver.py")], env=env,
                              capture_output=True, text=True, timeout=90, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["tray"] and "Quit" in result["menu"] and result["exit"] == 0

    def left() -> list[str]:
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if marker.encode() in environ.read_bytes():
                    found.append(environ.parent.name)
            except OSError:
                continue
        return found

    deadline = time.monotonic() + 10
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left() == []  # no helper process outlives the app
