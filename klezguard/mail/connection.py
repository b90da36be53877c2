"""Opening an IMAP connection safely, and turning every way it can fail into a plain message.

TLS on port 993 by default; STARTTLS only with TLS actually started (never a silent downgrade);
unencrypted only when the user allowed it for this account. Certificates are checked against the
system's CAs, plus an optional CA file.
"""

import socket
import ssl
from contextlib import contextmanager

import imapclient
import imapclient.exceptions

from klezguard.errors import (
    CertificateProblem,
    ConnectionDropped,
    ConnectionRefused,
    ConnectionTimedOut,
    InsecureConnection,
    KnownError,
    LoginFailed,
    ServerNotFound,
    SignInAgain,
)
from klezguard.mail import oauth
from klezguard.mail.accounts import ServerSettings
from klezguard.mail.oauth import AccessToken, TokenSource
from klezguard.mail.safeimap import TOO_BIG, AnswerTooBig, protect
from klezguard.mail.watchdog import CommandDeadline

TIMEOUT = 20.0

APP_PASSWORD_HINTS = {
    "gmail.com": "Gmail",
    "googlemail.com": "Gmail",
    "outlook.com": "Outlook",
    "hotmail.com": "Outlook",
    "live.com": "Outlook",
    "office365.com": "Microsoft 365",
    "yahoo.com": "Yahoo",
    "ymail.com": "Yahoo",
    "aol.com": "AOL",
    "icloud.com": "iCloud",
    "me.com": "iCloud",
    "mac.com": "iCloud",
}


