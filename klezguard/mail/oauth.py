"""OAuth2 for IMAP: what a sign-in gave, kept only in the keyring, refreshed before it expires and when the
server turns a token down.

Microsoft 365 and Outlook.com take no passwords for IMAP, and Google would rather not: the user signs in at
the provider, which hands KlezGuard a short-lived access token and a refresh token. The login itself is
XOAUTH2 or OAUTHBEARER (`connection.login`); this module keeps the tokens fresh. A refresh token the
provider no longer honours (the user withdrew access, an admin revoked it, it expired) is `SignInAgain`:
a plain message and a way to sign in again, never a password prompt.
"""

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, fields

from klezguard.errors import ConnectionTimedOut, KnownError, SignInAgain
from klezguard.mail import credentials
from klezguard.mail.refreshlock import refresh_lock

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
    """A sign-in's tokens and where to refresh them. A desktop registration is a public client; Google still
    hands such clients a "secret" its token endpoint wants, which is no secret (it ships in every copy)."""

    access_token: str
    refresh_token: str = ""
    expires_at: float = 0.0  # 0: the provider did not say
    token_endpoint: str = ""
    client_id: str = ""
    scope: str = ""
    client_secret: str = ""
    revocation_endpoint: str = ""  # RFC 7009, where the provider has one: removing the account revokes there

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, token_endpoint={self.token_endpoint!r})"

    @classmethod
    def from_response(cls, response: dict, token_endpoint: str, client_id: str,
                      previous: "TokenSet | None" = None, client_secret: str = "",
                      revocation_endpoint: str = "") -> "TokenSet":
        """From a token endpoint's answer (RFC 6749 5.1); a refresh may leave the refresh token out."""
        expires_in = float(response.get("expires_in") or 0)
        return cls(
            access_token=str(response["access_token"]),
            refresh_token=str(response.get("refresh_token") or (previous.refresh_token if previous else "")),
            expires_at=time.time() + expires_in if expires_in else 0.0,
            token_endpoint=token_endpoint,
            client_id=client_id,
            scope=str(response.get("scope") or (previous.scope if previous else "")),
            client_secret=client_secret or (previous.client_secret if previous else ""),
            revocation_endpoint=revocation_endpoint or (previous.revocation_endpoint if previous else ""),
        )

    @classmethod
    def from_json(cls, text: str) -> "TokenSet | None":
        try:
            data = json.loads(text)
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError, AttributeError):
            return None  # a damaged entry: the user signs in again

    def fresh(self, now: float | None = None) -> bool:
        return not self.expires_at or self.expires_at - REFRESH_MARGIN > (now or time.time())


# Keyring entries stay small: Windows Credential Manager takes at most 2,560 bytes a secret, stored as
# UTF-16, and a Microsoft access token alone is often larger. So a sign-in is kept in pieces of at most
# PIECE characters (the JSON is ASCII: 2 bytes each there): `oauth2:<account>` says how many pieces of which
# generation and their digest, `oauth2:<account>:<generation>:<n>` hold them. A new generation is written
# before the head that names it, and the old one deleted after, so a reader never joins two sign-ins.
PIECE = 1000


def _key(account_key: str) -> str:
    return f"oauth2:{account_key}"


def _piece_key(account_key: str, generation: str, n: int) -> str:
    return f"oauth2:{account_key}:{generation}:{n}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _head(account_key: str) -> dict | None:
    raw = credentials.get_secret(_key(account_key))
    if not raw:
        return None
    try:
        head = json.loads(raw)
    except ValueError:
        return None
    return head if isinstance(head, dict) else None


def load_tokens(account_key: str) -> TokenSet | None:
    for _attempt in range(3):  # a refresh in another process may replace the pieces while we read them
        head = _head(account_key)
        if head is None:
            return None
        if "access_token" in head:  # written whole by an earlier KlezGuard
            return TokenSet.from_json(json.dumps(head))
        try:
            generation, count, digest = str(head["generation"]), int(head["pieces"]), str(head["digest"])
        except (KeyError, TypeError, ValueError):
            return None
        parts = [credentials.get_secret(_piece_key(account_key, generation, n)) for n in range(count)]
        text = "".join(p or "" for p in parts)
        if all(p is not None for p in parts) and _digest(text) == digest:
            return TokenSet.from_json(text)
    return None  # damaged: the user signs in again


def save_tokens(account_key: str, tokens: TokenSet) -> None:
    text = json.dumps(asdict(tokens))  # (ASCII: json escapes anything else)
    generation = secrets.token_hex(4)
    old = _head(account_key)
    pieces = [text[i:i + PIECE] for i in range(0, len(text), PIECE)]
    for n, piece in enumerate(pieces):
        credentials.set_secret(_piece_key(account_key, generation, n), piece)
    credentials.set_secret(_key(account_key), json.dumps(
        {"generation": generation, "pieces": len(pieces), "digest": _digest(text)}))
    _delete_pieces(account_key, old)


def _delete_pieces(account_key: str, head: dict | None) -> None:
    if not head or "generation" not in head:
        return
    try:
        for n in range(int(head["pieces"])):
            credentials.delete_secret(_piece_key(account_key, str(head["generation"]), n))
    except (TypeError, ValueError):
        return


def delete_tokens(account_key: str) -> None:
    head = _head(account_key)
    credentials.delete_secret(_key(account_key))
    _delete_pieces(account_key, head)


