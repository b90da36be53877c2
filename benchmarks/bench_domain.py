"""Seconds for one domain's check (`klezguard domain`) against a local DNS server: dnsmasq on 127.0.0.1
serving the test zones (tests/integration/dnsserver.py). Target: under 2 s per domain.

Each round is the whole use case as the command and the app run it: a fresh resolver, MX, SPF with its
includes followed and counted, DMARC (with the organisational-domain fall-back), the provider's DKIM keys,
and the verdict with its steps. Also shown: the first check of the process, which pays for importing the
parsers (checkdmarc), and a check through a relay that holds every answer back 20 ms, as a real resolver
on a slow line would.

    .venv/bin/python benchmarks/bench_domain.py [ROUNDS]   (needs dnsmasq: apt-get install dnsmasq-base)
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from klezguard.application.domain import check_domain  # noqa: E402
from tests.integration import dnsserver  # noqa: E402

DOMAINS = ["reject.test", "gsuite.test", "pnone.test", "toomany.test", "nospf.test", "shop.reject.test"]
TARGET = 2.0


def timed(domain: str, nameserver: str) -> tuple[float, str]:
    started = time.perf_counter()
    verdict = check_domain(domain, nameserver)
    return time.perf_counter() - started, verdict.outcome


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    server = dnsserver.start()
    relay = dnsserver.SlowRelay(server.port, delay=0.02)
    try:
        first, outcome = timed("reject.test", server.address)
        print(f"first check (imports the parsers): {first:.3f} s ({outcome})")
        worst = 0.0
        for domain in DOMAINS:
            times = []
            for _ in range(rounds):
                seconds, outcome = timed(domain, server.address)
                times.append(seconds)
            worst = max(worst, max(times))
            print(f"{domain:18} {outcome:10} median {statistics.median(times) * 1000:7.1f} ms   "
                  f"max {max(times) * 1000:7.1f} ms   ({rounds} rounds)")
        slow, outcome = timed("reject.test", relay.address)
        print(f"reject.test via a relay holding each answer 20 ms: {slow:.3f} s ({outcome})")
        print(f"slowest check: {max(worst, first):.3f} s; target under {TARGET:.0f} s: "
              f"{'met' if max(worst, first, slow) < TARGET else 'NOT met'}")
    finally:
        relay.stop()
        server.stop()


if __name__ == "__main__":
    main()
