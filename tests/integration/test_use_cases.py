"""The use cases as the command line runs them on a real Dovecot: quarantine by level acts on every stored
message at that level (not only new ones), a run cut at any command is made good by the next run, a
restore brings back messages that were \\Recent, and an account removed and added back is scanned afresh."""

import io
import json

import pytest

from klezguard.application.judge import InProcessJudge
from klezguard.cli import main
from tests.integration.relay import CuttingRelay
from tests.mailfactory import build

QUARANTINE = "KlezGuard Quarantine"
EXE = b"MZ\x90\x00" + b"\x00" * 60
THREATS = [build(subject=f"Statement {n}", message_id=f"<threat-{n}@test.example>",
                 attachments=[(f"statement{n}.wav", "audio/x-wav", EXE)]) for n in range(3)]
CLEAN = [build(subject=f"Lunch {n}", message_id=f"<lunch-{n}@test.example>") for n in range(3)]
ALL = len(THREATS) + len(CLEAN)


def ids(imap, folder: str) -> list[str]:
    """Message-IDs in `folder`, one per message (a doubled message shows twice)."""
    if not imap.folder_exists(folder):
        return []
    imap.select_folder(folder, readonly=True)
    uids = imap.search("ALL")
    found = imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
    out = []
    for data in found.values():
        raw = next(v for k, v in data.items() if k.startswith(b"BODY[HEADER")).decode()
        out.append(raw.split(":", 1)[1].strip())
    imap.unselect_folder()
    return sorted(out)


THREAT_IDS = sorted(f"<threat-{n}@test.example>" for n in range(3))
CLEAN_IDS = sorted(f"<lunch-{n}@test.example>" for n in range(3))


@pytest.fixture
def inbox(empty_mailbox):
    empty_mailbox.multiappend("INBOX", [*THREATS, *CLEAN])
    return empty_mailbox


def server_args(server, port=None) -> list[str]:
    return [server.user, "--host", server.host, "--port", str(port or server.port), "--security", "plain"]


def run(args, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_later_scan_quarantines_the_threats_an_earlier_scan_found(imap_server, inbox, monkeypatch, capsys):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    code, _out, _err = run(["scan", *server_args(imap_server)], capsys)
    assert code == 1 and ids(inbox, QUARANTINE) == []
    code, out, err = run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)
    assert out == ""  # nothing new to report
    assert "0 flagged, 3 moved" in err
    assert ids(inbox, QUARANTINE) == THREAT_IDS and ids(inbox, "INBOX") == CLEAN_IDS
    code, _out, err = run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)
    assert code == 0 and "0 moved" in err  # moved already: nothing is moved twice


def test_a_message_that_was_recent_when_quarantined_comes_back(imap_server, inbox, monkeypatch, capsys):
    """Dovecot gives \\Recent to the first session that opens the folder read-write: the quarantine's."""
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    code, _out, _err = run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)
    assert code == 1 and ids(inbox, QUARANTINE) == THREAT_IDS
    from klezguard.store.db import Store

    journal = Store().journal.entries(imap_server.user)
    assert journal and all("\\Recent" not in e.flags for e in journal)  # never saved, so never set back
    code, out, err = run(["quarantine", "restore", *server_args(imap_server), "--all"], capsys)
    assert code == 0, err
    assert out.count("Restored to INBOX") == 3
    assert ids(inbox, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS) and ids(inbox, QUARANTINE) == []


def _first_run_commands(imap_server, tmp_path, monkeypatch, capsys) -> int:
    """How many commands a whole `scan --quarantine threat` sends (on a fresh store)."""
    relay = CuttingRelay(imap_server.port)
    monkeypatch.setenv("KLEZGUARD_DATA_DIR", str(tmp_path / "count"))
    relay.arm(None)
    code, _out, err = run(["scan", *server_args(imap_server, relay.port), "--quarantine", "threat"], capsys)
    relay.close()
    assert code == 1, err
    return relay.count


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_scan_and_quarantine_cut_at_any_command_is_made_good_by_the_next_run(imap_server, inbox, monkeypatch,
                                                                                capsys, tmp_path, mode):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    # judged in this process: a helper process per run would only make the ~80 runs slow
    monkeypatch.setattr("klezguard.cli.mailbox.default_judge", InProcessJudge)
    total = _first_run_commands(imap_server, tmp_path, monkeypatch, capsys)
    assert total > 10
    checked = 0
    for cut_at in range(2, total + 1):
        # the mailbox as it was: every message in INBOX, no quarantine folder; and a new store
        if inbox.folder_exists(QUARANTINE):
            inbox.select_folder(QUARANTINE)
            inbox.move(inbox.search("ALL"), "INBOX")
            inbox.unselect_folder()
            inbox.delete_folder(QUARANTINE)
        assert ids(inbox, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS)
        monkeypatch.setenv("KLEZGUARD_DATA_DIR", str(tmp_path / f"{mode}-{cut_at}"))
        relay = CuttingRelay(imap_server.port)
        relay.arm(cut_at, mode)
        run(["scan", *server_args(imap_server, relay.port), "--quarantine", "threat"], capsys)
        was_cut = relay.disarm()
        relay.close()
        everything = ids(inbox, "INBOX") + ids(inbox, QUARANTINE)
        assert set(everything) == set(THREAT_IDS + CLEAN_IDS), (cut_at, relay.commands[-1:])  # none lost
        code, _out, err = run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)
        assert code in (0, 1), (cut_at, err)
        assert ids(inbox, QUARANTINE) == THREAT_IDS, (cut_at, mode, relay.commands[-1:], err)
        assert ids(inbox, "INBOX") == CLEAN_IDS, (cut_at, mode, relay.commands[-1:], err)
        checked += was_cut
    assert checked >= total - 2


def test_an_account_removed_and_added_back_is_scanned_afresh(imap_server, inbox, monkeypatch, capsys):
    def add():
        monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
        code, _out, err = run(["account", "add", *server_args(imap_server)], capsys)
        assert code == 0, err

    add()
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    code, out, _err = run(["scan", "--json"], capsys)
    assert len(out.splitlines()) == ALL
    code, out, _err = run(["scan", "--json"], capsys)
    assert out == ""
    code, out, _err = run(["account", "remove", imap_server.user], capsys)
    assert code == 0 and "what KlezGuard stored" in out
    add()
    code, out, _err = run(["scan", "--json"], capsys)
    assert sorted(json.loads(line)["message_id"] for line in out.splitlines()) == sorted(THREAT_IDS + CLEAN_IDS)


def test_account_add_takes_the_folders_chosen_in_settings(imap_server, empty_mailbox, monkeypatch, capsys):
    from klezguard.mail.accounts import AccountStore
    from klezguard.settings import Settings

    settings = Settings()
    settings.set("watched_folders", ["INBOX", "Archive"])
    settings.set("quarantine_folder", "Suspect mail")
    monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
    code, _out, err = run(["account", "add", *server_args(imap_server)], capsys)
    assert code == 0, err
    saved = AccountStore().get(imap_server.user)
    assert saved.folders == ["INBOX", "Archive"] and saved.quarantine_folder == "Suspect mail"
