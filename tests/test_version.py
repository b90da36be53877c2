"""One version number, in pyproject.toml: read from the file in a checkout and in the bundle (which carries
it), from the metadata pip wrote from it elsewhere; `klezguard --version` shows it. And KlezGuard starts
itself again the way it runs (python -m klezguard, or the bundle's program)."""

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from klezguard import launch, version
from klezguard.cli import main

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(autouse=True)
def uncached():
    version.version.cache_clear()
    yield
    version.version.cache_clear()  # the next test reads the real one again


def test_version_option_shows_pyproject_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"klezguard {VERSION}"
    import klezguard

    assert klezguard.__version__ == VERSION


def test_the_bundle_reads_the_pyproject_it_carries(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "klezguard"\nversion = "9.8.7"\n')
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert version.version() == "9.8.7"


def test_another_projects_pyproject_is_not_ours_and_metadata_is_the_fallback(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "1.0"\n')
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(metadata, "version", lambda name: "5.5.5")
    assert version.version() == "5.5.5"
    version.version.cache_clear()

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    version.version.cache_clear()
    assert version.version() == "unknown"


def test_klezguard_starts_itself_as_it_runs(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    assert launch.own_command("--demo") == ["/usr/bin/python3", "-m", "klezguard", "--demo"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/klezguard/klezguard")
    assert launch.own_command("--demo") == ["/opt/klezguard/klezguard", "--demo"]
