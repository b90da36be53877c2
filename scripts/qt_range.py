"""Tests the oldest PySide6 that pyproject.toml allows, so the allowed range is tested, not guessed
(`make test` runs the newest, which a fresh install picks). Builds a throw-away virtualenv with that
release and runs the GUI tests (offscreen, and the tray and quit tests under Xvfb) with it.

    .venv/bin/python scripts/qt_range.py        (make qt-range)
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lowest_allowed() -> str:
    match = re.search(r'"PySide6-Essentials>=([0-9.]+)', (ROOT / "pyproject.toml").read_text())
    if not match:
        raise SystemExit("pyproject.toml names no lower bound for PySide6-Essentials")
    return match.group(1)


def main() -> int:
    floor = lowest_allowed()
    with tempfile.TemporaryDirectory(prefix="klezguard-qt-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        # the newest patch release of the lowest allowed minor version
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"PySide6-Essentials~={floor}.0",
                        "-e", f"{ROOT}[test]"], check=True)
        version = subprocess.run([python, "-c", "import PySide6; print(PySide6.__version__)"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        print(f"PySide6 {version} (the lowest allowed: >={floor})")
        return subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/gui",
                               "tests/threat_model/test_gui_text.py"], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
