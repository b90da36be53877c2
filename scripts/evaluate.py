"""Measures detection on the labelled corpus beside the repository (../shared/corpus).

Runs `klezguard check --json` exactly as the corpus README says, scores it with ../shared/eval/score.py,
and checks that the partial view (what the IMAP scanner fetches) gives the same findings as the whole
message for every message of the corpus.

    .venv/bin/python scripts/evaluate.py [--by-trick] [--out DIR]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


def klezguard(args: list[str], out: Path) -> None:
    with out.open("w") as f:
        proc = subprocess.run([sys.executable, "-m", "klezguard", "check", "--json", *args], stdout=f, cwd=ROOT)
    if proc.returncode == 2:
        raise SystemExit("klezguard check could not read some paths")


def partial_differences() -> list[str]:
    from klezguard.core.parse import from_bytes, from_partial, partial_view
    from klezguard.rules.engine import evaluate
    from tests.mailfactory import context

    ctx = context(own_domains=("harbourline-joinery.co.uk",), trusted=("mx1.northmail.net",))
    out = []
    for path in sorted(CORPUS.rglob("*.eml")):
        raw = path.read_bytes()
        full = sorted((f.rule, f.severity) for f in evaluate(from_bytes(raw), ctx).findings)
        head, structure, fetched = partial_view(raw)
        part = sorted((f.rule, f.severity) for f in evaluate(from_partial(head, structure, fetched), ctx).findings)
        if full != part:
            out.append(f"{path.relative_to(CORPUS)}: full {full} / partial {part}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--by-trick", action="store_true")
    parser.add_argument("--out", default="/tmp/klezguard-eval")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    syn = CORPUS / "synthetic"
    mailbox = json.loads((syn / "mailbox.json").read_text())
    syn_args = ["--sent", str(syn / "sent"), "--trusted-authserv", mailbox["trusted_authserv_id"]]
    for domain in mailbox["own_domains"]:
        syn_args += ["--own-domain", domain]
    klezguard([*syn_args, *map(str, sorted(syn.glob("msg-*.eml")))], out / "synthetic.jsonl")
    real = CORPUS / "real"
    klezguard([str(real / d) for d in ("benign", "phish", "dsn")], out / "real.jsonl")
    score = [sys.executable, str(SHARED / "eval" / "score.py")]
    extra = ["--by-trick"] if args.by_trick else []
    subprocess.run([*score, str(out / "synthetic.jsonl"), str(syn / "manifest.jsonl"), *extra], check=True)
    subprocess.run([*score, str(out / "real.jsonl"), str(real / "manifest.jsonl"), "--by-source"], check=True)
    diffs = partial_differences()
    print(f"partial view vs whole message: {len(diffs)} messages differ")
    for line in diffs:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
