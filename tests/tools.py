"""Debian tools a test needs: a clear skip line where one is missing, a failure under CI=true (where
scripts/system-deps.sh has installed them)."""

import os
import shutil

import pytest


def require(*tools: str, package: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if not missing:
        return
    message = (f"{', '.join(missing)} not installed: run 'apt-get install {package}' "
               "(make test does it as root, through scripts/system-deps.sh)")
    if os.environ.get("CI") == "true":
        pytest.fail(message + " — required under CI=true")
    pytest.skip(message)
