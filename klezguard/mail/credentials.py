"""Passwords live only in the OS keyring. If no keyring works we say so; we never fall back to a file."""

import os

import keyring
import keyring.errors

from klezguard.errors import KeyringUnavailable

SERVICE = "KlezGuard"
ENV_PASSWORD = "KLEZGUARD_PASSWORD"  # noqa: S105 - for scripts: the command line reads it when set


def _unavailable(exc: Exception) -> KeyringUnavailable:
    locked = isinstance(exc, keyring.errors.KeyringLocked)
    what = (
        "Your system keyring is locked, so KlezGuard cannot read or store the password."
        if locked
        else "KlezGuard found no working password store (keyring) on this computer."
    )
    todo = (
        "Unlock your keyring (log in to your desktop session) and try again."
        if locked
        else "Install and start one (for example GNOME Keyring or KWallet), or give the password "
        f"each time with the {ENV_PASSWORD} variable. KlezGuard never saves passwords in a plain file."
    )
    return KeyringUnavailable(what, todo, detail=f"{type(exc).__name__}: {exc}")


def _guard(call, *args):
    try:
        return call(*args)
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from None


def get_password(account_key: str) -> str | None:
    return _guard(keyring.get_password, SERVICE, account_key)


def set_password(account_key: str, password: str) -> None:
    _guard(keyring.set_password, SERVICE, account_key, password)


def delete_password(account_key: str) -> None:
    """Removes the saved password; a password that was never saved is not an error."""
    try:
        keyring.delete_password(SERVICE, account_key)
    except keyring.errors.PasswordDeleteError:
        return
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from None


def password_from_env() -> str | None:
    return os.environ.get(ENV_PASSWORD) or None


# Other secrets of an account (an OAuth2 sign-in's tokens), under their own names in the same keyring entry
# service; the same rule: the keyring or nowhere.
def get_secret(name: str) -> str | None:
    return _guard(keyring.get_password, SERVICE, name)


def set_secret(name: str, value: str) -> None:
    _guard(keyring.set_password, SERVICE, name, value)


def delete_secret(name: str) -> None:
    delete_password(name)
