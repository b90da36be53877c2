"""`klezguard scan`, `quarantine list|restore` and `watch`: the mailbox on the server.

They work with a saved account, or without one given --host/--port/--security/--user/--cafile and
the password in KLEZGUARD_PASSWORD (for scripts and support).
"""

import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from klezguard.application import accounts
from klezguard.application import quarantine as quarantining
from klezguard.application.judge import default_judge
from klezguard.application.scan import Progress, Scanned, scan_account
from klezguard.application.watch import WatchEvent, watch_account
from klezguard.cli.accounts import add_server_options, read_password, settings_from_args
from klezguard.cli.terminal import raw_stderr
from klezguard.core.visible import terminal_safe
from klezguard.errors import KnownError
from klezguard.i18n import _
from klezguard.mail import credentials
from klezguard.mail.accounts import Account, AccountStore
from klezguard.mail.connection import connect, translated
from klezguard.report import as_json, as_text
from klezguard.store.db import Store


def add_parsers(sub) -> None:
    scan = sub.add_parser("scan", help=_("scan an account's folders on the server"))
    scan.add_argument("email", nargs="?")
    scan.add_argument("--folder", action="append", default=[], metavar="F", help=_("folder to scan (default INBOX)"))
    scan.add_argument("--json", action="store_true", help=_("print one JSON object per new message"))
    scan.add_argument("--quarantine", choices=("suspicious", "threat"),
                      help=_("then move every message at this level or worse, new or found by an earlier scan, "
                             "to the quarantine folder"))
    add_server_options(scan)
    scan.set_defaults(run=run_scan)

    quarantine = sub.add_parser("quarantine", help=_("list or restore quarantined messages"))
    actions = quarantine.add_subparsers(dest="quarantine_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help=_("list quarantined messages"))
    listing.add_argument("email", nargs="?")
    add_server_options(listing)
    listing.set_defaults(run=run_quarantine_list)
    restore = actions.add_parser("restore", help=_("put quarantined messages back where they were"))
    restore.add_argument("args", nargs="*", metavar="[EMAIL] UID", help=_("the UID shown by 'quarantine list'"))
    restore.add_argument("--all", action="store_true", help=_("restore every quarantined message"))
    add_server_options(restore)
    restore.set_defaults(run=run_quarantine_restore)

    watch = sub.add_parser("watch", help=_("keep watching the Inbox and print each new finding"))
    watch.add_argument("email", nargs="?")
    add_server_options(watch)
    watch.set_defaults(run=run_watch)


def resolve(args, email: str | None) -> tuple[Account, "str | accounts.TokenSource"]:
    """The account and its password (or, signed in with its provider, its tokens): saved settings and
    keyring, or the command line and environment."""
    if args.host:
        login = args.user or email
        if not login:
            raise KnownError(_("Say which mailbox to use."), _("Give the e-mail address or --user."))
        settings, _source = settings_from_args(args, login)
        account = Account(email or login, settings, allow_plain=settings.security == "plain",
                          auth=args.auth or "password")
        if account.auth == "oauth2":
            return account, accounts.signed_in(account)
        return account, read_password(_("Password for {user}: ").format(user=login))
    account = AccountStore().get(email)
    if args.auth:
        account.auth = args.auth
    if account.auth == "oauth2":
        return account, accounts.signed_in(account)  # never a password prompt
    password = credentials.password_from_env() or credentials.get_password(account.key)
    if not password:
        password = read_password(_("Password for {email}: ").format(email=account.email))
    return account, password


def open_client(account: Account, password: "str | accounts.TokenSource"):
    return connect(account.server, password, email=account.email, allow_plain=account.allow_plain)


def open_store() -> Store:
    store = Store()
    if store.recovery_note():
        print(_("klezguard: {text}").format(text=store.recovery_note()), file=sys.stderr)
    return store


def source_url(account: Account, folder: str, uid: int) -> str:
    user = urllib.parse.quote(account.login_user, safe="")
    return f"imap://{user}@{account.server.host}/{urllib.parse.quote(folder, safe='/')};UID={uid}"


class ProgressBar:
    """A one-line progress bar on standard error, for people (silent when it is not a terminal)."""

    def __init__(self):
        self.stream = raw_stderr()  # the bar's own carriage returns; the folder name is made safe below
        self.enabled = self.stream.isatty()

    def __call__(self, p: Progress) -> None:
        if not self.enabled or not p.total:
            return
        width = 30
        filled = int(width * p.done / p.total)
        folder = terminal_safe(p.folder, keep="")
        self.stream.write(f"\r{folder} [{'#' * filled}{' ' * (width - filled)}] {p.done}/{p.total}")
        if p.done >= p.total:
            self.stream.write("\n")
        self.stream.flush()


@contextmanager
def session(account: Account, password: "str | accounts.TokenSource") -> Iterator:
    """A logged-in connection; anything the server or the network does wrong in it becomes a plain
    message with what to do, as before the login."""
    client = open_client(account, password)
    try:
        with translated(account.server, account.email):
            yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - a connection that failed may fail to close as well: close its socket
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001, S110 - already gone
                pass


def run_scan(args) -> int:
    account, password = resolve(args, args.email)
    folders = args.folder or account.folders
    store = open_store()
    flagged = unchecked = 0
    judge = default_judge()
    run = None

    def show(scanned: Scanned) -> None:  # printed as judged: a big first scan keeps no list of messages
        nonlocal flagged, unchecked
        flagged += scanned.result.flagged
        unchecked += scanned.unchecked
        where = source_url(account, scanned.folder, scanned.uid)
        if args.json:
            print(as_json(where, scanned.message, scanned.result, scanned.note), flush=True)
        elif scanned.result.flagged or scanned.unchecked:
            print(as_text(where, scanned.message, scanned.result, note=scanned.note) + "\n")

    try:
        with session(account, password) as client:
            outcome = scan_account(client, account, store, on_scanned=show, progress=ProgressBar(), judge=judge,
                                   folders=folders)
            say(outcome.notes)
            if outcome.rejudged:
                print(_("{n} stored message(s) were judged again by this version of KlezGuard.").format(
                    n=outcome.rejudged), file=sys.stderr)
            if args.quarantine:  # every message at the level still in the folders: new ones and earlier ones
                run = quarantining.quarantine_level(quarantining.mover(client, account, store), store, account.key,
                                                    args.quarantine, folders)
                for subject, text in run.failed:
                    print(_("klezguard: not moved: {subject}: {text}").format(subject=subject, text=text),
                          file=sys.stderr)
                say(run.notes)
    finally:
        judge.close()
        store.close()
    moved = len(run.done) if run else 0
    if not args.json:
        print(_("{flagged} flagged, {moved} moved to {folder}.").format(
            flagged=flagged, moved=moved, folder=account.quarantine_folder), file=sys.stderr)
    if unchecked:
        print(_("{n} message(s) could not be checked (listed above, also in the app).").format(n=unchecked),
              file=sys.stderr)
    return 2 if (run and run.failed) or unchecked else 1 if flagged or moved else 0


def say(notes: list[str]) -> None:
    """What a quarantine step found that the user should know, once each, on standard error."""
    for text in dict.fromkeys(notes):
        print(_("klezguard: {text}").format(text=text), file=sys.stderr)


def run_quarantine_list(args) -> int:
    account, password = resolve(args, args.email)
    store = open_store()
    try:
        with session(account, password) as client:
            entries, notes = quarantining.in_quarantine(client, account, store)
            say(notes)
    finally:
        store.close()
    if not entries:
        print(_("The quarantine is empty."))
    for e in entries:
        print(f"{e.target_uid}\t{e.source_folder}\t{e.from_display}\t{e.subject}")
    return 0


def run_quarantine_restore(args) -> int:
    words = list(args.args)
    email = words.pop(0) if words and "@" in words[0] else None
    if not args.all and len(words) != 1:
        raise KnownError(_("Say which message to restore."), _("Give its UID from 'quarantine list', or --all."))
    account, password = resolve(args, email)
    store = open_store()
    try:
        with session(account, password) as client:
            entries, notes = quarantining.in_quarantine(client, account, store)
            say(notes)
            if not args.all:
                entries = [e for e in entries if str(e.target_uid) == words[0]]
                if not entries:
                    raise KnownError(_("No quarantined message has UID {uid}.").format(uid=words[0]),
                                     _("See klezguard quarantine list."))
            run = quarantining.restore(quarantining.mover(client, account, store), store, [e.id for e in entries])
            for entry in run.done:
                print(_("Restored to {folder}: {subject}").format(folder=entry.source_folder, subject=entry.subject))
            for subject, text in run.failed:
                print(_("klezguard: not restored: {subject}: {text}").format(subject=subject, text=text),
                      file=sys.stderr)
            say(run.notes)
    finally:
        store.close()
    return 2 if run.failed else 0


def run_watch(args) -> int:
    account, password = resolve(args, args.email)
    store = open_store()
    stop = threading.Event()
    signed_out = threading.Event()

    def show(event: WatchEvent) -> None:
        if event.kind == "new" and event.scanned and (event.scanned.result.flagged or event.scanned.unchecked):
            scanned = event.scanned
            where = source_url(account, scanned.folder, scanned.uid)
            print(as_text(where, scanned.message, scanned.result, note=scanned.note) + "\n",
                  flush=True)
        elif event.kind in ("error", "sign_in"):
            print(_("klezguard: {text}").format(text=event.text), file=sys.stderr, flush=True)
            if event.kind == "sign_in":  # watching has stopped: sign in again (exit status 2)
                signed_out.set()
        elif event.kind == "connected":
            print(_("Watching {email} ... (Ctrl+C to stop)").format(email=account.email), file=sys.stderr,
                  flush=True)

    try:
        watch_account(lambda: open_client(account, password), account, store, show, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        store.close()
    return 2 if signed_out.is_set() else 0


