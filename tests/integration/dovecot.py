"""A real, throw-away Dovecot IMAP server on 127.0.0.1 for the integration tests.

IMAPS with a self-signed certificate, STARTTLS and plain IMAP, one user. Built from what was found to
work on these machines (mail processes run as nobody when we are root; no pytest tmp_path, whose
0700 folder Dovecot's helpers cannot enter).
"""

import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CONF = """\
instance_name = klezguard-test-{port}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_failure_delay = 0
auth_username_chars =
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={muser} gid={mgroup} home={base}/mail/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
{imaps}
}}
{extra}
"""

USER = "owner@brightwater-bakery.com"
PASSWORD = "correct horse"  # noqa: S105 - a throw-away test account
UNICODE_USER = "bäckerei@brightwater-bakery.com"
UNICODE_PASSWORD = "Grüße-aus-Köln-€"  # noqa: S105 - LOGIN cannot carry it; AUTHENTICATE PLAIN can


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dovecot:
    base: Path
    port: int
    ssl_port: int
    proc: subprocess.Popen
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"

    @property
    def cafile(self) -> str:
        return str(self.base / "cert.pem")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.base / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""


OAUTH2 = """\
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/oauth2.conf.ext
}}
"""
OAUTH2_ARGS = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


def start(tls: bool = True, cert: tuple[bytes, bytes] | None = None, introspection_url: str = "") -> Dovecot:
    """Starts a server. tls=False: no TLS at all (no IMAPS, no STARTTLS). cert: (cert PEM, key PEM)
    to use instead of a fresh self-signed certificate for localhost and 127.0.0.1. introspection_url: also
    accept XOAUTH2 and OAUTHBEARER logins, each token checked there (RFC 7662)."""
    base = Path(tempfile.mkdtemp(prefix="klezguard-dovecot-"))
    base.chmod(0o755)
    for d in ("run", "state", "mail"):
        (base / d).mkdir()
    if cert:
        (base / "cert.pem").write_bytes(cert[0])
        (base / "key.pem").write_bytes(cert[1])
    elif tls:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(base / "key.pem"), "-out", str(base / "cert.pem"), "-days", "3650", "-subj",
             "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True,
        )
    (base / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\nother@example.org:{{PLAIN}}other\n"
                                f"{UNICODE_USER}:{{PLAIN}}{UNICODE_PASSWORD}\n", encoding="utf-8")
    if os.geteuid() == 0:
        muser, mgroup = "nobody", "nogroup"
        shutil.chown(base / "mail", muser, mgroup)
        extra = "default_login_user = dovenull\ndefault_internal_user = dovecot"
    else:
        muser = pwd.getpwuid(os.geteuid()).pw_name
        mgroup = grp.getgrgid(os.getegid()).gr_name
        extra = (f"default_login_user = {muser}\ndefault_internal_user = {muser}\ndefault_internal_group = {mgroup}\n"
                 "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}")
    if introspection_url:
        (base / "oauth2.conf.ext").write_text(OAUTH2_ARGS.format(url=introspection_url))
        extra += "\n" + OAUTH2.format(base=base)
    port, sport = free_port(), free_port()
    conf = base / "dovecot.conf"
    ssl_conf = f"ssl = yes\nssl_cert = <{base}/cert.pem\nssl_key = <{base}/key.pem" if tls else "ssl = no"
    imaps = f"  inet_listener imaps {{\n    port = {sport}\n    ssl = yes\n  }}" if tls else ""
    conf.write_text(CONF.format(base=base, port=port, sport=sport, muser=muser, mgroup=mgroup, extra=extra,
                                ssl=ssl_conf, imaps=imaps))
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Dovecot(base, port, sport, proc)
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            log = server.log()
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError("dovecot exited at start: " + log[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.02)
