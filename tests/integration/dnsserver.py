"""A real DNS server (dnsmasq) on 127.0.0.1 serving the test zones of the domain check, plus a slow relay in
front of it, a black hole that never answers and a port where nothing listens.

Each zone stands for one case a small business meets: no SPF, SPF over the look-up limit, `+all`, DMARC
`p=none`, `p=reject` with strict alignment (Microsoft 365, fully set up), a Google Workspace domain, broken
records, a domain with no MX, a sub-domain covered by its parent's DMARC. Names outside `.test` that the
zones include (spf.protection.outlook.com, _spf.google.com) are served here too, so no test reaches out.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

KEY = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt"
_TOO_MANY = [f"n{i}.toomany.test" for i in range(1, 12)]

ZONES = [
    # no SPF, no DMARC: anyone can send as this domain
    "mx-host=nospf.test,mx.nospf.test,10",
    "host-record=mx.nospf.test,192.0.2.10",
    'txt-record=mail2026._domainkey.nospf.test,"v=DKIM1; k=rsa; p=' + KEY + '"',  # a name only its mail shows
    # SPF with 11 includes: more than 10 look-ups, so receivers treat SPF as broken
    "mx-host=toomany.test,mx.toomany.test,10",
    "host-record=mx.toomany.test,192.0.2.11",
    'txt-record=toomany.test,"v=spf1 ' + " ".join(f"include:{n}" for n in _TOO_MANY) + ' -all"',
    *[f'txt-record={n},"v=spf1 ip4:192.0.2.{i} -all"' for i, n in enumerate(_TOO_MANY, 1)],
    'txt-record=_dmarc.toomany.test,"v=DMARC1; p=reject; rua=mailto:dmarc@toomany.test"',
    # +all: every server in the world may send as this domain
    "mx-host=plusall.test,mx.plusall.test,10",
    "host-record=mx.plusall.test,192.0.2.12",
    'txt-record=plusall.test,"v=spf1 +all"',
    'txt-record=_dmarc.plusall.test,"v=DMARC1; p=reject"',
    # DMARC p=none: reports only, fakes are still delivered
    "mx-host=pnone.test,mx00.ionos.de,10",
    "host-record=mx00.ionos.de,192.0.2.13",
    'txt-record=pnone.test,"v=spf1 include:_spf-eu.ionos.com ~all"',
    'txt-record=_spf-eu.ionos.com,"v=spf1 ip4:192.0.2.0/24 -all"',
    'txt-record=_dmarc.pnone.test,"v=DMARC1; p=none; rua=mailto:reports@pnone.test"',
    'txt-record=s1-ionos._domainkey.pnone.test,"v=DKIM1; k=rsa; p=' + KEY + '"',
    # Microsoft 365, done right: SPF -all, DMARC p=reject with strict alignment, both DKIM keys
    "mx-host=reject.test,reject-test.mail.protection.outlook.com,0",
    "host-record=reject-test.mail.protection.outlook.com,192.0.2.14",
    'txt-record=reject.test,"v=spf1 include:spf.protection.outlook.com -all"',
    'txt-record=spf.protection.outlook.com,"v=spf1 ip4:40.92.0.0/15 ip4:52.100.0.0/14 -all"',
    'txt-record=_dmarc.reject.test,"v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:dmarc@reject.test"',
    'txt-record=selector1._domainkey.reject.test,"v=DKIM1; k=rsa; p=' + KEY + '"',
    'txt-record=selector2._domainkey.reject.test,"v=DKIM1; k=rsa; p=' + KEY + '"',
    "host-record=shop.reject.test,192.0.2.15",  # a sub-domain: covered by reject.test's DMARC
    # Google Workspace with quarantine
    "mx-host=gsuite.test,aspmx.l.google.com,1",
    "host-record=aspmx.l.google.com,192.0.2.16",
    'txt-record=gsuite.test,"v=spf1 include:_spf.google.com ~all"',
    'txt-record=_spf.google.com,"v=spf1 ip4:35.190.247.0/24 -all"',
    'txt-record=_dmarc.gsuite.test,"v=DMARC1; p=quarantine; rua=mailto:dmarc@gsuite.test"',
    'txt-record=google._domainkey.gsuite.test,"v=DKIM1; k=rsa; p=' + KEY + '"',
    # SPF handed over with redirect= (as Strato and others publish it): the target's -all applies
    "mx-host=redirect.test,smtpin.rzone.de,5",
    "host-record=smtpin.rzone.de,192.0.2.20",
    'txt-record=redirect.test,"v=spf1 redirect=smtp.rzone.de"',
    'txt-record=smtp.rzone.de,"v=spf1 ip4:81.169.146.0/23 a:mo.rzone.de -all"',
    "host-record=mo.rzone.de,192.0.2.21",
    'txt-record=_dmarc.redirect.test,"v=DMARC1; p=quarantine; pct=50; rua=mailto:d@redirect.test"',
    # SPF includes a name whose own server never answers (hole.test is sent to a black hole): no verdict
    "mx-host=partial.test,mx.partial.test,10",
    "host-record=mx.partial.test,192.0.2.22",
    'txt-record=partial.test,"v=spf1 include:spf.hole.test -all"',
    'txt-record=_dmarc.partial.test,"v=DMARC1; p=reject"',
    # broken records: receivers ignore them
    "mx-host=broken.test,mx.broken.test,10",
    "host-record=mx.broken.test,192.0.2.17",
    'txt-record=broken.test,"v=spf1 ip4:192.0.2.300 incldue:mail.broken.test -all"',
    'txt-record=_dmarc.broken.test,"v=DMARC1; p=rejct; rua=dmarc@broken.test"',
    # no MX: the domain takes no mail (a web site's name, say), and has no records against fakes either
    "host-record=nomx.test,192.0.2.18",
    # a strict, parked domain: no MX, but SPF -all and DMARC reject lock it
    "host-record=parked.test,192.0.2.19",
    'txt-record=parked.test,"v=spf1 -all"',
    'txt-record=_dmarc.parked.test,"v=DMARC1; p=reject"',
]


def free_port() -> int:
    """A port free for both UDP and TCP (dnsmasq listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


@dataclass
class DnsServer:
    port: int
    process: subprocess.Popen
    base: Path
    extras: list = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for extra in self.extras:
            extra.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> DnsServer:
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    base = Path(tempfile.mkdtemp(prefix="klezguard-dns-"))
    os.chmod(base, 0o755)  # dnsmasq drops to nobody when started as root
    last = ""
    hole = BlackHole()  # where dnsmasq sends questions about hole.test: they are never answered
    for _ in range(5):
        port = free_port()
        conf = base / "dnsmasq.conf"
        conf.write_text("\n".join([
            f"port={port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts",
            "no-poll", "log-facility=-", "pid-file=", "user=" + ("nobody" if os.getuid() == 0 else ""),
            "local=/test/", "local=/outlook.com/", "local=/google.com/", "local=/ionos.com/", "local=/ionos.de/",
            "local=/rzone.de/", f"server=/hole.test/127.0.0.1#{hole.port}",
            *ZONES]).replace("\nuser=\n", "\n") + "\n")
        log = base / "dnsmasq.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([dnsmasq, "--keep-in-foreground", f"--conf-file={conf}"],  # noqa: S603
                                       stdout=subprocess.DEVNULL, stderr=out)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(port):
                return DnsServer(port, process, base, [hole])
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
        last = log.read_text(errors="replace")
    hole.stop()
    raise RuntimeError(f"dnsmasq did not start: {last}")


