"""The memory of correspondents (issue 13): what building it and using it costs.

(a) A Sent folder of 50,000 messages on a local Dovecot (written by MULTIAPPEND, 500 messages per command:
    about 10,000 messages/s on this machine, so writing a Maildir behind Dovecot's back would save only a
    few seconds and test a path users never have). Then, in a child process so that its memory is its own,
    the scan's own use case reads it into a fresh store: `Scanner.index_sent()`, exactly as `scan_account`
    calls it. Prints the time (target under 20 s), a second call with nothing new, the memory's size
    (correspondents, names, Message-IDs, database size) and the child's peak memory.
(b) The per-message cost of `evaluate()` on the new mail of scripts/make_history.py, with a Context whose
    `memory` holds the generated history, address books and Sent folder, and with no memory. The context
    is built by the application layer as `check --contacts --history` builds it. Until `Context` has a
    `memory` field, (b) says it is waiting for it.

    .venv/bin/python benchmarks/bench_contacts.py [--messages 50000] [--history /tmp/kg-history]
        [--skip-imap] [--skip-evaluate]
"""

import argparse
import dataclasses
import inspect
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

BATCH = 500
TARGET_SECONDS = 20.0


# --- (a) the Sent folder on Dovecot -----------------------------------------------------------------------

def sent_messages(count: int, seed: int = 20261204):
    """`count` sent messages of the synthetic firm to its few hundred correspondents and, over the years,
    some thousands of customers (a 50,000-message Sent folder is some ten years of a busy office)."""
    import make_history as mh

    rng = random.Random(seed)
    world = mh.World(rng)
    box = mh.Mailbox(world, rng)
    people = [c for c in world.people if c.write_share > 0]
    for _ in range(3000):  # past customers, one to a few messages each
        g, f = world.person()
        dom = rng.choice(["gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de", "icloud.com"])
        people.append(mh.Correspondent(f"{g} {f}", world.free_address(g, f, dom), mh.FREEMAIL[dom], [], "customer",
                                       0.1, given=g, family=f))
    weights = [max(c.rate, 0.05) for c in people]
    start = mh.datetime(2016, 1, 4, tzinfo=mh.BERLIN)
    end = mh.HISTORY_END
    for _ in range(count):
        c = rng.choices(people, weights=weights)[0]
        raw = box.sent(c, box.when_in(start, end))
        box.sent_ids.clear()  # the writer keeps them for replies; not needed here
        yield raw


def build_sent(server, count: int) -> tuple[int, float]:
    import imapclient

    client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
    client.login(server.user, server.password)
    if not client.folder_exists("Sent"):
        client.create_folder("Sent")
    start = time.perf_counter()
    size = 0
    batch: list[bytes] = []
    for raw in sent_messages(count):
        batch.append(raw)
        size += len(raw)
        if len(batch) == BATCH:
            client.multiappend("Sent", batch)
            batch = []
    if batch:
        client.multiappend("Sent", batch)
    elapsed = time.perf_counter() - start
    client.logout()
    return size, elapsed


INDEX_CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import imapclient
from klezguard.application.scan import Scanner
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.store.db import Store
host, port, user, password, store_path = sys.argv[2:7]
client = imapclient.IMAPClient(host, port=int(port), ssl=False)
client.login(user, password)
account = Account(user, ServerSettings(host, int(port), "plain", user), allow_plain=True)
store = Store(store_path)
scanner = Scanner(client, account, store)
start = time.perf_counter()
count = scanner.index_sent()   # as scan_account calls it
first = time.perf_counter() - start
start = time.perf_counter()
again = scanner.index_sent()
second = time.perf_counter() - start
out = {"count": count, "seconds": first, "again": again, "again_seconds": second}
index = store.sent_index(account.key)
out.update(message_ids=len(index.message_ids), recipients=len(index.recipients), sent_names=len(index.names))
if hasattr(store, "contacts_memory"):
    start = time.perf_counter()
    memory = store.contacts_memory(account.key)
    out["load_seconds"] = time.perf_counter() - start
    out["contacts"] = len(memory.contacts)
    out["vouched"] = sum(1 for _ in memory.vouched())
    out["names"] = sum(len(c.names) for c in memory.contacts.values())
    out["name_keys"] = len(memory.names())
