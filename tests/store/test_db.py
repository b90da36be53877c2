"""The store: an older file is upgraded in place, a newer one is refused plainly, views round-trip."""

import sqlite3

import pytest

from klezguard.errors import StoreError
from klezguard.store.db import MIGRATIONS, SCHEMA_VERSION, Store
from klezguard.store.views import pack_view, unpack_view


def test_a_version_1_file_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO messages (account, folder, uidvalidity, uid, verdict, score, scanned_at) "
               "VALUES ('a@b.example', 'INBOX', 7, 1, 'threat', 7.0, 0)")
    db.commit()
    db.close()
    store = Store(path)
    assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION >= 2
    assert store.query("SELECT verdict, cleared FROM messages") == [("threat", 0)]


def test_a_file_from_a_newer_klezguard_is_refused_plainly(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError) as err:
        Store(path)
    assert "newer KlezGuard" in err.value.text()


def test_views_round_trip():
    parts = {"1": b"hello", "2": bytes(range(256)) * 40}
    view = unpack_view(pack_view(b"From: a\r\n\r\n", [{"part_id": "1"}], parts))
    head, structure, fetched = view.head, view.structure, view.fetched
    assert (head, structure, fetched) == (b"From: a\r\n\r\n", [{"part_id": "1"}], parts)


def _open(path, barrier, out) -> None:
    barrier.wait()
    try:
        Store(path).close()
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"{type(exc).__name__}: {getattr(exc, 'detail', '') or exc}")


def test_two_processes_upgrading_one_old_file_at_once_both_succeed(tmp_path):
    """The app and its scanning helper (or a command in a terminal) open a file from an older KlezGuard
    at the same moment: each step of the upgrade runs once, and neither is told the file is broken."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    for attempt in range(5):
        path = tmp_path / f"old-{attempt}.sqlite3"
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        for statement in [*MIGRATIONS[0], *MIGRATIONS[1]]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 2")
        db.commit()
        db.close()
        barrier, out = context.Barrier(2), context.Queue()
        runs = [context.Process(target=_open, args=(str(path), barrier, out)) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(60)
        assert [out.get(timeout=10) for _ in runs] == ["ok", "ok"]
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        check.close()


def test_a_big_part_is_kept_only_in_part():
    big = b"PK\x03\x04" + bytes(range(256)) * 8000  # a 2 MB archive
    view = unpack_view(pack_view(b"From: a\r\n\r\n", [{"part_id": "2"}], {"1": b"text", "2": big}))
    assert view.cut == ["2"] and view.fetched["2"] == big[:4096] and view.fetched["1"] == b"text"