def ssl_context(cafile: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if cafile:
        try:
            context.load_verify_locations(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise CertificateProblem(
                f"KlezGuard could not read the certificate file {cafile}.",
                "Check the path, or leave the field empty to use your system's certificates.",
                detail=str(exc),
            ) from exc
    return context


def _app_password_hint(email: str, host: str) -> str:
    domain = email.rpartition("@")[2].lower()
    for key, name in APP_PASSWORD_HINTS.items():
        if domain == key or host.lower().endswith(key) or (key == "gmail.com" and "gmail" in host.lower()):
            return (
                f" {name} needs an app password for programs like KlezGuard when two-step sign-in is on: "
                f"create one in your {name} account's security settings and use it here."
            )
    return ""


def _certificate_problem(exc: ssl.SSLCertVerificationError, settings: ServerSettings) -> CertificateProblem:
    code = getattr(exc, "verify_code", None)
    reason = str(getattr(exc, "verify_message", "") or exc)
    if code in (62, 64) or "mismatch" in reason.lower() or "doesn't match" in reason.lower():
        what = f"The server's certificate is not for {settings.host}."
        todo = "Check the server name in the account settings. Someone may be pretending to be your server."
    elif code == 10 or "expired" in reason.lower():
        what = f"The certificate of {settings.host} has expired."
        todo = "Tell your mail provider. Do not work around it unless you know why."
    elif code in (18, 19) or "self-signed" in reason.lower() or "self signed" in reason.lower():
        what = f"{settings.host} uses a self-signed certificate that your computer does not trust."
        todo = "If this is your company's own server, ask for its CA file and add it in the account settings."
    else:
        what = f"The certificate of {settings.host} could not be checked ({reason})."
        todo = "Check the server name and your computer's date and time."
    return CertificateProblem(what, todo, detail=f"{type(exc).__name__}: {exc}")


def translate(exc: BaseException, settings: ServerSettings, email: str = "") -> KnownError:
    """The plain-language error for a low-level exception raised while talking to a server."""
    where = settings.describe()
    if isinstance(exc, KnownError):
        return exc
    if isinstance(exc, AnswerTooBig) or (isinstance(exc, imapclient.exceptions.IMAPClientAbortError)
                                         and TOO_BIG in str(exc)):
        return KnownError(
            f"The server {settings.host} sent an answer bigger than KlezGuard reads at once, so it stopped.",
            "Nothing was changed. If it keeps happening, tell your mail provider.", detail=str(exc))
    if isinstance(exc, CommandDeadline):
        return ConnectionTimedOut(
            f"The server {settings.host} took too long to answer, so KlezGuard stopped waiting.",
            "It tries again later. If it keeps happening, check your network or ask your provider.",
            detail=str(exc))
    if isinstance(exc, imapclient.exceptions.LoginError):
        return LoginFailed(
            f"The server {settings.host} did not accept the user name or password.",
            "Check them and try again." + _app_password_hint(email or settings.user, settings.host),
            detail=str(exc),
        )
    if isinstance(exc, socket.gaierror):
        return ServerNotFound(
            f"The server name {settings.host} could not be found.",
            "Check the spelling and that this computer is online.",
            detail=str(exc),
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate_problem(exc, settings)
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(
            f"{where} refused the connection.",
            "Check the port and the kind of security (TLS or STARTTLS) in the account settings.",
            detail=str(exc),
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return ConnectionTimedOut(
            f"{where} did not answer in time.",
            "Check that this computer is online, then try again. A firewall may block the port.",
            detail=str(exc),
        )
    if isinstance(exc, ssl.SSLError):
        return CertificateProblem(
            f"A secure connection to {where} could not be set up.",
            "Check the port and the kind of security: port 993 uses TLS, port 143 uses STARTTLS.",
            detail=f"{type(exc).__name__}: {exc}",
        )
    if isinstance(exc, ConnectionError | EOFError | imapclient.exceptions.IMAPClientAbortError | OSError):
        return ConnectionDropped(
            f"The connection to {settings.host} was lost.",
            "KlezGuard will try again. If it keeps happening, check your network.",
            detail=f"{type(exc).__name__}: {exc}",
        )
    return KnownError(
        f"The server {settings.host} answered in a way KlezGuard did not expect.",
        "Try again later. If it keeps happening, copy the details for whoever helps you with IT.",
        detail=f"{type(exc).__name__}: {exc}",
    )


@contextmanager
def translated(settings: ServerSettings, email: str = ""):
    """Raise KnownErrors instead of socket, ssl and imapclient exceptions inside the block."""
    try:
        yield
    except KnownError:
        raise
    except (OSError, EOFError, ssl.SSLError, imapclient.exceptions.IMAPClientError, UnicodeError,
            RecursionError) as exc:  # the last two: an answer too odd to read, after the per-message boundary
        raise translate(exc, settings, email) from exc


def login(client: imapclient.IMAPClient, settings: ServerSettings, user: str, password: str) -> None:
    """LOGIN where it can carry the name and password; AUTHENTICATE PLAIN, which is UTF-8 by definition
    (RFC 4616, RFC 6855), where they hold letters beyond ASCII that LOGIN cannot send. No error raised
    here holds any part of the password."""
    if "\r" in password or "\n" in password or "\x00" in password:
        raise LoginFailed("The password holds a line break or another control character, which no mail server "
                          "accepts.", "Type the password again.")
    if user.isascii() and password.isascii():
        client.login(user, password)
        return
    if b"AUTH=PLAIN" not in client.capabilities():
        raise LoginFailed(
            f"The password or user name holds letters beyond plain English ones (such as é or ß), and "
            f"{settings.host} offers no way to receive them.",
            "Ask your provider, or change the password to plain letters, digits and symbols.")
    client.plain_login(user, password)


def oauth_login(client: imapclient.IMAPClient, settings: ServerSettings, user: str, token: AccessToken) -> None:
    """OAUTHBEARER (RFC 7628) where the server offers it, else XOAUTH2 (Google's and Microsoft's older form).
    A turned-down token raises LoginFailed; nothing falls back to a password."""
    caps = client.capabilities()
    if "\r" in token.value or "\n" in token.value or "\x00" in token.value:
        raise SignInAgain("The sign-in token holds a line break, which no server accepts.", "Sign in again.")
    try:
        if b"AUTH=OAUTHBEARER" in caps:
            client.oauthbearer_login(user, token.value)
        elif b"AUTH=XOAUTH2" in caps:
            client.oauth2_login(user, token.value)
        else:
            raise LoginFailed(f"{settings.host} does not offer sign-in with a mail provider (OAuth2).",
                              "Check the server name, or use a password for this account if your provider allows.")
    except imapclient.exceptions.LoginError as exc:
        raise _TokenRejected(str(exc)) from None


class _TokenRejected(Exception):
    """The server turned the access token down (it may only need renewing)."""


def connect(settings: ServerSettings, password: "str | TokenSource", *, email: str = "", allow_plain: bool = False,
            timeout: float = TIMEOUT) -> imapclient.IMAPClient:
    """A logged-in client, with a password or a sign-in's tokens (renewed once if the server turns the
    token down). Raises a KnownError (never a raw socket or ssl error)."""
    if isinstance(password, TokenSource):
        if settings.security == "plain":
            raise InsecureConnection("This account would send its sign-in token without encryption.",
                                     "Use TLS or STARTTLS: a sign-in token opens the whole mailbox.")
        try:
            return _connect(settings, password.current(), email, allow_plain, timeout)
        except _TokenRejected:
            renewed = password.renewed()
            if renewed is None:
                raise oauth.rejected(settings.host) from None
            try:
                return _connect(settings, renewed, email, allow_plain, timeout)
            except _TokenRejected:
                raise oauth.rejected(settings.host) from None
    return _connect(settings, password, email, allow_plain, timeout)


def _connect(settings: ServerSettings, secret: "str | AccessToken", email: str, allow_plain: bool,
             timeout: float) -> imapclient.IMAPClient:
    if settings.security == "plain" and not allow_plain:
        raise InsecureConnection(
            "This account is set to send your password without encryption.",
            "Use TLS or STARTTLS, or allow unencrypted login for this account if you really must.",
        )
    with translated(settings, email):
        context = ssl_context(settings.cafile)
        client = protect(imapclient.IMAPClient(
            settings.host,
            port=settings.port,
            ssl=settings.security == "ssl",
            ssl_context=context,
            timeout=timeout,
        ))
        try:
            if settings.security == "starttls":
                if b"STARTTLS" not in client.capabilities():
                    raise InsecureConnection(
                        f"{settings.host} does not offer STARTTLS, so the connection would not be encrypted.",
                        "Use TLS on port 993 instead, or ask your provider.",
                    )
                client.starttls(context)
            if isinstance(secret, AccessToken):
                oauth_login(client, settings, settings.user or email, secret)
            else:
                login(client, settings, settings.user or email, secret)
        except BaseException:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001, S110 - closing a broken socket may fail again
                pass
            raise
    return client
