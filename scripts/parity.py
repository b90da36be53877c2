"""Do `scan` and `check` agree? The shared synthetic corpus is seeded on a throw-away Dovecot (its 600
messages in INBOX, the owner's sent mail in Sent), scanned as an account of its owner, and each verdict,
rule id and severity compared with `check` of the same files.

    .venv/bin/python scripts/parity.py
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SYNTHETIC = ROOT.parent / "shared" / "corpus" / "synthetic"


def main() -> int:
    import os

    if not SYNTHETIC.is_dir():
        print(f"no corpus at {SYNTHETIC}", file=sys.stderr)
        return 2
    if not shutil.which("dovecot"):
        print("Dovecot is not installed (make test installs it)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="klezguard-parity-"))
    os.environ["KLEZGUARD_DATA_DIR"] = str(work / "data")
    os.environ["KLEZGUARD_CONFIG_DIR"] = str(work / "config")

    import imapclient

    from klezguard.application.check import check_files, files_context
    from klezguard.application.judge import InProcessJudge
    from klezguard.application.scan import scan_account
    from klezguard.mail.accounts import Account, ServerSettings
    from klezguard.store.db import Store
    from tests.integration import dovecot

    mailbox = json.loads((SYNTHETIC / "mailbox.json").read_text())
    files = sorted(SYNTHETIC.glob("msg-*.eml"))
    sent = sorted((SYNTHETIC / "sent").glob("*.eml"))
    errors: list = []
    ctx = files_context([str(SYNTHETIC / "sent")], mailbox["own_domains"], [mailbox["trusted_authserv_id"]], errors)
    checked = {}
    for item, path in zip(check_files([str(f) for f in files], ctx), files, strict=True):
        _source, _msg, result = item
        checked[path.name] = (result.verdict, sorted((f.rule, f.severity) for f in result.findings))

    server = dovecot.start(tls=False)
    try:
        seeder = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        seeder.login(server.user, server.password)
        seeder.multiappend("Sent", [p.read_bytes() for p in sent])
        seeder.multiappend("INBOX", [p.read_bytes() for p in files])
        seeder.select_folder("INBOX", readonly=True)
        uids = sorted(seeder.search("ALL"))
        seeder.logout()
        account = Account(mailbox["owner"]["email"], ServerSettings(server.host, server.port, "plain", server.user),
                          allow_plain=True, trusted_authserv=[mailbox["trusted_authserv_id"]])
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.user, server.password)
        store = Store(work / "scan.sqlite3")
        scan_account(client, account, store, judge=InProcessJudge())
        client.logout()
        by_uid = {m.uid: m for m in store.messages(account=account.key, folder="INBOX")}
        scanned = {}
        for uid, path in zip(uids, files, strict=True):
            row = by_uid[uid]
            scanned[path.name] = (row.verdict, sorted((f["rule"], f["severity"]) for f in store.findings(row.id)))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    same_verdict = sum(checked[n][0] == scanned[n][0] for n in checked)
    same_findings = sum(checked[n] == scanned[n] for n in checked)
    print(f"synthetic corpus, {len(checked)} messages with {len(sent)} sent: scan and check agree on "
          f"{same_verdict} verdicts ({100 * same_verdict / len(checked):.1f} %), on rule ids and severities for "
          f"{same_findings} ({100 * same_findings / len(checked):.1f} %)")
    for name in sorted(checked):
        if checked[name] != scanned[name]:
            print(f"  {name}: check {checked[name]} / scan {scanned[name]}")
    return 0 if same_findings == len(checked) else 1


if __name__ == "__main__":
    raise SystemExit(main())
