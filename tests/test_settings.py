"""Settings declared once with defaults; bad files fall back; start at login writes the XDG entry."""

import pytest

from klezguard import autostart
from klezguard.settings import OPTIONS, Settings


def test_defaults_and_round_trip(tmp_path):
    s = Settings(tmp_path / "settings.json")
    assert s.get("notify_level") == "suspicious"
    s.set("notify_level", "threat")
    assert Settings(tmp_path / "settings.json").get("notify_level") == "threat"
    assert all(o.description for o in OPTIONS.values())


def test_wrong_values_are_refused_and_bad_files_fall_back(tmp_path):
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(ValueError):
        s.set("theme", "purple")
    (tmp_path / "settings.json").write_text('{"values": {"theme": 5, "notify_level": "x"}}')
    s = Settings(tmp_path / "settings.json")
    assert s.get("theme") == "system" and s.get("notify_level") == "suspicious"


def test_start_at_login_on_linux(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled()
    autostart.enable()
    entry = tmp_path / "autostart" / "klezguard.desktop"
    assert entry.exists() and "-m klezguard --tray" in entry.read_text()
    assert autostart.is_enabled()
    autostart.disable()
    assert not autostart.is_enabled()
