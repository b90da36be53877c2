"""`klezguard contacts list|import FILE|forget ADDRESS`: what KlezGuard remembers of your correspondents."""

import datetime
import sys

from klezguard.application import contacts
from klezguard.application.contacts import BookError
from klezguard.i18n import _
from klezguard.mail.accounts import AccountStore
from klezguard.store.db import Store


def add_parser(sub) -> None:
    command = sub.add_parser(
        "contacts",
        help=_("what KlezGuard remembers of your correspondents; import an address book"),
        description=_("KlezGuard remembers whom you write to and how their mail usually arrives, to spot mail "
                      "sent in their name. It stays on this computer."),
    )
    actions = command.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help=_("list the correspondents KlezGuard knows"))
    listing.add_argument("--account", metavar="EMAIL", help=_("the account (when you have several)"))
    listing.set_defaults(run=run_list)
    imports = actions.add_parser("import", help=_("import an address book (vCard, or CSV from Thunderbird, "
                                                  "Outlook or Google Contacts)"))
    imports.add_argument("file", metavar="FILE")
    imports.add_argument("--account", metavar="EMAIL", help=_("the account (when you have several)"))
    imports.set_defaults(run=run_import)
    forget = actions.add_parser("forget", help=_("forget one correspondent, or everything with --all"))
    forget.add_argument("address", nargs="?", metavar="ADDRESS")
    forget.add_argument("--all", action="store_true", help=_("forget every correspondent of the account"))
    forget.add_argument("--account", metavar="EMAIL", help=_("the account (when you have several)"))
    forget.set_defaults(run=run_forget)


def _account(args) -> str:
    return AccountStore().get(args.account).key


def run_list(args) -> int:
    key = _account(args)
    store = Store()
    try:
        known = contacts.contacts(store, key)
    finally:
        store.close()
    if not known:
        print(_("KlezGuard knows no correspondents of {account} yet. A scan reads your Sent folder; you can also "
                "import an address book: klezguard contacts import FILE").format(account=key))
        return 0
    for c in known:
        how = []
        if c.written:
            how.append(_("you wrote {n}x").format(n=c.written))
        if c.received:
            how.append(_("wrote to you {n}x").format(n=c.received))
        if c.in_book:
            how.append(_("in your address book"))
        since = datetime.date.fromtimestamp(c.first).isoformat() if c.first else ""
        names = ", ".join(n for n, _times in c.names.most_common(3))
        print("\t".join((c.address, names, "; ".join(how), since, contacts.usual_path(c))))
    return 0


def run_import(args) -> int:
    key = _account(args)
    store = Store()
    try:
        done = contacts.import_book(store, key, args.file)
    except BookError as exc:
        print(_("klezguard: {text}").format(text=exc), file=sys.stderr)
        return 2
    finally:
        store.close()
    print(_("Imported {n} contacts with {m} addresses into {account}.").format(
        n=done.entries, m=done.addresses, account=key))
    return 0


def run_forget(args) -> int:
    if bool(args.all) == bool(args.address):
        print(_("klezguard: say which address to forget, or --all."), file=sys.stderr)
        return 2
    key = _account(args)
    store = Store()
    try:
        if args.all:
            contacts.forget_all(store, key)
            print(_("KlezGuard forgot every correspondent of {account}.").format(account=key))
            return 0
        if not contacts.forget(store, key, args.address):
            print(_("klezguard: {address} is not among your correspondents (see klezguard contacts list).").format(
                address=args.address), file=sys.stderr)
            return 2
    finally:
        store.close()
    print(_("KlezGuard forgot {address}.").format(address=args.address))
    return 0
