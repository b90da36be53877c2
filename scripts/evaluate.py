"""Measures detection on the labelled corpus beside the repository (../shared/corpus), side by side.

Runs `klezguard check --json` exactly as the corpus README says, scores it with ../shared/eval/score.py and
prints one table: the synthetic corpus by category, `real/` (benign, phish, dsn), `real/benign-more/` by
source, and any blind set given with --blind (a folder written apart from the rules: msgs/, sent/,
manifest.jsonl, mailbox.json with owner, own_domains, authserv_id), with and without the owner's details.
It also lists any real benign message judged a threat, and checks that the partial view (what the IMAP
scanner fetches) gives the same findings as the whole message for every message of the corpus.

    .venv/bin/python scripts/evaluate.py [--by-trick] [--out DIR] [--blind DIR ...]
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


def _scored(results: Path, manifest: Path) -> dict:
    proc = subprocess.run([sys.executable, str(SHARED / "eval" / "score.py"), str(results), str(manifest), "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)[0]


def _cell(row: dict, key: str, n_key: str) -> str:
    value, n = row.get(key), row.get(n_key)
    return "-" if value is None or not n else f"{value:.1f}% (n={n})"


def _benign_threats(results: Path, manifest: Path) -> list[str]:
    benign = {json.loads(line)["file"] for line in manifest.read_text().splitlines()
              if line.strip() and json.loads(line).get("label") == "benign"}
    out = []
    for line in results.read_text().splitlines():
        r = json.loads(line)
        rel = str(Path(r["source"]).resolve().relative_to(manifest.parent.resolve()))
        if r["verdict"] == "threat" and rel in benign:
            out.append(f"{rel}: {', '.join(f['rule'] for f in r['findings'] if f['severity'] != 'low')}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--by-trick", action="store_true")
    parser.add_argument("--out", default="/tmp/klezguard-eval")
    parser.add_argument("--blind", action="append", default=[], metavar="DIR",
                        help="a labelled set written apart from the rules (msgs/, sent/, manifest.jsonl, "
                             "mailbox.json); default: the sets in eval/written-apart")
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
    more = real / "benign-more"
    klezguard([str(more)], out / "more.jsonl")
    subprocess.run([*score, str(out / "more.jsonl"), str(real / "manifest.more.jsonl"), "--by-source"], check=True)
    rows = [("synthetic", _scored(out / "synthetic.jsonl", syn / "manifest.jsonl")),
            ("real", _scored(out / "real.jsonl", real / "manifest.jsonl")),
            ("real/benign-more", _scored(out / "more.jsonl", real / "manifest.more.jsonl"))]
    written_apart = sorted(p for p in (ROOT / "eval" / "written-apart").glob("*") if (p / "manifest.jsonl").is_file())
    for folder in args.blind or written_apart:
        blind = Path(folder)
        box = json.loads((blind / "mailbox.json").read_text())
        owner = ["--sent", str(blind / "sent"), "--trusted-authserv", box["authserv_id"]]
        for domain in box["own_domains"]:
            owner += ["--own-domain", domain]
        for label, extra in (("owner's details", owner), ("no details", [])):
            name = f"{blind.name}-{label.split()[0].rstrip(chr(39) + 's')}"
            klezguard([*extra, str(blind / "msgs")], out / f"{name}.jsonl")
            rows.append((f"{blind.name} ({label})", _scored(out / f"{name}.jsonl", blind / "manifest.jsonl")))
    print()
    print("| set | sender flagged | attachment flagged | backscatter flagged | benign flagged | phish flagged |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        cells = [_cell(r, "flag_recall_sender", "n_sender"), _cell(r, "flag_recall_attachment", "n_attachment"),
                 _cell(r, "flag_recall_backscatter", "n_backscatter"), _cell(r, "benign_fp_verdict", "n_benign"),
                 _cell(r, "phish_recall_verdict", "n_phish")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    threats = _benign_threats(out / "real.jsonl", real / "manifest.jsonl") + _benign_threats(
        out / "more.jsonl", real / "manifest.more.jsonl")
    print(f"\nreal benign messages judged a threat: {len(threats)}")
    for line in threats:
        print("  " + line)
    diffs = partial_differences()
    print(f"partial view vs whole message: {len(diffs)} messages differ")
    for line in diffs:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
