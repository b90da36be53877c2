"""OAuth2 for IMAP: what a sign-in gave, kept only in the keyring, refreshed before it expires and when the
server turns a token down.

Microsoft 365 and Outlook.com take no passwords for IMAP, and Google would rather not: the user signs in at
the provider, which hands KlezGuard a short-lived access token and a refresh token. The login itself is
XOAUTH2 or OAUTHBEARER (`connection.login`); this module keeps the tokens fresh. A refresh token the
provider no longer honours (the user withdrew access, an admin revoked it, it expired) is `SignInAgain`:
a plain message and a way to sign in again, never a password prompt.
"""

import json
import logging
import os
import time
from dataclasses import asdict, dataclass

from klezguard.errors import ConnectionTimedOut, KnownError, SignInAgain
from klezguard.mail import credentials

log = logging.getLogger(__name__)
ENV_ACCESS_TOKEN = "KLEZGUARD_ACCESS_TOKEN"  # noqa: S105 - for scripts and tests: a ready access token
REFRESH_MARGIN = 120  # seconds before expiry when a token counts as used up
TIMEOUT = 20


@dataclass(frozen=True)
class AccessToken:
    """A bearer token for one login. Never shown: its repr hides the value."""

    value: str

    def __repr__(self) -> str:
        return "AccessToken(...)"


@dataclass
class TokenSet:
    """A sign-in's tokens and where to refresh them (client registrations are public: no secret here)."""

    access_token: str
    refresh_token: str = ""
    expires_at: float = 0.0  # 0: the provider did not say
    token_endpoint: str = ""
    client_id: str = ""
    scope: str = ""

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, token_endpoint={self.token_endpoint!r})"

    @classmethod
    def from_response(cls, response: dict, token_endpoint: str, client_id: str,
                      previous: "TokenSet | None" = None) -> "TokenSet":
        """From a token endpoint's answer (RFC 6749 5.1); a refresh may leave the refresh token out."""
        expires_in = float(response.get("expires_in") or 0)
        return cls(
            access_token=str(response["access_token"]),
            refresh_token=str(response.get("refresh_token") or (previous.refresh_token if previous else "")),
            expires_at=time.time() + expires_in if expires_in else 0.0,
            token_endpoint=token_endpoint,
            client_id=client_id,
            scope=str(response.get("scope") or (previous.scope if previous else "")),
        )

    def fresh(self, now: float | None = None) -> bool:
        return not self.expires_at or self.expires_at - REFRESH_MARGIN > (now or time.time())


def _key(account_key: str) -> str:
    return f"oauth2:{account_key}"


def load_tokens(account_key: str) -> TokenSet | None:
    raw = credentials.get_secret(_key(account_key))
    if not raw:
        return None
    try:
        return TokenSet(**json.loads(raw))
    except (ValueError, TypeError):
        return None  # a damaged entry: the user signs in again


def save_tokens(account_key: str, tokens: TokenSet) -> None:
    credentials.set_secret(_key(account_key), json.dumps(asdict(tokens)))


def delete_tokens(account_key: str) -> None:
    credentials.delete_secret(_key(account_key))


def token_from_env() -> AccessToken | None:
    value = os.environ.get(ENV_ACCESS_TOKEN, "").strip()
    return AccessToken(value) if value else None


def refresh(tokens: TokenSet, timeout: float = TIMEOUT) -> TokenSet:
    """New tokens for a grant (RFC 6749 section 6), through authlib. Raises SignInAgain when the provider
    no longer honours the grant, a KnownError when it cannot be reached."""
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.requests_client import OAuth2Session
    from requests import RequestException

    if not (tokens.refresh_token and tokens.token_endpoint):
        raise SignInAgain("Your sign-in has run out, and it cannot be renewed by itself.",
                          "Sign in again.")
    session = OAuth2Session(client_id=tokens.client_id or None, token_endpoint=tokens.token_endpoint)
    try:
        answer = session.refresh_token(tokens.token_endpoint, refresh_token=tokens.refresh_token, timeout=timeout)
    except OAuthError as exc:
        if exc.error not in ("invalid_grant", "interaction_required", "consent_required", "login_required"):
            raise KnownError(
                "Your mail provider's sign-in service could not renew KlezGuard's access just now.",
                "Try again later. If it keeps happening, ask whoever set up KlezGuard's registration.",
                detail=f"{exc.error}: {exc.description or ''}",
            ) from None
        raise SignInAgain(
            "Your mail provider no longer accepts KlezGuard's sign-in for this account (it was withdrawn or has "
            "run out).",
            "Sign in again. If it keeps happening, ask whoever runs your mail whether KlezGuard may read mail.",
            detail=f"{exc.error}: {exc.description or ''}",
        ) from None
    except RequestException as exc:
        raise ConnectionTimedOut(
            "Your mail provider's sign-in service did not answer.",
            "Check that this computer is online, then try again.",
            detail=type(exc).__name__,
        ) from None
    finally:
        session.close()
    return TokenSet.from_response(dict(answer), tokens.token_endpoint, tokens.client_id, tokens)


class TokenSource:
    """The access token to log in with: a ready one (a script's environment), or the saved sign-in's,
    refreshed when it is used up or the server turned it down; refreshed tokens are saved at once."""

    def __init__(self, account_key: str, tokens: TokenSet | None = None, ready: AccessToken | None = None):
        self.account_key = account_key
        self.tokens = tokens
        self.ready = ready

    @classmethod
    def for_account(cls, account_key: str) -> "TokenSource":
        ready = token_from_env()
        tokens = None if ready else load_tokens(account_key)
        if ready is None and tokens is None:
            raise SignInAgain("KlezGuard has no sign-in for this account yet.",
                              f"Sign in with your mail provider, or give a token in {ENV_ACCESS_TOKEN}.")
        return cls(account_key, tokens, ready)

    def current(self) -> AccessToken:
        if self.ready is not None:
            return self.ready
        assert self.tokens is not None
        if not self.tokens.fresh():
            self._refresh()
        return AccessToken(self.tokens.access_token)

    def renewed(self) -> AccessToken | None:
        """A new token after the server turned the current one down; None when there is no way to renew."""
        if self.ready is not None or self.tokens is None:
            return None
        self._refresh()
        return AccessToken(self.tokens.access_token)

    def _refresh(self) -> None:
        assert self.tokens is not None
        self.tokens = refresh(self.tokens)
        try:
            save_tokens(self.account_key, self.tokens)
        except KnownError:  # no keyring here (a helper process, a bare session): the new tokens stay in memory
            log.info("renewed tokens for %s kept in memory only", self.account_key)


def rejected(what: str) -> KnownError:
    return SignInAgain(f"{what} did not accept KlezGuard's sign-in.",
                       "Sign in again with your mail provider.")
