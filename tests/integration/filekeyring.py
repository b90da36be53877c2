"""A keyring in one JSON file, for tests in which several processes share a keyring (as the app, its
scanning helper and a terminal's command share the system's). Never used outside tests."""

import json
import os
import tempfile
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors


class FileKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self, path: str):
        super().__init__()
        self.path = Path(path)

    def _items(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, items: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent)
        with os.fdopen(fd, "w") as out:
            json.dump(items, out)
        os.replace(tmp, self.path)  # a reader sees the old file or the new one, never half of one

    def get_password(self, service, username):
        return self._items().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        items = self._items()
        items[f"{service}/{username}"] = password
        self._write(items)

    def delete_password(self, service, username):
        items = self._items()
        if items.pop(f"{service}/{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._write(items)


def use(path: str) -> None:
    keyring.set_keyring(FileKeyring(path))
