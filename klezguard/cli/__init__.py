"""The command line over the same core as the desktop app, for scripts and for support."""

import argparse
import logging
import sys

from klezguard import __version__
from klezguard.errors import KnownError
from klezguard.i18n import _


def build_parser() -> argparse.ArgumentParser:
    from klezguard.cli import accounts, check, mailbox

    parser = argparse.ArgumentParser(
        prog="klezguard",
        description=_("Spots spoofed senders, disguised attachments and backscatter in your mail."),
    )
    parser.add_argument("--version", action="version", version=f"klezguard {__version__}")
    parser.add_argument("--debug", action="store_true", help=_("print debug logs (never passwords)"))
    parser.epilog = _("Without a command, the desktop app opens (--demo: on the bundled demo mailbox; "
                      "--tray: hidden in the tray).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check.add_parser(sub)
    accounts.add_parser(sub)
    mailbox.add_parsers(sub)
    return parser


GUI_FLAGS = ("--demo", "--tray")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in GUI_FLAGS or (argv[0] == "--debug" and all(a in GUI_FLAGS for a in argv[1:])):
        return run_gui(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "run"):
        return run_gui(argv)
    try:
        return args.run(args)
    except KnownError as exc:
        print(_("klezguard: {text}").format(text=exc.text()), file=sys.stderr)
        if args.debug and exc.detail:
            print(f"  ({exc.detail})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("klezguard: stopped."), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run_gui(argv: list[str]) -> int:
    """No command: the desktop app. Imported only here, so the command line never needs Qt."""
    try:
        from klezguard.gui.app import main as gui_main
    except ImportError as exc:
        print(_("klezguard: the desktop app needs PySide6 ({error}). The commands still work: klezguard --help")
              .format(error=exc), file=sys.stderr)
        return 2
    return gui_main(argv)
