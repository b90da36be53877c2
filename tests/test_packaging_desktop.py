"""Linux desktop integration passes the freedesktop validators: the menu entry, the AppStream metainfo,
the start-at-login entry KlezGuard writes (whatever its program's path holds) and the menu entry that the
bundle's install.sh writes. The metainfo's newest release and the CHANGELOG's are pyproject.toml's version."""

import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from klezguard import autostart
from tests.tools import require

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = ROOT / "packaging" / "org.klezguard.KlezGuard.desktop"
METAINFO = ROOT / "packaging" / "org.klezguard.KlezGuard.metainfo.xml"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def desktop_file_validate(path: Path) -> None:
    require("desktop-file-validate", package="desktop-file-utils")
    proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    problems = [line for line in (proc.stdout + proc.stderr).splitlines() if "error:" in line or "warning:" in line]
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr


def appstream_validate(path: Path) -> None:
    require("appstreamcli", package="appstream")
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and "Validation was successful" in proc.stdout, proc.stdout + proc.stderr
    assert not re.search(r"^[EW]:", proc.stdout, re.M), proc.stdout  # no error and no warning, however mild


def test_the_menu_entry_validates():
    desktop_file_validate(DESKTOP)
    text = DESKTOP.read_text()
    assert "Icon=org.klezguard.KlezGuard\n" in text and "Exec=klezguard\n" in text


def test_the_metainfo_validates_and_names_this_version():
    appstream_validate(METAINFO)
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == autostart.APP_ID
    assert root.find("launchable").text == DESKTOP.name
    releases = [r.get("version") for r in root.iter("release")]
    assert releases[0] == VERSION
    # no web address the project does not own (it has no public home yet: see the comment in the file)
    assert not re.search(r"https?://", METAINFO.read_text())


def test_the_changelog_starts_with_this_version():
    first = next(line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## "))
    assert first.startswith(f"## {VERSION} ")


@pytest.mark.parametrize("program", ["/usr/bin/python3", "/home/Anna Weber/Kl$ez \"Guard\"/bin\\python%1"])
def test_the_start_at_login_entry_validates(tmp_path, monkeypatch, program):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "executable", program)
    autostart.enable()
    entry = tmp_path / "autostart" / "klezguard.desktop"
    desktop_file_validate(entry)
    assert "Icon=org.klezguard.KlezGuard\n" in entry.read_text()
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert parse_exec(exec_line[5:]) == [program, "-m", "klezguard", "--tray"]


def test_start_at_login_from_the_bundle_starts_the_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/klezguard/klezguard")
    autostart.enable()
    entry = tmp_path / "autostart" / "klezguard.desktop"
    desktop_file_validate(entry)
    assert "Exec=/opt/klezguard/klezguard --tray\n" in entry.read_text()


def test_install_sh_puts_a_valid_entry_for_this_folder_in_the_menus(tmp_path):
    """The bundle's install.sh on a folder laid out as make dist lays it, at a path with a space in it."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_dist
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    bundle = tmp_path / "Programs here" / "klezguard"
    bundle.mkdir(parents=True)
    (bundle / "klezguard").write_text("#!/bin/sh\n")
    build_dist.linux_extras(bundle)
    home = tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    subprocess.run(["sh", str(bundle / "install.sh")], env=env, check=True, capture_output=True)
    data = home / ".local" / "share"
    entry = data / "applications" / "org.klezguard.KlezGuard.desktop"
    desktop_file_validate(entry)
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert parse_exec(exec_line[5:]) == [str(bundle / "klezguard")]
    appstream_validate(data / "metainfo" / "org.klezguard.KlezGuard.metainfo.xml")
    assert (data / "icons" / "hicolor" / "16x16" / "apps" / "org.klezguard.KlezGuard.png").exists()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "org.klezguard.KlezGuard.svg").exists()
    assert os.readlink(home / ".local" / "bin" / "klezguard") == str(bundle / "klezguard")
    subprocess.run(["sh", str(bundle / "install.sh"), "--uninstall"], env=env, check=True, capture_output=True)
    assert not entry.exists() and not (home / ".local" / "bin" / "klezguard").exists()
    assert not list((data / "icons").rglob("org.klezguard.KlezGuard.*"))


def parse_exec(value: str) -> list[str]:
    """Exec= read back as the Desktop Entry specification says a launcher reads it."""
    value = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(m[1], m[0]),
                   value)  # the string value's escapes first
    args, current, quoted, i, started = [], "", False, 0, False
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and i + 1 < len(value):
            current += value[i + 1]
            i += 2
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if started or current:
                args.append(current)
            current, started = "", False
        else:
            current += c
        i += 1
    if started or current:
        args.append(current)
    return [a.replace("%%", "%") for a in args]
