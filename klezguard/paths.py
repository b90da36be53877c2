"""Where KlezGuard keeps its files: settings in the config folder, the scan store and logs in the
data folder (platformdirs). KLEZGUARD_CONFIG_DIR / KLEZGUARD_DATA_DIR override them (tests, portable use).

The store holds header blocks, message text and attachment bytes, so every folder KlezGuard makes is
private to the user (0700) and every file in it 0600. On Windows the user's profile already is."""

import os
from pathlib import Path

import platformdirs

APP = "klezguard"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def config_dir() -> Path:
    return Path(os.environ.get("KLEZGUARD_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("KLEZGUARD_DATA_DIR") or platformdirs.user_data_dir(APP))


def log_dir() -> Path:
    if os.environ.get("KLEZGUARD_DATA_DIR"):
        return data_dir() / "logs"
    return Path(platformdirs.user_log_dir(APP))


def _restrict(path: Path, mode: int) -> None:
    if os.name == "nt":
        return
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass  # not ours to change (a shared folder given by the user): the files inside still are 0600


def _ours(path: Path) -> bool:
    """One of KlezGuard's own folders (config, data, logs) or a folder inside one: never a folder the
    user or the system shares, such as /tmp, where a store might have been put by hand."""
    try:
        resolved = path.resolve()
        return any(resolved == own or own in resolved.parents
                   for own in (config_dir().resolve(), data_dir().resolve(), log_dir().resolve()))
    except OSError:
        return False


def private_dir(path: Path) -> Path:
    """Creates `path` if needed, private to the user. A folder of KlezGuard's own made earlier with 0755 is
    tightened too (and its parent named after the app, as platformdirs' `klezguard/log`); any other folder
    that exists already is left as it is."""
    existed = path.exists()
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if not existed or _ours(path):
        _restrict(path, PRIVATE_DIR)
    if path.parent.name.lower() == APP and _ours(path.parent):
        _restrict(path.parent, PRIVATE_DIR)
    return path


def restrict_if_there(path: Path) -> None:
    """Mode 0600 for a file that may come and go under us (SQLite's -wal and -shm): never creates it."""
    if os.name != "nt":
        try:
            os.chmod(path, PRIVATE_FILE)
        except FileNotFoundError:
            pass


def private_file(path: Path) -> Path:
    """Makes sure `path` exists with mode 0600 before anything writes into it."""
    if os.name != "nt":
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, PRIVATE_FILE)
        os.close(fd)
        _restrict(path, PRIVATE_FILE)
    return path
