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


def test_a_message_that_was_recent_when_quarantined_comes_back(imap_server, empty_mailbox, monkeypatch, capsys):
    """Dovecot gives \\Recent to the first session that opens the folder after the mail arrived: here the
    command line's, which quarantines it."""
    import klezguard.mail.quarantine as quarantine_module

    inbox = empty_mailbox
    inbox.unselect_folder()  # a session with INBOX open would take \\Recent itself
    inbox.multiappend("INBOX", [*THREATS, *CLEAN])

    seen: list[tuple] = []
    keep = quarantine_module.restorable_flags

    def spy(flags):
        seen.append(tuple(f.decode() if isinstance(f, bytes) else f for f in flags))
        return keep(flags)

    monkeypatch.setattr(quarantine_module, "restorable_flags", spy)
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    code, _out, _err = run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)
    assert code == 1 and ids(inbox, QUARANTINE) == THREAT_IDS
    assert any("\\Recent" in flags for flags in seen)  # the server did show them as \\Recent
    from klezguard.store.db import Store

    journal = Store().journal.entries(imap_server.user)
    assert journal and all("\\Recent" not in e.flags for e in journal)  # never saved, so never set back
    code, out, err = run(["quarantine", "restore", *server_args(imap_server), "--all"], capsys)
    assert code == 0, err
    assert out.count("Restored to INBOX") == 3
    assert ids(inbox, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS) and ids(inbox, QUARANTINE) == []


def imap_server_client(server):
    import imapclient

    client = imapclient.IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    client.login(server.user, server.password)
    return client


def _reset(imap) -> None:
    """Every message back in INBOX without our keyword, no quarantine folder."""
    if imap.folder_exists(QUARANTINE):
        imap.select_folder(QUARANTINE)
        imap.move(imap.search("ALL"), "INBOX")
        imap.unselect_folder()
        imap.delete_folder(QUARANTINE)
    imap.select_folder("INBOX")
    imap.remove_flags(imap.search("ALL"), ["$KlezGuardQuarantine"], silent=True)
    imap.unselect_folder()
    assert ids(imap, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS)


def _first_run_commands(imap_server, tmp_path, monkeypatch, capsys) -> int:
    """How many commands a whole `scan --quarantine threat` sends (on a fresh store)."""
    relay = CuttingRelay(imap_server.port)
    relay.arm(None)
    code, _out, err = run(["scan", *server_args(imap_server, relay.port), "--quarantine", "threat"], capsys)
    relay.close()
    assert code == 1, err
    client = imap_server_client(imap_server)
    try:
        assert ids(client, QUARANTINE) == THREAT_IDS
        _reset(client)
    finally:
        client.logout()
    return relay.count


@pytest.mark.parametrize("earlier", [False, True], ids=["first-run", "after-a-scan"])
@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_scan_and_quarantine_cut_at_any_command_is_made_good_by_the_next_run(imap_server, inbox, monkeypatch,
                                                                                capsys, tmp_path, mode, earlier):
    """`earlier`: a plain scan judged the threats before, so the cut run quarantines stored threats."""
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    # judged in this process: a helper process per run would only make the ~80 runs slow
    monkeypatch.setattr("klezguard.cli.mailbox.default_judge", InProcessJudge)
    if earlier:
        monkeypatch.setenv("KLEZGUARD_DATA_DIR", str(tmp_path / "count"))
        run(["scan", *server_args(imap_server)], capsys)
    total = _first_run_commands(imap_server, tmp_path, monkeypatch, capsys)
    assert total > 10
    checked = 0
    for cut_at in range(2, total + 1):
        _reset(inbox)  # the mailbox as it was: every message in INBOX, no quarantine folder; and a new store
        monkeypatch.setenv("KLEZGUARD_DATA_DIR", str(tmp_path / f"{mode}-{cut_at}"))
        if earlier:
            assert run(["scan", *server_args(imap_server)], capsys)[0] == 1
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


