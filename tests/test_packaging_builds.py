"""The Windows installer and macOS app descriptions cannot be built here; what can be checked is that they
agree with the Linux build and the app: the same spec, program name, icons, app id, and the Run value the
app's start-at-login switch writes (so the uninstaller removes either)."""

import re
import sys
from pathlib import Path

from PIL import Image, ImageChops

from klezguard import autostart

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "packaging" / "klezguard.spec").read_text()
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ISS = (ROOT / "packaging" / "windows" / "klezguard.iss").read_text()


def test_the_spec_carries_the_data_the_bundle_needs():
    for needed in ('PACKAGE / "data"', 'PACKAGE / "resources"', '"pyproject.toml"', '"publicsuffixlist"',
                   '"confusables"', '"oletools"', "freeze_support", "BUNDLE(", f'APP_ID = "{autostart.APP_ID}"'):
        assert needed in SPEC + (ROOT / "packaging" / "klezguard_main.py").read_text(), needed
    assert 'name="klezguard"' in SPEC and '"klezguard-cli"' in SPEC


def test_the_windows_installer_matches_the_app():
    assert re.search(r'Source: "\{#Dist\}\\klezguard\\\*"', ISS)
    assert r'Filename: "{app}\klezguard.exe"' in ISS  # the program the spec names klezguard
    run_key = r'Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "KlezGuard"'
    assert run_key in ISS and 'Flags: uninsdeletevalue; Tasks: startatlogin' in ISS
    assert '"KlezGuard"' in (ROOT / "klezguard" / "autostart.py").read_text()  # the app's own Run value
    assert "{autoprograms}" in ISS  # a Start menu entry
    icon = ROOT / "packaging" / "icons" / "klezguard.ico"
    assert r"SetupIconFile=..\icons\klezguard.ico" in ISS and icon.exists()


def _size_info(path: Path):
    with Image.open(path) as image:
        return image.size, image.info.get("sizes")


def test_the_generated_icons_hold_every_size():
    folder = ROOT / "packaging" / "icons"
    for size in PNG_SIZES:
        assert _size_info(folder / f"klezguard-{size}.png")[0] == (size, size)
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(_size_info(folder / "klezguard.ico")[1])
    assert {(16, 16, 2), (512, 512, 2), (128, 128, 1)} <= set(_size_info(folder / "klezguard.icns")[1])


def test_the_committed_icons_are_made_from_the_svg_as_it_is(qapp, tmp_path):
    """Someone who changes klezguard.svg and forgets scripts/make_icons.py is told here."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_icons
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    make_icons.make(tmp_path)
    for size in PNG_SIZES:
        with Image.open(tmp_path / f"klezguard-{size}.png") as fresh, \
                Image.open(ROOT / "packaging" / "icons" / f"klezguard-{size}.png") as committed:
            difference = ImageChops.difference(fresh.convert("RGBA"), committed.convert("RGBA"))
            worst = max(high for _, high in difference.getextrema())
            assert worst <= 24, f"packaging/icons/klezguard-{size}.png is older than the SVG: run make_icons.py"
