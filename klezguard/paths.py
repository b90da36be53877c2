"""Where KlezGuard keeps its files: settings in the config folder, the scan store and logs in the
data folder (platformdirs). KLEZGUARD_CONFIG_DIR / KLEZGUARD_DATA_DIR override them (tests, portable use)."""

import os
from pathlib import Path

import platformdirs

APP = "klezguard"


def config_dir() -> Path:
    return Path(os.environ.get("KLEZGUARD_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("KLEZGUARD_DATA_DIR") or platformdirs.user_data_dir(APP))


def log_dir() -> Path:
    if os.environ.get("KLEZGUARD_DATA_DIR"):
        return data_dir() / "logs"
    return Path(platformdirs.user_log_dir(APP))
