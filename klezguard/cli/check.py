"""`klezguard check`: judges local mail files (.eml, folders, mbox, Maildir)."""

import argparse
import sys

from klezguard.application import wave
from klezguard.application.check import check_files, files_context, is_notice
from klezguard.application.contacts import BookError
from klezguard.core.sources import SourceError
from klezguard.i18n import _
from klezguard.report import as_json, as_text, summary


def add_parser(sub) -> None:
    check = sub.add_parser(
        "check",
        help=_("check mail files (.eml, folders, mbox, Maildir)"),
        description=_(
            "Checks local mail. Exit status: 0 all clean, 1 something was flagged, 2 a path could not be read."
        ),
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help=_(".eml file, folder, mbox file or Maildir"))
    check.add_argument("--json", action="store_true", help=_("print one JSON object per message"))
    check.add_argument(
        "--sent", action="append", default=[], metavar="PATH", help=_("mail you sent (to tell real bounces apart)")
    )
    check.add_argument(
        "--own-domain", action="append", default=[], metavar="DOMAIN", help=_("a domain that is yours")
    )
    check.add_argument(
        "--trusted-authserv",
        action="append",
        default=[],
        metavar="ID",
        help=_(
            "authserv-id of your provider's Authentication-Results headers (the first word of the header, "
            "e.g. mx.example.net). Without it, KlezGuard trusts only the Authentication-Results and spam "
            "verdicts that the server named in the topmost Received line added above the line where the "
            "message entered that provider; anything lower came with the message and may be forged"
        ),
    )
    known = check.add_argument_group(
        _("your correspondents"),
        _("With an address book and the mail you received before, check knows whom you deal with and how their "
          "mail usually arrives, as a scan of your account does: a known name on a stranger's address, or a "
          "known address on mail that did not come the usual way, is flagged."),
    )
    known.add_argument("--contacts", action="append", default=[], metavar="FILE",
                       help=_("an address book: vCard, or CSV from Thunderbird, Outlook or Google Contacts"))
    known.add_argument("--history", action="append", default=[], metavar="PATH",
                       help=_("mail you received before (judged first; only clean mail teaches)"))
    check.add_argument_group(_("bounces and complaints")).description = _(
        "Whether a bounce, virus warning or complaint is about mail you really sent can only be told with "
        "your sent mail (--sent). Without it they are not judged, and check says so once."
    )
    check.set_defaults(run=run_check)


def _report_error(error: SourceError) -> None:
    message = _("klezguard: cannot read {path}: {reason}").format(path=error.path, reason=error.reason)
    print(message, file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    errors: list[SourceError] = []
    try:
        ctx = files_context(args.sent, args.own_domain, args.trusted_authserv, errors, args.contacts, args.history)
    except BookError as exc:
        print(_("klezguard: {text}").format(text=exc), file=sys.stderr)
        return 2
    counts = {"clean": 0, "suspicious": 0, "threat": 0}
    notices = 0  # bounces and the like, which cannot be judged without the sent mail
    backscatter = 0  # bounces and complaints for mail the user never sent
    out = sys.stdout
    for error in errors:
        _report_error(error)
    for item in check_files(args.paths, ctx):
        if isinstance(item, SourceError):
            errors.append(item)
            _report_error(item)
            continue
        source, msg, result = item
        counts[result.verdict] += 1
        backscatter += result.verdict != "clean" and any(f.category == "backscatter" and f.score > 0
                                                         for f in result.findings)
        notices += not ctx.knows_sent and is_notice(msg)
        if args.json:
            out.write(as_json(source, msg, result) + "\n")
        else:
            out.write(as_text(source, msg, result) + "\n\n")
    if not args.json:
        out.write(summary(counts, len(errors)) + "\n")
    if notices:
        print(_("klezguard: {n} of them are bounces or replies to mail. Whether they are backscatter (replies to "
                "mail you never sent) can only be told with your sent mail: add --sent PATH.").format(n=notices),
              file=sys.stderr)
    if ctx.knows_sent and backscatter >= wave.MIN_MESSAGES:  # said once, not per bounce (as the app does)
        print(_("klezguard: {n} of them are bounces or complaints about mail you never sent. Someone is sending "
                "mail in your name; your computer is probably not infected. What helps is protecting your domain: "
                "see 'klezguard domain'.").format(n=backscatter), file=sys.stderr)
    if errors:
        return 2
    return 1 if counts["suspicious"] or counts["threat"] else 0
