"""Server settings from an address: provider table, autoconfig file, DNS SRV, then a guess.
The network steps run against small servers on 127.0.0.1."""

import http.server
import socket
import threading

import dns.message
import dns.rdatatype
import dns.resolver
import pytest

from klezguard.mail import discovery

AUTOCONFIG = b"""<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.org">
  <incomingServer type="pop3"><hostname>pop.example.org</hostname><port>995</port>
    <socketType>SSL</socketType></incomingServer>
  <incomingServer type="imap"><hostname>imap-plain.example.org</hostname><port>143</port>
    <socketType>plain</socketType></incomingServer>
  <incomingServer type="imap"><hostname>mail.%EMAILDOMAIN%</hostname><port>143</port>
    <socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username></incomingServer>
</emailProvider></clientConfig>"""


def test_provider_table():
    found = discovery.from_table("Someone@GMAIL.com")
    assert found.settings.host == "imap.gmail.com" and found.settings.port == 993
    assert found.settings.security == "ssl" and found.source == "provider table"
    assert discovery.from_table("a@bakery.example") is None


def test_autoconfig_prefers_encryption_and_fills_placeholders():
    settings = discovery.parse_autoconfig(AUTOCONFIG, "maya@example.org")
    assert (settings.host, settings.port, settings.security, settings.user) == (
        "mail.example.org", 143, "starttls", "maya")


def test_hostile_or_broken_autoconfig_is_ignored():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    assert discovery.parse_autoconfig(bomb, "a@b.example") is None
    assert discovery.parse_autoconfig(b"not xml", "a@b.example") is None


@pytest.fixture
def autoconfig_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            if self.path.startswith("/mail/config-v1.1.xml"):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(AUTOCONFIG)
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_autoconfig_over_http(autoconfig_server):
    base = f"http://127.0.0.1:{autoconfig_server}"
    urls = (f"{base}/missing", f"{base}/mail/config-v1.1.xml")
    found = discovery.from_autoconfig("maya@example.org", urls=urls, timeout=2)
    assert found.source == "autoconfig" and found.settings.host == "mail.example.org"


def test_autoconfig_that_does_not_answer_gives_up_quickly():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/x"
    assert discovery.from_autoconfig("maya@example.org", urls=(url,), timeout=0.3) is None
    silent.close()


@pytest.fixture
def dns_server():
    """A DNS server on 127.0.0.1 that knows one SRV record (RFC 6186)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            if question.rdtype == dns.rdatatype.SRV and str(question.name) == "_imaps._tcp.bakery.example.":
                response.answer.append(dns.rrset.from_text(question.name, 300, "IN", "SRV",
                                                           "0 1 993 imap.mailhost.example."))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = sock.getsockname()[1]
    yield resolver
    stop.set()
    thread.join()
    sock.close()


def test_srv_record(dns_server):
    found = discovery.from_srv("maya@bakery.example", resolver=dns_server, timeout=2)
    assert found.source == "DNS SRV"
    assert (found.settings.host, found.settings.port, found.settings.security) == ("imap.mailhost.example", 993, "ssl")
    assert discovery.from_srv("maya@nothing.example", resolver=dns_server, timeout=2) is None


def test_discover_falls_back_to_a_guess():
    found = discovery.discover("maya@bakery.example", steps=[discovery.from_table, lambda e: None])
    assert found.source == "guess" and found.settings.host == "imap.bakery.example"
