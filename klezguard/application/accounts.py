"""Adding, changing and removing accounts: the same steps from the wizard and from `klezguard account`.

An account is its settings (config folder) and its password (OS keyring, never a file). Removing one
forgets everything KlezGuard stored for it, so adding it back scans its mail afresh; mail it put in
quarantine stays there on the server and is found again by its keyword.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from klezguard.errors import KnownError
from klezguard.mail import credentials, oauth, signin
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.mail.connection import connect
from klezguard.mail.discovery import Discovery, discover
from klezguard.mail.oauth import TokenSource
from klezguard.mail.signin import DeviceCode

__all__ = ["Discovery", "discover", "list_folders", "add_account", "edit_account", "remove_account", "test_login",
           "saved_password", "keyring_works", "TokenSource", "signed_in", "sign_in", "DeviceCode",
           "oauth_provider", "save_sign_in", "code_sign_in_refused", "CodeSignIn", "start_code_sign_in",
           "finish_code_sign_in"]
from klezguard.settings import Settings
from klezguard.store.db import Store


@dataclass
class Saved:
    account: Account
    password_saved: bool  # False: the keyring could not take it (kept in memory for this session only)
    problem: str = ""  # why the password was not saved


def apply_settings(account: Account, settings: Settings) -> None:
    """The folders the user chose in Settings: which to watch, and where quarantined mail goes."""
    account.quarantine_folder = settings.get("quarantine_folder")
    for folder in settings.get("watched_folders"):
        if folder not in account.folders:
            account.folders.append(folder)


def test_login(account: Account, password: "str | TokenSource") -> None:
    """Logs in and out once; raises KnownError with what to do."""
    client = connect(account.server, password, email=account.email, allow_plain=account.allow_plain)
    try:
        client.logout()
    except Exception:  # noqa: BLE001, S110 - the login worked; a failing logout changes nothing
        pass


def list_folders(settings: ServerSettings, password: str, email: str, allow_plain: bool) -> list[tuple[str, str]]:
    """Logs in and returns (folder, special-use flag) pairs: the wizard's test login, which shows the folders."""
    client = connect(settings, password, email=email, allow_plain=allow_plain)
    try:
        folders = []
        for flags, _delim, name in client.list_folders():
            flag_names = {f.decode() if isinstance(f, bytes) else str(f) for f in flags}
            if "\\Noselect" in flag_names:
                continue
            special = next((f for f in flag_names if f in ("\\Sent", "\\Junk", "\\Trash", "\\Drafts", "\\Archive")),
                           "")
            folders.append((name, special))
        return folders
    finally:
        client.logout()


def add_account(account: Account, password: "str | TokenSource", store: Store, settings: Settings | None = None,
                check_login: bool = True, accounts: AccountStore | None = None) -> Saved:
    """Saves a new account (after a test login) with its password in the keyring. What a removed account
    of that address left in the store is forgotten: its mail is scanned afresh. Adding an account that is
    there already only saves its settings and password: its quarantine journal is kept."""
    saved = accounts or AccountStore()
    if settings is not None:
        apply_settings(account, settings)
    if check_login:
        test_login(account, password)
    known = any(a.key == account.key for a in saved.load())
    saved.put(account)
    if not known:
        store.forget_account(account.key)
    if isinstance(password, TokenSource):  # signed in with the provider: its tokens, never a password
        return save_sign_in(account, password)
    return _save_password(account, password)


def edit_account(account: Account, password: str | None = None, accounts: AccountStore | None = None) -> Saved:
    """Saves changed settings (and a new password, when one was typed)."""
    (accounts or AccountStore()).put(account)
    if not password:
        return Saved(account, True)
    return _save_password(account, password)


REVOKE_WAIT = oauth.REVOKE_TIMEOUT  # how long the command line waits for the provider to revoke a sign-in


def remove_account(key: str, store: Store, accounts: AccountStore | None = None,
                   revoke_wait: float = 0.0) -> str:
    """Removes the account, its password and everything stored for it. Returns a problem to tell the
    user ('' when all went well): the keyring may refuse to delete the password.

    A sign-in's grant is also revoked at the provider where it has a revocation endpoint (RFC 7009), on a
    thread of its own with a short timeout: nothing waits for it but a command line, `revoke_wait` seconds
    at most (its process would end it), and a provider that does not answer changes nothing here."""
    account = (accounts or AccountStore()).remove(key)
    store.forget_account(account.key)
    try:
        credentials.delete_password(account.key)
        tokens = oauth.load_tokens(account.key)
        oauth.delete_tokens(account.key)  # a sign-in's refresh token goes with the account
    except KnownError as exc:
        return exc.text()
    if tokens is not None and tokens.revocation_endpoint:
        revoking = threading.Thread(target=oauth.revoke, args=(tokens,), daemon=True, name="revoke-sign-in")
        revoking.start()
        if revoke_wait:
            revoking.join(revoke_wait)
    return ""


