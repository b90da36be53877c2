"""Scanning what used to stop KlezGuard for good, on a throw-away Dovecot on 127.0.0.1:

- a folder of 200,000 messages whose UIDs are above 10^9 (UID SEARCH's answer alone would be a 2 MB
  line): does the first scan complete, how long, how much memory;
- Cancel during that scan: how long until the scan has stopped;
- 60 messages with a 7 MB zip each (the scan used to hold every fetched part of a batch: 2.5 GB):
  peak memory and time, and the size of the store afterwards.

Each scan runs in a process of its own, so that its peak memory is its own.

    .venv/bin/python benchmarks/bench_limits.py [--messages 200000]
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import imapclient  # noqa: E402

from tests.integration import dovecot  # noqa: E402
from tests.mailfactory import build  # noqa: E402

SCAN = r"""
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.connection import connect
from klezguard.application.judge import InProcessJudge
from klezguard.application.scan import Scanner
from klezguard.mail.watchdog import Cancelled
from klezguard.store.db import Store
host, port, user, password, store_path, cancel_after = sys.argv[2:8]
account = Account(user, ServerSettings(host, int(port), "plain", user), allow_plain=True)
client = connect(account.server, password, email=user, allow_plain=True)
cancel = threading.Event()
scanner = Scanner(client, account, Store(store_path), judge=InProcessJudge(), cancel=cancel)
counted = {"n": 0}
def count(s):
    counted["n"] += 1
pressed = None
if float(cancel_after) > 0:
    def press():
        global pressed
        pressed = time.perf_counter()
        cancel.set()
    threading.Timer(float(cancel_after), press).start()
start = time.perf_counter()
outcome = "finished"
try:
    scanner.scan_folder("INBOX", on_scanned=count)
except Cancelled:
    outcome = "cancelled"
end = time.perf_counter()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would count the parent's memory too
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"outcome": outcome, "seconds": end - start, "judged": counted["n"],
                  "stop_after_cancel": (end - pressed) if pressed else None, "peak_mb": peak / 1024}))
"""


def scan(server, store: Path, cancel_after: float = 0) -> dict:
    done = subprocess.run([sys.executable, "-c", SCAN, str(ROOT), server.host, str(server.port), server.user,
                           server.password, str(store), str(cancel_after)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def fill(client: imapclient.IMAPClient, messages: list[bytes], batch: int = 500) -> None:
    for start in range(0, len(messages), batch):
        client.multiappend("INBOX", messages[start : start + batch])


def big_uids(server, at_least: int) -> None:
    conf = server.base / "dovecot.conf"
    subprocess.run(["doveadm", "-c", str(conf), "mailbox", "update", "-u", server.user, "--min-next-uid",
                    str(at_least), "INBOX"], check=True, capture_output=True)


def zip_of(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("photos.jpg", os.urandom(size))
        z.writestr("readme.txt", b"holiday photos")
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"klezguard-bench-limits-{os.getpid()}"
    work.mkdir(parents=True)

    server = dovecot.start(tls=False)
    try:
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        big_uids(server, 1_000_000_000)
        start = time.perf_counter()
        one = [build(subject=f"Note {n}", message_id=f"<n{n}@bench.example>") for n in range(1000)]
        for _ in range(args.messages // 1000):
            fill(client, one)
        exists = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
        first = client._imap.fetch("1", "(UID)")[1][0]  # (a plain UID SEARCH ALL answer is over imaplib's 1 MB)
        last = client._imap.fetch("*", "(UID)")[1][0]
        print(f"folder: {exists} messages, UIDs from {first.decode()} to {last.decode()} "
              f"(filled in {time.perf_counter() - start:.0f} s)")
        client.logout()
        cancelled = scan(server, work / "cancel.sqlite3", cancel_after=5)
        print(f"Cancel pressed 5 s into the first scan: {cancelled['outcome']} "
              f"{cancelled['stop_after_cancel']:.2f} s later, {cancelled['judged']} judged and kept")
        full = scan(server, work / "full.sqlite3")
        print(f"first scan of {args.messages:,} messages: {full['outcome']} in {full['seconds']:.0f} s "
              f"({full['judged']:,} judged), peak memory {full['peak_mb']:.0f} MB")
    finally:
        server.stop()

    server = dovecot.start(tls=False)
    try:
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        archive = zip_of(7_000_000)
        fill(client, [build(subject=f"Photos {n}", attachments=[("photos.zip", "application/zip", archive)])
                      for n in range(60)], batch=10)
        client.logout()
        store = work / "zips.sqlite3"
        result = scan(server, store)
        size = sum(p.stat().st_size for p in work.glob("zips.sqlite3*"))
        print(f"60 messages with a 7 MB zip: {result['outcome']} in {result['seconds']:.1f} s, peak memory "
              f"{result['peak_mb']:.0f} MB, store {size / 1e6:.1f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