def _answers(port: int) -> bool:
    import dns.message
    import dns.query

    try:
        dns.query.udp(dns.message.make_query("nospf.test", "MX"), "127.0.0.1", port=port, timeout=0.2)
    except Exception:  # noqa: BLE001 - not up yet
        return False
    return True


class SlowRelay:
    """A UDP relay that passes each question to the real server and holds the answer back `delay` seconds:
    a slow provider's DNS, or (with a delay past the resolver's lifetime) one that never gets back."""

    def __init__(self, upstream_port: int, delay: float):
        self.delay = delay
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                data, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(data, client), daemon=True).start()

    def _relay(self, data: bytes, client) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2)
            try:
                up.sendto(data, self.upstream)
                answer, _ = up.recvfrom(4096)
            except OSError:
                return
        if self.stopping.wait(self.delay):
            return
        try:
            self.sock.sendto(answer, client)
        except OSError:
            pass

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()
        self.thread.join(2)


class BlackHole:
    """A bound UDP port that reads every question and never answers: a dead server. With `servfail`, it
    answers every question with SERVFAIL instead: a provider's broken name server."""

    def __init__(self, servfail: bool = False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        if servfail:
            self.sock.settimeout(0.2)
            self.thread = threading.Thread(target=self._servfail, daemon=True)
            self.thread.start()

    def _servfail(self) -> None:
        import dns.message
        import dns.rcode

        while True:
            try:
                data, client = self.sock.recvfrom(4096)
                reply = dns.message.make_response(dns.message.from_wire(data))
                reply.set_rcode(dns.rcode.SERVFAIL)
                self.sock.sendto(reply.to_wire(), client)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed: the test is over
                return

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.sock.close()
