"""Hostile messages (tests/hostile.py): the time and memory of judging each one, whole and as the IMAP
scanner sees it, and of its safe preview; each in a process of its own with a 3 GB address-space limit.
Target: each within 2 s and 300 MB on this machine. Prints one line per case and the worst.

    python benchmarks/bench_hostile.py [--case TEXT] [--timeout S]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
sys.path.insert(0, sys.argv[1])
from klezguard.core.context import Context
from klezguard.core.parse import from_bytes, from_partial, partial_view
from klezguard.core.preview import preview_text
from klezguard.rules.engine import evaluate, prepare
from tests.hostile import CASES
prepare()
raw = CASES[sys.argv[2]]()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ctx = Context.build(own_domains=["example.com"])
t0 = time.perf_counter()
whole = evaluate(from_bytes(raw), ctx)
t1 = time.perf_counter()
head, structure, fetched = partial_view(raw)
t2 = time.perf_counter()
partial = evaluate(from_partial(head, structure, fetched, len(raw)), ctx)
t3 = time.perf_counter()
preview_text(from_bytes(raw))
t4 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"size": len(raw), "whole": t1 - t0, "partial": t3 - t2, "preview": t4 - t3,
                  "peak_mb": peak / 1024, "growth_mb": (peak - base) / 1024, "verdict": whole.verdict,
                  "rules": sorted({f.rule for f in whole.findings}),
                  "same": [f.rule for f in whole.findings] == [f.rule for f in partial.findings]}))
"""


def run(name: str, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), name], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:120]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def main() -> None:
    from tests.hostile import CASES

    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    worst_time, worst_mem = (0.0, ""), (0.0, "")
    print(f"{'case':34} {'size':>9} {'whole s':>8} {'IMAP s':>7} {'preview':>8} {'growth MB':>10}  verdict / note")
    for name in CASES:
        if args.case and args.case.lower() not in name.lower():
            continue
        r = run(name, args.timeout)
        if "error" in r:
            print(f"{name:34} {'':>9} FAILED: {r['error']}")
            worst_time = max(worst_time, (float("inf"), name))
            continue
        judged = max(r["whole"], r["partial"]) + r["preview"]
        worst_time = max(worst_time, (judged, name))
        worst_mem = max(worst_mem, (r["growth_mb"], name))
        note = "" if r["same"] else "  (IMAP view differs)"
        print(f"{name:34} {r['size']:>9} {r['whole']:>8.2f} {r['partial']:>7.2f} {r['preview']:>8.2f} "
              f"{r['growth_mb']:>10.0f}  {r['verdict']} {','.join(x.split('.')[1] for x in r['rules'])[:60]}{note}")
    print(f"\nworst time: {worst_time[0]:.2f} s ({worst_time[1]}); worst memory growth: {worst_mem[0]:.0f} MB "
          f"({worst_mem[1]}); target 2 s and 300 MB")
    print(f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
