"""How KlezGuard starts itself again (the demo window, start at login): `python -m klezguard` where it runs
from Python, the program itself where it is a bundle made by PyInstaller (there sys.executable is KlezGuard,
and '-m klezguard' would be taken for its own arguments)."""

import sys


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def own_command(*args: str) -> list[str]:
    if frozen():
        return [sys.executable, *args]
    return [sys.executable, "-m", "klezguard", *args]
