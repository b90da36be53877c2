"""Logs: private to the user (0600 in a 0700 folder), and with control characters from mail or servers
made visible, so viewing a log in a terminal is as safe as the command line's own output."""

import logging
import logging.handlers
import os
from pathlib import Path

from klezguard import paths
from klezguard.core.visible import terminal_safe


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record), keep="\n")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens, the first and each one after a rotation, is created 0600."""

    def _open(self):
        paths.private_file(Path(self.baseFilename))
        return super()._open()


def file_handler(folder: Path, name: str = "klezguard.log") -> logging.Handler:
    paths.private_dir(folder)
    for old in folder.glob(name + "*"):  # files written before KlezGuard kept them private
        if os.name != "nt":
            paths.private_file(old)
    handler = PrivateRotatingFileHandler(folder / name, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler
