"""`klezguard trust list|remove`: the senders the user said are not a threat, and taking that back."""

import datetime
import sys

from klezguard.application import context as contexts
from klezguard.application import trust
from klezguard.application.rejudge import rejudge_stale
from klezguard.i18n import _
from klezguard.mail.accounts import AccountStore
from klezguard.store.db import Store


def add_parser(sub) -> None:
    command = sub.add_parser("trust", help=_("list trusted senders, or stop trusting one"))
    actions = command.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    actions.add_parser("list", help=_("list the senders you trusted")).set_defaults(run=run_list)
    remove = actions.add_parser("remove", help=_("stop trusting a sender: its mail is judged again"))
    remove.add_argument("address")
    remove.add_argument("domain", nargs="?", help=_("the confirmed domain shown by 'trust list' (all when left out)"))
    remove.set_defaults(run=run_remove)


def run_list(args) -> int:
    store = Store()
    try:
        senders = trust.trusted(store)
    finally:
        store.close()
    if not senders:
        print(_("You have not trusted any sender."))
    for address, domain, when in senders:
        print(f"{address}\t{domain}\t{datetime.date.fromtimestamp(when).isoformat()}")
    return 0


def run_remove(args) -> int:
    store = Store()
    try:
        pairs = [(a, d) for a, d, _when in trust.trusted(store)
                 if a == args.address.lower() and (args.domain is None or d == args.domain.lower())]
        removed = [pair for pair in pairs if trust.untrust(store, *pair)]
        if not removed:
            print(_("klezguard: {address} is not a trusted sender (see klezguard trust list).").format(
                address=args.address), file=sys.stderr)
            return 2
        for account in AccountStore().load():  # its stored mail gets its findings back now, not at the next scan
            rejudge_stale(store, account.key, contexts.for_account(store, account))
    finally:
        store.close()
    print(_("No longer trusted: {address}. Its mail is judged again.").format(address=args.address))
    return 0
