"""Expected failures carry a plain-language message and what to do; anything else is a bug.

The command line prints `text()`; the desktop app shows it in a message instead of a stack trace.
"""


class KlezGuardError(Exception):
    """Base of every error KlezGuard raises on purpose."""


class KnownError(KlezGuardError):
    """A failure we expect and can explain: what happened, and what the user can do about it."""

    def __init__(self, what: str, todo: str = "", detail: str = ""):
        super().__init__(what)
        self.what = what
        self.todo = todo
        self.detail = detail  # technical detail for a helper (never a password)

    def text(self) -> str:
        return f"{self.what} {self.todo}".strip()

    def __reduce__(self):
        # Errors travel from the scanning helper process to the app: keep all three parts.
        return (type(self), (self.what, self.todo, self.detail), dict(self.__dict__))


class LoginFailed(KnownError):
    pass


class SignInAgain(LoginFailed):
    """An OAuth2 sign-in the provider no longer honours: the user signs in again (never a password prompt)."""


class ServerNotFound(KnownError):
    pass


class ConnectionRefused(KnownError):
    pass


class ConnectionTimedOut(KnownError):
    pass


class CertificateProblem(KnownError):
    pass


class ConnectionDropped(KnownError):
    pass


class InsecureConnection(KnownError):
    """The server would not encrypt, and the user has not allowed plain text for this account."""


class KeyringUnavailable(KnownError):
    pass


class AccountNotFound(KnownError):
    pass


class StoreError(KnownError):
    busy = False  # another KlezGuard holds the database just now (worth waiting for)


class MessageGone(KnownError):
    """The message is no longer where the last scan saw it (moved or deleted in a mail program)."""
