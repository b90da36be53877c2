"""`klezguard domain DOMAIN`: can someone send mail in this domain's name, and what to do about it."""

import argparse
import json
import sys

from klezguard.application.domain import FREEMAIL, PROTECTED, UNCHECKED, WEAK, Verdict, check_domain, own_domains
from klezguard.core.visible import visible
from klezguard.i18n import _

EXIT_CODES = {PROTECTED: 0, FREEMAIL: 0, WEAK: 1, UNCHECKED: 2}


def add_parser(sub) -> None:
    command = sub.add_parser(
        "domain",
        help=_("check whether others can send mail in your domain's name (SPF, DKIM, DMARC)"),
        description=_("Reads the domain's SPF, DMARC, MX and DKIM records and says what to fix. Exit status: "
                      "0 protected (or a free-mail domain, which is not yours to fix), 1 weak, "
                      "2 could not be checked."),
    )
    command.add_argument("domain", metavar="DOMAIN", nargs="?",
                         help=_("your domain, e.g. weber-bau.de, or your address (left out: the domains of your "
                                "accounts)"))
    command.add_argument("--json", action="store_true", help=_("print the result as one JSON object"))
    command.add_argument("--nameserver", metavar="IP[:PORT]", help=_("ask this DNS server instead of the system's"))
    command.add_argument("--selector", action="append", default=[], metavar="NAME",
                         help=_("a DKIM selector to look for too (the s= of your mail's DKIM-Signature)"))
    command.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                         help=_("how long to wait for one DNS answer (default 2)"))
    command.set_defaults(run=run_domain)


def as_text(verdict: Verdict) -> str:
    lines = [visible(verdict.headline)]
    lines += [f"  ! {visible(p)}" for p in verdict.problems]
    lines += [f"  - {visible(n)}" for n in verdict.notes]
    if verdict.steps:
        lines.append(_("What to do:"))
        number = 0
        for step in verdict.steps:
            if step.text:
                number += 1
                lines.append(f"  {number}. {visible(step.text)}")
            if step.record:
                lines.append(f"       {visible(step.where)}  TXT  {visible(step.record)}")
    return "\n".join(lines)


def run_domain(args: argparse.Namespace) -> int:
    """One domain, or each of the accounts' domains; the exit status is the worst of them."""
    targets = [(args.domain, "")] if args.domain else own_domains()
    if not targets:
        print(_("klezguard: name a domain (klezguard domain example.com), or add an account first."), file=sys.stderr)
        return 2
    codes: list[int] = []
    for domain, address in targets:
        if len(targets) > 1 and not args.json and codes:
            print()
        try:
            verdict = check_domain(domain, args.nameserver, args.selector, report_to=address, timeout=args.timeout,
                                   lifetime=max(args.timeout * 2, args.timeout + 0.5))
        except ValueError as exc:
            print(_("klezguard: --nameserver takes an IP address and an optional port, like 192.0.2.53 or "
                    "192.0.2.53:5353 ({error}).").format(error=exc), file=sys.stderr)
            return 2
        codes.append(_report(verdict, args))
    return max(codes)


def _report(verdict: Verdict, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print(as_text(verdict))
    if verdict.outcome == UNCHECKED:
        print(_("klezguard: could not check {domain}: {why}").format(
            domain=visible(verdict.domain), why=visible(verdict.problems[0] if verdict.problems else "")),
            file=sys.stderr)
        if args.debug and verdict.detail:
            print(f"  ({visible(verdict.detail)})", file=sys.stderr)
    return EXIT_CODES.get(verdict.outcome, 2)
