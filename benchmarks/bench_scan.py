"""Scanning a 10,000-message Inbox on a local Dovecot, built from the corpus with attachments.

Prints, all measured in the same run:
- first scan time vs a bare imapclient FETCH of the header blocks and BODYSTRUCTUREs (target <= 1.5x);
- a rescan with nothing new (target < 0.5 s);
- bytes downloaded vs the mailbox size (target <= 10% when attachments make up most of it);
- time from APPEND to the finding of a new message while watching (target <= 2 s; Dovecot waits 0.5 s);
- peak memory of the scanning process (target < 250 MB).

    .venv/bin/python benchmarks/bench_scan.py [--messages 10000]
"""

import argparse
import email.policy
import json
import math
import os
import queue
import random
import resource
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import imapclient  # noqa: E402

from tests.integration import dovecot  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_messages() -> list[bytes]:
    source = CORPUS if CORPUS.is_dir() else ROOT / "klezguard" / "resources" / "demo"
    return [p.read_bytes() for p in sorted(source.rglob("*.eml")) if "/sent/" not in str(p)]


def with_attachment(raw: bytes, rng: random.Random, n: int) -> bytes:
    """The message with a document added: a PDF or a photo of 50 KB to 2 MB (log-uniform, median ~320 KB)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        return raw
    size = int(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))))
    if rng.random() < 0.5:
        data, maintype, subtype, name = b"%PDF-1.5\n" + rng.randbytes(size), "application", "pdf", f"doc-{n}.pdf"
    else:
        data, maintype, subtype, name = b"\xff\xd8\xff\xe0\x00\x10JFIF" + rng.randbytes(size), "image", "jpeg", \
            f"photo-{n}.jpg"
    try:
        if msg.get_content_maintype() != "multipart":
            msg.make_mixed()
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg.as_bytes()
    except Exception:  # noqa: BLE001 - some corpus messages are deliberately malformed; keep them as they are
        return raw


def build_mailbox(client: imapclient.IMAPClient, count: int) -> int:
    rng = random.Random(20261129)
    base = corpus_messages()
    total = attached = 0
    batch: list[bytes] = []
    for n in range(count):
        raw = base[n % len(base)]
        if rng.random() < 0.35:
            plain = len(raw)
            raw = with_attachment(raw, rng, n)
            attached += len(raw) - plain
        batch.append(raw)
        total += len(raw)
        if len(batch) == 250:
            client.multiappend("INBOX", batch)
            batch = []
    if batch:
        client.multiappend("INBOX", batch)
    return total, attached


def bare_fetch(server) -> float:
    client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
    client.login(server.user, server.password)
    client.select_folder("INBOX", readonly=True)
    start = time.perf_counter()
    uids = client.search("ALL")
    for i in range(0, len(uids), 500):
        client.fetch(uids[i : i + 500], ["BODY.PEEK[HEADER]", "BODYSTRUCTURE"])
    elapsed = time.perf_counter() - start
    client.logout()
    return elapsed


SCAN_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import imapclient
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.application.judge import InProcessJudge, ProcessJudge
from klezguard.application.scan import Scanner
from klezguard.store.db import Store
host, port, user, password, store_path, mode = sys.argv[2:8]
judge = ProcessJudge() if mode == "process" else InProcessJudge()
if mode == "process":
    judge.submit([], None).result()  # the helper process is up and has loaded the rules, as in the app
client = imapclient.IMAPClient(host, port=int(port), ssl=False)
client.login(user, password)
account = Account(user, ServerSettings(host, int(port), "plain", user), allow_plain=True)
scanner = Scanner(client, account, Store(store_path), judge=judge)
verdicts = {}
def count(s):  # as the app does: take each judged message as it comes, keep no list of them all
    verdicts[s.result.verdict] = verdicts.get(s.result.verdict, 0) + 1
start = time.perf_counter()
report = scanner.scan_folder("INBOX", on_scanned=count)
first = time.perf_counter() - start
start = time.perf_counter()
again = scanner.scan_folder("INBOX")
rescan = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, which would count the benchmark's own memory
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"first": first, "rescan": rescan, "new": report.count, "again": len(again.new),
                  "bytes": report.bytes_fetched, "verdicts": verdicts, "peak_rss_mb": hwm / 1024}))
if mode == "process":
    judge.pool.shutdown(wait=True)  # so that the helper's peak memory is counted below
    print(json.dumps({"helper_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def scan_in_child(server, store_path: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SCAN_CHILD, str(ROOT), server.host, str(server.port), server.user, server.password,
         str(store_path), mode], capture_output=True, text=True, check=True)
    result = {}
    for line in out.stdout.strip().splitlines():
        if line.startswith("{"):
            result.update(json.loads(line))
    return result


def watch_latency(server, store_path: Path, rounds: int = 5) -> list[float]:
    from klezguard.application.watch import watch_account
    from klezguard.mail.accounts import Account, ServerSettings
    from klezguard.store.db import Store

    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    account = Account(server.user, ServerSettings(server.host, server.port, "plain", server.user), allow_plain=True)

    def connect():
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        return client

    thread = threading.Thread(target=watch_account, args=(connect, account, Store(store_path), events.put, stop),
                              daemon=True)
    thread.start()
    while events.get(timeout=120).kind != "watching":
        pass
    time.sleep(1.0)
    appender = connect()
    sample = corpus_messages()[0]
    latencies = []
    for _ in range(rounds):
        start = time.perf_counter()
        appender.append("INBOX", sample)
        while True:
            event = events.get(timeout=10)
            if event.kind == "new":
                latencies.append(time.perf_counter() - start)
                break
        time.sleep(0.3)
    stop.set()
    thread.join(10)
    appender.logout()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    server = dovecot.start()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"klezguard-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        start = time.perf_counter()
        size, attached = build_mailbox(client, args.messages)
        print(f"mailbox: {args.messages} messages, {size / 1e6:.0f} MB ({100 * attached / size:.0f}% of it added "
              f"attachments), built in {time.perf_counter() - start:.0f} s")
        client.logout()
        bare_fetch(server)  # warm Dovecot's caches once, so both timings below see the same server state
        bare = min(bare_fetch(server) for _ in range(2))
        inproc = scan_in_child(server, work / "store-inproc.sqlite3", "inprocess")
        result = scan_in_child(server, work / "store.sqlite3", "process")
        latencies = watch_latency(server, work / "store.sqlite3")
        print(f"bare FETCH header+BODYSTRUCTURE: {bare:6.2f} s")
        print(f"first scan, judged in-process:   {inproc['first']:6.2f} s  ratio {inproc['first'] / bare:.2f}x")
        print(f"first scan, judged by a helper:  {result['first']:6.2f} s  ratio {result['first'] / bare:.2f}x"
              f"  (target <= 1.5x)  {result['new']} messages, verdicts {result['verdicts']}")
        print(f"rescan, nothing new:             {result['rescan'] * 1000:6.0f} ms (target < 500 ms)")
        print(f"bytes downloaded:                {result['bytes'] / 1e6:6.1f} MB = "
              f"{100 * result['bytes'] / size:.1f}% of the mailbox (target <= 10%)")
        print(f"new message -> finding:          {', '.join(f'{x:.2f}' for x in latencies)} s "
              f"(max {max(latencies):.2f} s, target <= 2 s)")
        print(f"peak memory of the scan:         {result['peak_rss_mb']:6.0f} MB (target < 250 MB); helper process "
              f"{result.get('helper_peak_rss_mb', 0):.0f} MB; in-process judging {inproc['peak_rss_mb']:.0f} MB")
        print(f"(benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    finally:
        server.stop()
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
