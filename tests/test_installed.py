"""KlezGuard installed the ordinary way (not editable), run from there: the demo mailbox ships in the package,
`--demo` without a display prints its report, and `check` reads a demo message."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_package_has_its_demo(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(PYTHONPATH=str(target), KLEZGUARD_DATA_DIR=str(tmp_path / "data"),
               KLEZGUARD_CONFIG_DIR=str(tmp_path / "config"))
    where = subprocess.run([sys.executable, "-c", "import klezguard; print(klezguard.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))  # this copy, not the working tree
    demo = subprocess.run([sys.executable, "-m", "klezguard", "--demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "could not read" not in demo.stderr
    assert "DANGEROUS" in demo.stdout and "27 messages" in demo.stdout
    message = next((target / "klezguard" / "resources" / "demo" / "inbox").glob("04-*.eml"))
    check = subprocess.run([sys.executable, "-m", "klezguard", "check", str(message)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "DANGEROUS" in check.stdout
    assert (target / "klezguard" / "resources" / "icons" / "klezguard.svg").exists()  # the app and tray icons
    shown = subprocess.run([sys.executable, "-m", "klezguard", "--version"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert shown.stdout.strip() == f"klezguard {version}"  # from the metadata pip wrote from pyproject.toml
