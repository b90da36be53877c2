"""Start at login: an XDG autostart entry on Linux, the Run key on Windows, a LaunchAgent on macOS."""

import os
import plistlib
import sys
from pathlib import Path

from klezguard.launch import own_command

APP_ID = "org.klezguard.KlezGuard"


def command() -> list[str]:
    return own_command("--tray")


# Characters the Desktop Entry specification reserves in Exec: an argument holding one is double-quoted
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec(argv: list[str]) -> str:
    """An Exec= value for a desktop entry (not shell quoting: the specification's own rules)."""
    parts = []
    for arg in argv:
        if arg and not _RESERVED.intersection(arg):
            parts.append(arg.replace("%", "%%"))
        else:
            quoted = "".join("\\" + c if c in '"`$\\' else c for c in arg)
            parts.append('"' + quoted.replace("%", "%%") + '"')
    # the value is a string too, whose own escape for a backslash is a second backslash
    return " ".join(parts).replace("\\", "\\\\")


def _xdg_file() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "autostart" / "klezguard.desktop"


def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def is_enabled() -> bool:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run") as key:
                winreg.QueryValueEx(key, "KlezGuard")
                return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return _launch_agent().exists()
    return _xdg_file().exists()


def enable() -> None:
    if sys.platform == "win32":
        import subprocess
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run", 0,
                            winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, "KlezGuard", 0, winreg.REG_SZ, subprocess.list2cmdline(command()))
        return
    if sys.platform == "darwin":
        path = _launch_agent()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(plistlib.dumps({"Label": APP_ID, "ProgramArguments": command(), "RunAtLoad": True}))
        return
    path = _xdg_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[Desktop Entry]\nType=Application\nName=KlezGuard\n"
        "Comment=Watches your mail for spoofed senders and disguised attachments\n"
        f"Exec={desktop_exec(command())}\nIcon={APP_ID}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    )


def disable() -> None:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run", 0,
                                winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, "KlezGuard")
        except OSError:
            pass
        return
    path = _launch_agent() if sys.platform == "darwin" else _xdg_file()
    path.unlink(missing_ok=True)
