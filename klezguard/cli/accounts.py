"""`klezguard account add|list|remove`: accounts for scripts and support (the desktop app has a wizard)."""

import getpass
import os
import sys

from klezguard.application import accounts
from klezguard.errors import KnownError
from klezguard.i18n import _
from klezguard.mail import credentials
from klezguard.mail.accounts import DEFAULT_PORTS, Account, AccountStore, Security, ServerSettings
from klezguard.settings import Settings
from klezguard.store.db import Store


def add_server_options(parser, email_required: bool = False) -> None:
    parser.add_argument("--host", help=_("IMAP server name (found automatically when left out)"))
    parser.add_argument("--port", type=int, help=_("IMAP port (993 for TLS, 143 for STARTTLS)"))
    parser.add_argument("--security", choices=("ssl", "starttls", "plain"),
                        help=_("ssl (TLS, the default), starttls, or plain (unencrypted: only if you must)"))
    parser.add_argument("--user", help=_("login name, if it is not the e-mail address"))
    parser.add_argument("--cafile", help=_("extra CA certificate file to trust"))
    parser.add_argument("--auth", choices=("password", "oauth2"),
                        help=_("password, or oauth2: sign in with the mail provider (Microsoft 365, Google); "
                               "for scripts, a ready access token in KLEZGUARD_ACCESS_TOKEN"))


def add_parser(sub) -> None:
    account = sub.add_parser("account", help=_("add, list or remove mail accounts"))
    commands = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help=_("add an account (asks for the password, tests the login)"))
    add.add_argument("email")
    add_server_options(add)
    add.add_argument("--trusted-authserv", action="append", default=[], metavar="ID",
                     help=_("authserv-id of your provider's Authentication-Results headers"))
    add.add_argument("--device", action="store_true",
                     help=_("with --auth oauth2: sign in with a code typed on another device (no browser here)"))
    add.set_defaults(run=run_add)
    listing = commands.add_parser("list", help=_("list the accounts"))
    listing.set_defaults(run=run_list)
    remove = commands.add_parser("remove", help=_("remove an account and its saved password"))
    remove.add_argument("email")
    remove.set_defaults(run=run_remove)


def read_password(prompt: str) -> str:
    """KLEZGUARD_PASSWORD, else a prompt on a terminal, else one line of standard input."""
    password = credentials.password_from_env()
    if password:
        return password
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise KnownError(_("No password was given."),
                         _("Type it when asked, pipe it on standard input, or set KLEZGUARD_PASSWORD."))
    return line.rstrip("\r\n")


def settings_from_args(args, email: str) -> tuple[ServerSettings, str]:
    """Settings typed on the command line, or found from the address."""
    if args.host:
        security: Security = args.security or "ssl"
        port = args.port or DEFAULT_PORTS[security]
        return ServerSettings(args.host, port, security, user=args.user or "", cafile=args.cafile), "given"
    found = accounts.discover(email)
    settings = found.settings
    if args.security:
        settings.security = args.security
        settings.port = DEFAULT_PORTS[args.security]
    if args.port:
        settings.port = args.port
    if args.user:
        settings.user = args.user
    settings.cafile = args.cafile
    return settings, found.source


def run_add(args) -> int:
    email = args.email.strip()
    if "@" not in email:
        raise KnownError(_("{email} is not an e-mail address.").format(email=email))
    settings, source = settings_from_args(args, email)
    print(_("Server: {server} (from {source})").format(server=settings.describe(), source=source), file=sys.stderr)
    account = Account(email, settings, allow_plain=settings.security == "plain",
                      trusted_authserv=args.trusted_authserv, auth=args.auth or "password")
    password: str | accounts.TokenSource
    if account.auth == "oauth2" and os.environ.get("KLEZGUARD_ACCESS_TOKEN"):
        password = accounts.signed_in(account)  # a script's ready token
    elif account.auth == "oauth2":
        password = accounts.sign_in(email, settings.host, device=args.device, show_code=_show_code,
                                    open_url=_open_browser)
    else:
        password = read_password(_("Password for {email}: ").format(email=email))
    store = Store()
    try:  # the folders and quarantine folder chosen in the app's Settings apply here too
        saved = accounts.add_account(account, password, store, settings=Settings())
    finally:
        store.close()
    if account.auth == "oauth2":
        print(_("Added {email}. Signing in with your mail provider works.").format(email=email))
        if not saved.password_saved:
            print(_("Scans need a token again next time ({text}).").format(text=saved.problem), file=sys.stderr)
        return 0
    if not saved.password_saved:
        print(_("Account saved, but not its password: {text}").format(text=saved.problem), file=sys.stderr)
        return 2
    print(_("Added {email}. The login works and the password is in your system keyring.").format(email=email))
    return 0


def _show_code(code: accounts.DeviceCode) -> None:
    print(_("To sign in, open {url} on any device and enter the code {code}. Waiting...").format(
        url=code.verification_uri, code=code.user_code), file=sys.stderr, flush=True)


def _open_browser(url: str) -> None:
    import webbrowser

    print(_("Signing in in your browser. If no window opens, open this address:\n{url}").format(url=url),
          file=sys.stderr, flush=True)
    webbrowser.open(url)


def run_list(args) -> int:
    saved = AccountStore().load()
    if not saved:
        print(_("No accounts yet. Add one with: klezguard account add EMAIL"))
    for account in saved:
        print(f"{account.email}\t{account.server.describe()}\t{', '.join(account.folders)}")
    return 0


def run_remove(args) -> int:
    account = AccountStore().get(args.email)
    store = Store()
    try:
        problem = accounts.remove_account(account.key, store, revoke_wait=accounts.REVOKE_WAIT)
    finally:
        store.close()
    if problem:
        print(_("Removed {email}, but not its saved password: {text}").format(email=account.email, text=problem),
              file=sys.stderr)
        return 2
    print(_("Removed {email}, its saved password and what KlezGuard stored about its mail.").format(
        email=account.email))
    return 0
