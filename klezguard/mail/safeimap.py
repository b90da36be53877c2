"""A last line of defence: no IMAP command leaves KlezGuard with a line break or NUL inside it, and no
answer from a server can make it read more than it accepts.

IMAP ends each command with CRLF. imapclient quotes strings but does not refuse CR or LF inside them,
so a value that carries a line break (a header copied from a message, a folder name from a hostile
server, a password) would end the command early, and the rest of the value would run as a command of
its own in the user's logged-in session. KlezGuard does not put text from messages into commands at
all (see quarantine.py); this guard makes sure no future change can, whatever path the text takes.

Both of imapclient's ways of sending are covered: its own writer (FETCH, SEARCH, STORE, APPEND) and
imaplib's (SELECT, COPY, MOVE, LOGIN, ...). Literals that imapclient sends on purpose (message bytes
for APPEND) are counted, not parsed, so they are allowed.

Answers: imaplib refuses lines over 1 MB, which a real server sends for a mail with 10,000 parts (its
BODYSTRUCTURE) and for a big folder's SEARCH; and it reads a literal of any announced size into memory,
so a server announcing {999999999} costs gigabytes. Here a line may have 64 MB and a literal 64 MB (the
scanner asks for 8 MB of a part at most); beyond, the connection is given up with AnswerTooBig.
"""

import imaplib
import types

import imapclient
import imapclient.imapclient as _impl

from klezguard.errors import KnownError

_FORBIDDEN = (b"\r", b"\n", b"\x00")
MAX_LINE = 64 * 1024 * 1024
MAX_LITERAL = 64 * 1024 * 1024


TOO_BIG = "answer too big"  # in the message: imaplib re-raises an abort as a plain one, keeping only its text


class AnswerTooBig(imaplib.IMAP4.abort):
    """The server sent more in one piece than KlezGuard reads; the connection cannot be used any more."""


class UnsafeCommand(KnownError):
    """Raised instead of sending a command that would split. Says nothing about the value: it may be
    a password."""

    def __init__(self, what: str = "", todo: str = "", detail: str = ""):
        super().__init__(
            what or "KlezGuard stopped a server command that held a line break, so it was never sent.",
            todo or "Nothing was changed on the server. If it keeps happening, copy the details for whoever "
                     "helps you with IT.",
            detail)


def _unsafe(value) -> bool:
    if isinstance(value, str):
        return "\r" in value or "\n" in value or "\x00" in value
    if isinstance(value, bytes | bytearray):
        return any(c in value for c in _FORBIDDEN)
    return False


def check_arg(value, command: str = "") -> None:
    if _unsafe(value):
        raise UnsafeCommand(detail=f"refused before sending: {command or 'a command'} with CR, LF or NUL")


def protect(client: imapclient.IMAPClient) -> imapclient.IMAPClient:
    """Installs the guard on a client (idempotent) and returns it."""
    if getattr(client, "_klezguard_guarded", False):
        return client
    imap = client._imap
    plain_command = imap._command
    raw_command = client._raw_command

    def guarded_command(_self, name, *args):
        for arg in args:
            check_arg(arg, str(name))
        return plain_command(name, *args)

    def guarded_raw(command, args, uid=True):
        items = list(args) if isinstance(args, list | tuple) else [args]
        for item in items:
            if not isinstance(item, _impl._literal):
                check_arg(item, command.decode("ascii", "replace") if isinstance(command, bytes) else str(command))
        return raw_command(command, args, uid=uid)

    # A bound method, as imaplib's own: imaplib tells a literal callback (AUTHENTICATE) from literal bytes by
    # comparing its type with type(self._command).
    imap._command = types.MethodType(guarded_command, imap)
    client._raw_command = guarded_raw
    plain_read = imap.read

    def guarded_readline(_self):
        line = imap.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise AnswerTooBig(f"{TOO_BIG}: a line of more than {MAX_LINE} bytes")
        return line

    def guarded_read(_self, size):
        if size > MAX_LITERAL:
            raise AnswerTooBig(f"{TOO_BIG}: a literal of {size} bytes")
        return plain_read(size)

    imap.readline = types.MethodType(guarded_readline, imap)
    imap.read = types.MethodType(guarded_read, imap)
    client._klezguard_guarded = True
    return client


def safe_name(folder: str) -> str:
    """A folder name from settings or a server, refused if it could split a command."""
    check_arg(folder, "folder name")
    return folder