def token_from_env() -> AccessToken | None:
    value = os.environ.get(ENV_ACCESS_TOKEN, "").strip()
    return AccessToken(value) if value else None


def _session(tokens: TokenSet):
    from authlib.integrations.requests_client import OAuth2Session

    secret = tokens.client_secret or None  # (none: a public client, which names itself in the body)
    method = "client_secret_post" if secret else "none"
    return OAuth2Session(client_id=tokens.client_id or None, client_secret=secret,
                         token_endpoint=tokens.token_endpoint, token_endpoint_auth_method=method,
                         revocation_endpoint_auth_method=method)


def refresh(tokens: TokenSet, timeout: float = TIMEOUT) -> TokenSet:
    """New tokens for a grant (RFC 6749 section 6), through authlib. Raises SignInAgain when the provider
    no longer honours the grant, a KnownError when it cannot be reached."""
    from authlib.integrations.base_client.errors import OAuthError
    from requests import RequestException

    if not (tokens.refresh_token and tokens.token_endpoint):
        raise SignInAgain("Your sign-in has run out, and it cannot be renewed by itself.",
                          "Sign in again.")
    session = _session(tokens)
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


REVOKE_TIMEOUT = 5.0


def revoke(tokens: TokenSet, timeout: float = REVOKE_TIMEOUT) -> bool:
    """Tells the provider to forget the grant (RFC 7009), where it has a revocation endpoint (Google has,
    Microsoft has not). Best effort: True when the provider took it, False on any failure."""
    if not (tokens.revocation_endpoint and tokens.refresh_token):
        return False
    session = _session(tokens)
    try:  # (revoking the refresh token ends the grant, and with it its access tokens)
        answer = session.revoke_token(tokens.revocation_endpoint, tokens.refresh_token,
                                      token_type_hint="refresh_token", timeout=timeout)  # noqa: S106
        return bool(answer.ok)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the account is removed all the same
        log.info("revoking the sign-in at %s failed: %s", tokens.revocation_endpoint, type(exc).__name__)
        return False
    finally:
        session.close()


class TokenSource:
    """The access token to log in with: a ready one (a script's environment), or the saved sign-in's,
    refreshed when it is used up or the server turned it down; refreshed tokens are saved at once.

    The app, its scanning helper process, the watcher and a command in a terminal may all want a new token
    at once, and providers that rotate refresh tokens refuse a used one ("sign in again", wrongly). So a
    refresh holds the account's refresh lock, and under it the keyring's tokens are read again: whoever
    came second finds them renewed and uses them, and refreshes only if they still need it."""

    def __init__(self, account_key: str, tokens: TokenSet | None = None, ready: AccessToken | None = None,
                 saved: bool = False):
        self.account_key = account_key
        self.tokens = tokens
        self.ready = ready
        self.saved = saved  # the tokens are the keyring's (not a new sign-in not yet saved)
        self.unsaved = False  # renewed here but not in the keyring (none here): whoever can, saves them

    @classmethod
    def for_account(cls, account_key: str) -> "TokenSource":
        ready = token_from_env()
        tokens = None if ready else load_tokens(account_key)
        if ready is None and tokens is None:
            raise SignInAgain("KlezGuard has no sign-in for this account yet.",
                              f"Sign in with your mail provider, or give a token in {ENV_ACCESS_TOKEN}.")
        return cls(account_key, tokens, ready, saved=tokens is not None)

    def current(self) -> AccessToken:
        if self.ready is not None:
            return self.ready
        assert self.tokens is not None
        if not self.tokens.fresh():
            self._refresh(self.tokens.access_token)
        return AccessToken(self.tokens.access_token)

    def renewed(self) -> AccessToken | None:
        """A new token after the server turned the current one down; None when there is no way to renew."""
        if self.ready is not None or self.tokens is None:
            return None
        self._refresh(self.tokens.access_token)
        return AccessToken(self.tokens.access_token)

    def _refresh(self, stale: str) -> None:
        """A token other than `stale`: one another process renewed meanwhile, else a refresh of our own."""
        assert self.tokens is not None
        with refresh_lock(self.account_key):
            if self.saved:
                try:
                    latest = load_tokens(self.account_key)
                except KnownError:  # no keyring here (the helper process): what we hold is the latest we know
                    latest = None
                if latest is not None:
                    self.tokens = latest
                    if latest.access_token != stale and latest.fresh():
                        return  # renewed by someone else while we waited
            self.tokens = refresh(self.tokens)
            try:
                save_tokens(self.account_key, self.tokens)
                self.unsaved = False
            except KnownError:  # no keyring here (a helper process, a bare session): the new tokens stay in memory
                self.unsaved = True
                log.info("renewed tokens for %s kept in memory only", self.account_key)

    def adopt(self, tokens: TokenSet) -> None:
        """Tokens renewed for this sign-in elsewhere (the scanning helper process, which has no keyring at
        hand), saved here where it can be: with rotating refresh tokens, ours are used up."""
        self.tokens = tokens
        if self.saved:
            with refresh_lock(self.account_key):
                try:
                    save_tokens(self.account_key, tokens)
                except KnownError:
                    log.info("renewed tokens for %s kept in memory only", self.account_key)


def rejected(what: str) -> KnownError:
    return SignInAgain(f"{what} did not accept KlezGuard's sign-in.",
                       "Sign in again with your mail provider.")
