"""The command line over the same core as the desktop app, for scripts and for support."""

import argparse
import logging
import os
import sys
import traceback

from klezguard import __version__
from klezguard.cli.terminal import safe_output
from klezguard.errors import KnownError
from klezguard.i18n import _
from klezguard.logs import SafeFormatter


def build_parser() -> argparse.ArgumentParser:
    from klezguard.cli import accounts, check, contacts, domain, mailbox, trust

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
    trust.add_parser(sub)
    domain.add_parser(sub)
    contacts.add_parser(sub)
    return parser


GUI_FLAGS = ("--demo", "--tray")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in GUI_FLAGS or (argv[0] == "--debug" and all(a in GUI_FLAGS for a in argv[1:])):
        return run_gui(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        return run_gui(argv)
    with safe_output():
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, handlers=[handler])
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
        except Exception:  # noqa: BLE001 - a bug: its report goes through the safe output, with what to do
            print(_("klezguard: something unexpected went wrong (a bug). Nothing was deleted. Please send the "
                    "lines below to whoever helps you with IT."), file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return 2


# What Qt's X11 (xcb) platform plugin loads, and the Debian/Ubuntu package of each: without one, Qt aborts
# with "could not load the Qt platform plugin" and no word on what to install
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xkbcommon-x11": "libxkbcommon-x11-0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-image": "libxcb-image0", "xcb-keysyms": "libxcb-keysyms1", "xcb-randr": "libxcb-randr0",
                 "xcb-render-util": "libxcb-render-util0", "xcb-shape": "libxcb-shape0", "xcb-xkb": "libxcb-xkb1",
                 "EGL": "libegl1", "fontconfig": "libfontconfig1", "GL": "libgl1"}


def missing_x11_packages(find=None) -> list[str]:
    """The packages whose libraries Qt's X11 plugin needs and this system lacks (only where X11 is used)."""
    import ctypes.util

    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY") or (platform and platform != "xcb"):
        return []
    if os.environ.get("WAYLAND_DISPLAY") and not platform:
        return []
    find = find or ctypes.util.find_library
    return [package for library, package in XCB_LIBRARIES.items() if not find(library)]


def _no_display() -> bool:
    return (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"))


def run_gui(argv: list[str]) -> int:
    """No command: the desktop app. Imported only here, so the command line never needs Qt."""
    if _no_display():
        print(_("klezguard: no graphical display here (DISPLAY is not set), so the window cannot open."),
              file=sys.stderr)
        if "--demo" in argv:
            from klezguard.application.service import demo_source

            demo = demo_source()
            print(_("Here is the demo mailbox as a text report instead:\n"), file=sys.stderr)
            args = [*demo.inbox]
            for path in demo.sent:
                args += ["--sent", path]
            for domain in demo.own_domains:
                args += ["--own-domain", domain]
            for authserv in demo.trusted_authserv:
                args += ["--trusted-authserv", authserv]
            code = main(["check", *args])
            return 0 if code == 1 else code
        print(_("On a desktop, run klezguard again there. Commands work anywhere: klezguard --help"),
              file=sys.stderr)
        return 2
    missing = missing_x11_packages()
    if missing:
        print(_("klezguard: the desktop app needs these system packages: {p} (on Debian or Ubuntu: sudo apt install "
                "{p}). The commands work without them: klezguard --help").format(p=" ".join(missing)),
              file=sys.stderr)
        return 2
    try:
        from klezguard.gui.app import main as gui_main
    except ImportError as exc:
        print(_("klezguard: the desktop app needs PySide6 ({error}). The commands still work: klezguard --help")
              .format(error=exc), file=sys.stderr)
        return 2
    return gui_main(argv)