def test_an_account_removed_and_added_back_finds_its_quarantined_mail_again(imap_server, inbox, monkeypatch,
                                                                             capsys):
    from klezguard.store.db import Store

    monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
    assert run(["account", "add", *server_args(imap_server)], capsys)[0] == 0
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert run(["scan", "--quarantine", "threat"], capsys)[0] == 1
    assert run(["account", "remove", imap_server.user], capsys)[0] == 0
    assert Store().messages() == []
    monkeypatch.setattr("sys.stdin", io.StringIO(imap_server.password + "\n"))
    assert run(["account", "add", *server_args(imap_server)], capsys)[0] == 0
    code, out, _err = run(["scan", "--json"], capsys)
    reported = sorted(json.loads(line)["message_id"] for line in out.splitlines())
    assert reported == CLEAN_IDS  # quarantined mail is found again, not reported as new
    quarantined = Store().messages(folder=QUARANTINE)  # what the app's Quarantine view lists, with findings
    assert sorted(m.message_id for m in quarantined) == THREAT_IDS and {m.verdict for m in quarantined} == {"threat"}
    code, out, _err = run(["quarantine", "list"], capsys)
    assert len(out.strip().splitlines()) == 3
    code, out, err = run(["quarantine", "restore", "--all"], capsys)
    assert code == 0, err
    assert ids(inbox, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS)


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


def test_a_flag_the_server_refuses_does_not_stop_the_message_going_back(imap_server, inbox, monkeypatch, capsys):
    """Every STORE of the restore answered NO (a server that does not take keywords, or a passing error):
    the message still goes back to its folder."""
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    inbox.select_folder("INBOX")
    flagged = [uid for uid, data in inbox.fetch(inbox.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]).items()
               if b"Statement 0" in next(v for k, v in data.items() if k.startswith(b"BODY["))]
    inbox.add_flags(flagged, [b"\\Flagged"])
    inbox.unselect_folder()
    assert run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)[0] == 1
    assert ids(inbox, QUARANTINE) == THREAT_IDS
    relay = CuttingRelay(imap_server.port)
    relay.refusing.extend([b"UID STORE"] * 50)
    code, out, err = run(["quarantine", "restore", *server_args(imap_server, relay.port), "--all"], capsys)
    relay.close()
    assert code == 0, err
    assert out.count("Restored to INBOX") == 3
    assert len(relay.refusing) < 50  # the server did refuse flags on the way
    assert ids(inbox, "INBOX") == sorted(THREAT_IDS + CLEAN_IDS) and ids(inbox, QUARANTINE) == []


def test_a_watched_folder_that_is_gone_is_skipped_with_a_note(imap_server, inbox, monkeypatch, capsys):
    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    code, out, err = run(["scan", *server_args(imap_server), "--folder", "Old projects", "--folder", "INBOX",
                          "--json"], capsys)
    assert code == 1 and len(out.splitlines()) == ALL
    assert "The folder Old projects is not on the server" in err


def test_delete_from_quarantine_removes_only_that_copy_and_the_clean_out_is_off_by_default(imap_server, inbox,
                                                                                           monkeypatch, capsys):
    import time

    from klezguard.application import quarantine as quarantining
    from klezguard.application.scan import scan_account
    from klezguard.mail.accounts import Account, ServerSettings
    from klezguard.store.db import Store

    monkeypatch.setenv("KLEZGUARD_PASSWORD", imap_server.password)
    assert run(["scan", *server_args(imap_server), "--quarantine", "threat"], capsys)[0] == 1
    # another program's message in the quarantine folder, a twin of one of ours: never ours to delete
    inbox.append(QUARANTINE, THREATS[0])
    store = Store()
    entries = store.journal.entries(imap_server.user)
    account = Account(imap_server.user, ServerSettings(imap_server.host, imap_server.port, "plain"), allow_plain=True)
    client = imap_server_client(imap_server)
    later = time.time() + 40 * 86400
    monkeypatch.setattr(quarantining.time, "time", lambda: later)  # 40 days on
    try:
        scan_account(client, account, store)  # off by default: nothing is deleted, however old
        assert len(ids(inbox, QUARANTINE)) == 4
        first = next(e for e in entries if e.message_id == THREAT_IDS[0])
        done = quarantining.delete(quarantining.mover(client, account, store), store, [first.id])
        assert [e.state for e in done.done] == ["deleted"] and done.failed == []
        assert ids(inbox, QUARANTINE) == THREAT_IDS  # its copy went; the other program's twin stayed
        assert ids(inbox, "INBOX") == CLEAN_IDS
        assert quarantining.expired(store, account.key, 0) == []
        assert len(quarantining.expired(store, account.key, 30)) == 2
        scan_account(client, account, store, keep_days=30)  # the clean-out, as chosen in Settings
        assert ids(inbox, QUARANTINE) == [THREAT_IDS[0]]  # only the other program's copy is left
        assert len(quarantining.expired(store, account.key, 30)) == 0
    finally:
        client.logout()
        store.close()
