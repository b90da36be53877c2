"""KlezGuard's version, read from its one source: `version` in pyproject.toml.

A checkout has pyproject.toml beside the package and the bundle made by PyInstaller carries it
(packaging/klezguard.spec), so both read the file itself (an editable install's metadata may be older);
an installed copy reads the metadata pip wrote from it. The number is never written down twice."""

import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

UNKNOWN = "unknown"


def _from_pyproject(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            project = tomllib.load(f).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return project.get("version") if project.get("name") == "klezguard" else None


def _pyproject() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "pyproject.toml" if bundle else Path(__file__).resolve().parents[1] / "pyproject.toml"


@cache
def version() -> str:
    """pyproject.toml where it is at hand (a checkout, the bundle), else the installed package's metadata."""
    found = _from_pyproject(_pyproject())
    if found:
        return found
    try:
        return metadata.version("klezguard")
    except metadata.PackageNotFoundError:
        return UNKNOWN
