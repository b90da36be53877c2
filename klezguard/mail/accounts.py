"""Accounts: an e-mail address plus its server settings, saved in the user's config folder.

The password is never part of an account; it lives in the OS keyring (see `credentials`).
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from klezguard import paths
from klezguard.errors import AccountNotFound, KnownError

Security = Literal["ssl", "starttls", "plain"]
Auth = Literal["password", "oauth2"]
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}
QUARANTINE_FOLDER = "KlezGuard Quarantine"


@dataclass
class ServerSettings:
    host: str
    port: int = 993
    security: Security = "ssl"
    user: str = ""
    cafile: str | None = None  # extra CA certificates to trust (a company's own CA)

    def describe(self) -> str:
        kind = {"ssl": "TLS", "starttls": "STARTTLS", "plain": "unencrypted"}[self.security]
        return f"{self.host}:{self.port} ({kind})"


@dataclass
class Account:
    email: str
    server: ServerSettings
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    quarantine_folder: str = QUARANTINE_FOLDER
    allow_plain: bool = False  # plain-text login only when the user said so for this account
    trusted_authserv: list[str] = field(default_factory=list)
    auth: Auth = "password"  # "oauth2": signed in with the mail provider; its tokens are in the keyring
    sign_in_issuer: str = ""  # the provider sign-in the server's autoconfig named (when address and server do not)

    @property
    def login_user(self) -> str:
        return self.server.user or self.email

    @property
    def key(self) -> str:
        return self.email.lower()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Account":
        server = ServerSettings(**data.get("server", {}))
        rest = {k: v for k, v in data.items() if k != "server" and k in cls.__dataclass_fields__}
        return cls(server=server, **rest)


class AccountStore:
    """accounts.json in the config folder, written atomically so a crash never leaves half a file."""

    def __init__(self, path: Path | None = None):
        self.path = path or paths.config_dir() / "accounts.json"

    def load(self) -> list[Account]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise KnownError(
                f"KlezGuard could not read its account list ({self.path}).",
                "Check that the file is readable, or remove it and add your accounts again.",
                detail=str(exc),
            ) from exc
        return [Account.from_dict(item) for item in data.get("accounts", [])]

    def save(self, accounts: list[Account]) -> None:
        paths.private_dir(self.path.parent)
        payload = json.dumps({"version": 1, "accounts": [a.to_dict() for a in accounts]}, indent=2)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".accounts-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload)
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise KnownError(
                f"KlezGuard could not save its account list ({self.path}).",
                "Check that the disk is not full and the folder is writable.",
                detail=str(exc),
            ) from exc

    def get(self, email: str | None = None) -> Account:
        """The account for `email`, or the only account when `email` is None."""
        accounts = self.load()
        if email is None:
            if len(accounts) == 1:
                return accounts[0]
            if not accounts:
                raise AccountNotFound("No account is set up yet.", "Add one with: klezguard account add EMAIL")
            raise AccountNotFound("You have several accounts.", "Name the one you mean (klezguard account list).")
        for account in accounts:
            if account.key == email.lower():
                return account
        raise AccountNotFound(f"There is no account for {email}.", "See klezguard account list.")

    def put(self, account: Account) -> None:
        accounts = [a for a in self.load() if a.key != account.key]
        accounts.append(account)
        self.save(accounts)

    def remove(self, email: str) -> Account:
        account = self.get(email)
        self.save([a for a in self.load() if a.key != account.key])
        return account
