"""User settings, each declared once with its type, default and description.

Settings are what the user chooses (in the Settings dialog); remembered UI state (window size, "tray
hint shown") is kept apart in `state.json`. Both live in the config folder as JSON with a version, so a
later KlezGuard can upgrade them.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klezguard import paths
from klezguard.i18n import _


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    description: str
    choices: tuple = ()


OPTIONS = {
    o.name: o
    for o in (
        Option("watched_folders", ["INBOX"], _("Folders that KlezGuard watches for new mail.")),
        Option("quarantine_folder", "KlezGuard Quarantine", _("Folder on the server that holds quarantined mail.")),
        Option("quarantine_days", 0, _("Delete quarantined mail older than this many days (0: never).")),
        Option("notify_level", "suspicious", _("Which new messages pop up a notice."),
               ("threat", "suspicious")),
        Option("start_at_login", False, _("Start KlezGuard in the tray when you log in.")),
        Option("theme", "system", _("Light or dark look; 'system' follows your desktop."),
               ("system", "light", "dark")),
    )
}
VERSION = 1


class Settings:
    def __init__(self, path: Path | None = None, name: str = "settings.json"):
        self.path = path or paths.config_dir() / name
        self.values: dict[str, Any] = {}
        self.load()

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        self.values = {k: v for k, v in data.get("values", {}).items()}

    def get(self, name: str) -> Any:
        option = OPTIONS.get(name)
        value = self.values.get(name, option.default if option else None)
        if option is not None:
            if type(value) is not type(option.default) or (option.choices and value not in option.choices):
                return option.default  # a hand-edited or older file: fall back, never crash
        return value

    def set(self, name: str, value: Any) -> None:
        option = OPTIONS.get(name)
        if option is not None:
            if type(value) is not type(option.default):
                raise TypeError(f"{name} takes {type(option.default).__name__}")
            if option.choices and value not in option.choices:
                raise ValueError(f"{name} must be one of {option.choices}")
        self.values[name] = value
        self.save()

    def save(self) -> None:
        paths.private_dir(self.path.parent)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": VERSION, "values": self.values}, f, indent=2)
        os.replace(tmp, self.path)


def ui_state() -> Settings:
    """Remembered window geometry and one-time hints: not settings, kept in their own file."""
    return Settings(name="state.json")