NO_KEYRING = ("This computer has no password store, so KlezGuard keeps your password only until it closes and "
              "asks for it at the next start. To have it remembered, install GNOME Keyring or KWallet.")


def saved_password(account: Account) -> tuple[str | None, str]:
    """(the account's password, or None; why there is none: '' when it simply was never saved)."""
    from_env = credentials.password_from_env()
    if from_env:
        return from_env, ""
    try:
        return credentials.get_password(account.key), ""
    except KnownError:
        return None, NO_KEYRING


def sign_in(email: str, host: str = "", device: bool = False, show_code: Callable[[DeviceCode], None] | None = None,
            open_url: Callable[[str], object] | None = None, cancel: threading.Event | None = None,
            issuer: str = "") -> TokenSource:
    """Signs in with the provider of this address or server: in the system browser, or with a code typed on
    another device. The tokens are returned, not yet saved (add_account saves them with the account).
    `issuer`: the sign-in the server's autoconfig named (Discovery.sign_in, Account.sign_in_issuer)."""
    provider = signin.provider_for(email, host, issuer)
    if provider is None:
        raise KnownError(f"{host or email} does not use sign-in with a mail provider.", "Use its password instead.")
    provider = signin.configured(provider)
    if device:
        code = signin.start_device_sign_in(provider)
        if show_code is not None:
            show_code(code)
        tokens = signin.finish_device_sign_in(provider, code, cancel=cancel)
    else:
        tokens = signin.sign_in_with_browser(provider, login_hint=email, open_url=open_url, cancel=cancel)
    return TokenSource(email.lower(), tokens)


@dataclass(frozen=True)
class CodeSignIn:
    """A sign-in with a code typed on another device, begun: show `code.user_code` and `code.verification_uri`."""

    email: str
    provider: signin.Provider
    code: DeviceCode


def start_code_sign_in(email: str, host: str = "", issuer: str = "") -> CodeSignIn:
    provider = signin.provider_for(email, host, issuer)
    if provider is None:
        raise KnownError(f"{host or email} does not use sign-in with a mail provider.", "Use its password instead.")
    provider = signin.configured(provider)
    return CodeSignIn(email, provider, signin.start_device_sign_in(provider))


def finish_code_sign_in(pending: CodeSignIn, cancel: threading.Event | None = None) -> TokenSource:
    """Waits, at the provider's pace, until the user has typed the code."""
    return TokenSource(pending.email.lower(), signin.finish_device_sign_in(pending.provider, pending.code,
                                                                           cancel=cancel))


def save_sign_in(account: Account, tokens: TokenSource) -> Saved:
    """A new sign-in for an account that has one already (the old grant was withdrawn or ran out)."""
    if tokens.tokens is None:
        return Saved(account, False, "a ready access token is used once and not kept")
    try:
        oauth.save_tokens(account.key, tokens.tokens)
    except KnownError:
        return Saved(account, False, NO_KEYRING)
    return Saved(account, True)


def code_sign_in_refused(email: str, host: str = "", issuer: str = "") -> str:
    """Why this address's provider cannot sign in with a code ('' when it can, or has no sign-in at all)."""
    try:
        provider = signin.provider_for(email, host, issuer)
    except KnownError:
        return ""
    return signin.no_code_sign_in(provider).text() if provider is not None and not provider.device_flow else ""


def oauth_provider(email: str, host: str = "", issuer: str = "") -> str:
    """The name of the provider this address or server signs in with ("Microsoft"), '' for a password."""
    try:
        provider = signin.provider_for(email, host, issuer)
        if provider is None:
            return ""
        signin.configured(provider)
    except KnownError:
        return ""  # no registration to sign in with (or a broken provider file): the password it is
    return provider.title


def signed_in(account: Account) -> TokenSource:
    """The access tokens of an account signed in with its provider (a ready token from the environment
    first, for scripts); SignInAgain when there is none."""
    return TokenSource.for_account(account.key)


def keyring_works() -> bool:
    try:
        credentials.get_password("klezguard-probe")
    except KnownError:
        return False
    return True


def _save_password(account: Account, password: str) -> Saved:
    try:
        credentials.set_password(account.key, password)
    except KnownError:
        return Saved(account, False, NO_KEYRING)
    return Saved(account, True)