client.logout()
store.close()
out["db_bytes"] = sum(os.path.getsize(p) for p in (store_path, store_path + "-wal") if os.path.exists(p))
out["peak_rss_mb"] = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(json.dumps(out))
"""


def bench_index(count: int) -> None:
    from tests.integration import dovecot

    server = dovecot.start()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"klezguard-bench-contacts-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        size, built = build_sent(server, count)
        print(f"(a) Sent folder: {count} messages, {size / 1e6:.1f} MB, written by MULTIAPPEND in {built:.1f} s "
              f"({count / built:.0f} msg/s)")
        store_path = work / "store.sqlite3"
        proc = subprocess.run([sys.executable, "-c", INDEX_CHILD, str(ROOT), server.host, str(server.port),
                               server.user, server.password, str(store_path)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            raise SystemExit("(a) the child reading the Sent folder failed")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"    Scanner.index_sent(): {r['count']} messages in {r['seconds']:.2f} s "
              f"({r['count'] / r['seconds']:.0f} msg/s; target under {TARGET_SECONDS:.0f} s: "
              f"{'met' if r['seconds'] < TARGET_SECONDS else 'MISSED'})")
        print(f"    again, nothing new: {r['again']} messages in {r['again_seconds'] * 1000:.0f} ms")
        print(f"    sent index: {r['message_ids']} Message-IDs, {r['recipients']} recipients, {r['sent_names']} names")
        if "contacts" in r:
            print(f"    memory: {r['contacts']} correspondents ({r['vouched']} known to the user), {r['names']} "
                  f"names ({r['name_keys']} distinct), loaded from the store in {r['load_seconds'] * 1000:.0f} ms")
        print(f"    store on disk: {r['db_bytes'] / 1e6:.1f} MB; peak memory of the reading process "
              f"{r['peak_rss_mb']:.0f} MB")
    finally:
        server.stop()
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()


# --- (b) evaluate() with and without the memory -----------------------------------------------------------

def _memory_field() -> bool:
    from klezguard.core.context import Context

    return any(f.name == "memory" for f in dataclasses.fields(Context)) or hasattr(Context, "memory")


def bench_evaluate(history: Path, rounds: int = 3) -> None:
    if not _memory_field():
        print("(b) waiting: klezguard.core.context.Context has no `memory` field yet, so evaluate() cannot be "
              "given a memory of correspondents")
        return
    from klezguard.application import check
    from klezguard.application import context as contexts
    from klezguard.core.parse import from_bytes
    from klezguard.rules.engine import evaluate

    if not (history / "mailbox.json").is_file():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_history.py"), str(history)], check=True)
    box = json.loads((history / "mailbox.json").read_text(encoding="utf-8"))
    params = inspect.signature(check.files_context).parameters
    if "books" not in params or "history" not in params:
        print("(b) waiting: application.check.files_context takes no address books / history yet")
        return
    errors: list = []
    start = time.perf_counter()
    with_memory = check.files_context([str(history / box["sent_folder"])], box["own_domains"],
                                      [box["trusted_authserv_id"]], errors,
                                      books=[str(history / f) for f in box["contacts"]],
                                      history=[str(history / box["history_folder"])])
    built = time.perf_counter() - start
    memory = with_memory.memory
    if memory is None:
        print("(b) files_context built no memory from the generated set; nothing to compare")
        return
    sent_index = contexts.sent_from_files([str(history / box["sent_folder"])])
    without = contexts.build(own_domains=box["own_domains"], trusted_authserv=[box["trusted_authserv_id"]],
                             sent=sent_index)
    if without.memory is not None:
        without = dataclasses.replace(without, memory=None)
    raws = [p.read_bytes() for p in sorted((history / box["new_folder"]).glob("*.eml"))]
    print(f"(b) memory from {box['counts']['history']} received + {box['counts']['sent']} sent messages and "
          f"3 address books: {len(memory.contacts)} correspondents, built in {built:.1f} s")

    def per_message(ctx) -> float:
        best = float("inf")
        for _ in range(rounds):
            msgs = [from_bytes(r) for r in raws]  # parsed afresh: a message caches what the rules read
            start = time.perf_counter()
            for m in msgs:
                evaluate(m, ctx)
            best = min(best, time.perf_counter() - start)
        return best / len(raws) * 1e6

    per_message(without)  # warm the imports and module caches once
    base = per_message(without)
    mem = per_message(with_memory)
    print(f"    evaluate() per message on {len(raws)} new messages (best of {rounds}): without memory {base:.0f} µs, "
          f"with memory {mem:.0f} µs (+{mem - base:.0f} µs, {100 * (mem - base) / base:+.0f}%)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--history", default="/tmp/kg-history", help="make_history.py's set (made if missing)")
    parser.add_argument("--skip-imap", action="store_true", help="skip (a)")
    parser.add_argument("--skip-evaluate", action="store_true", help="skip (b)")
    args = parser.parse_args()
    if not args.skip_imap:
        bench_index(args.messages)
    if not args.skip_evaluate:
        bench_evaluate(Path(args.history))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
