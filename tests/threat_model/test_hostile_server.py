"""Threat 10: a server that answers wrongly, slowly or hugely never hangs a scan, never eats memory,
and one message it describes wrongly never stops the others (tests/integration/hostile_server.py)."""

import threading

import pytest

from klezguard.application.scan import Scanner
from klezguard.cli import main
from klezguard.errors import KnownError
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.mail.connection import connect
from klezguard.mail.watchdog import Cancelled
from tests.integration.hostile_server import HostileServer

USER = "owner@hostile.example"


def account(server: HostileServer) -> Account:
    return Account(USER, ServerSettings("127.0.0.1", server.port, "plain", USER), allow_plain=True)


_clients: list = []


@pytest.fixture(autouse=True)
def close_clients():
    yield
    while _clients:
        try:
            _clients.pop().shutdown()
        except OSError:
            pass


def scanner(server: HostileServer, store, **kw) -> Scanner:
    acct = account(server)
    client = connect(acct.server, "secret", email=USER, allow_plain=True)
    _clients.append(client)
    return Scanner(client, acct, store, **kw)


def test_one_message_described_wrongly_is_kept_as_unchecked_and_the_rest_are_judged(store):
    server = HostileServer(count=6, behaviour={3: "malformed"})
    report = scanner(server, store).scan_folder("INBOX")
    assert report.count == 6
    verdicts = {m.uid: m.verdict for m in store.messages(folder="INBOX")}
    assert verdicts[3] == "unchecked" and all(verdicts[uid] == "clean" for uid in (1, 2, 4, 5, 6))
    row = next(m for m in store.messages(folder="INBOX") if m.uid == 3)
    assert "could not be read" in row.reason
    server.close()


def test_the_command_line_lists_what_it_could_not_check(monkeypatch, capsys):
    server = HostileServer(count=4, behaviour={2: "malformed"})
    monkeypatch.setenv("KLEZGUARD_PASSWORD", "secret")
    code = main(["scan", USER, "--host", "127.0.0.1", "--port", str(server.port), "--security", "plain"])
    out, err = capsys.readouterr()
    assert code == 2 and "[NOT CHECKED]" in out and "could not be checked" in err
    server.close()


def test_a_server_dripping_its_answer_meets_a_deadline(store):
    server = HostileServer(count=3, behaviour={2: "drip"}, drip=0.5)
    scan = scanner(server, store)
    scan.deadline = 2.0
    with pytest.raises(KnownError, match="took too long"):
        from klezguard.mail.connection import translated

        with translated(scan.account.server, USER):
            scan.scan_folder("INBOX")
    server.close()


def test_cancel_stops_a_scan_stuck_in_one_answer(store):
    server = HostileServer(count=3, behaviour={1: "drip"}, drip=1.0)
    cancel = threading.Event()
    scan = scanner(server, store, cancel=cancel)
    scan.deadline = 600.0  # only Cancel can end it in time
    outcome = []

    def run():
        try:
            scan.scan_folder("INBOX")
            outcome.append("finished")
        except Cancelled:
            outcome.append("cancelled")

    worker = threading.Thread(target=run)
    worker.start()
    threading.Timer(1.0, cancel.set).start()
    worker.join(30)
    assert outcome == ["cancelled"]
    server.close()


def test_a_literal_of_a_gigabyte_is_refused_before_it_is_read(store):
    import resource

    server = HostileServer(count=2, behaviour={1: "huge"})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(KnownError, match="bigger than KlezGuard reads"):
        from klezguard.mail.connection import translated

        scan = scanner(server, store)
        with translated(scan.account.server, USER):
            scan.scan_folder("INBOX")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: nothing was read
    server.close()


def test_the_app_shows_a_message_it_could_not_check(qtbot, store):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from klezguard.application.service import ImapService
    from klezguard.gui.mainwindow import MainWindow
    from tests.gui.conftest import idle
    from tests.threat_model.test_gui_text import rendered

    server = HostileServer(count=3, behaviour={2: "malformed"})
    service = ImapService(account(server), store, password="secret")
    window = MainWindow(store, {service.key: service})
    qtbot.addWidget(window)
    window.show()
    window.scan_all()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 3, timeout=20000)
    assert "could not be checked" in window.status_text.text()
    words = [window.model.data(window.model.index(n, 0), Qt.ItemDataRole.DisplayRole) for n in range(3)]
    assert words.count("Not checked") == 1
    n, row = next((n, r) for n, r in enumerate(window.model.rows) if r.verdict == "unchecked")
    selection = window.table.selectionModel()
    selection.select(window.model.index(n, 0), selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: window.detail.current is not None and window.detail.current.id == row.id)
    assert any("could not check this message" in rendered(label) for label in window.detail.findChildren(QLabel))
    window.shutdown()
    service.close()
    server.close()
