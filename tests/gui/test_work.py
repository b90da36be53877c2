"""The accounts' work without a window: each use case submitted, what it came to said, and what Undo takes back
(the window only wires views to these signals)."""

import pytest

from klezguard.application.service import local_service
from klezguard.gui.work import AccountsWork


@pytest.fixture
def work(store):
    work = AccountsWork(store)
    yield work
    work.shutdown()


def _scanned(qtbot, work, store, tmp_path):
    demo = local_service(None, store, root=tmp_path / "demo-mail")
    said: list[str] = []
    work.said.connect(said.append)
    work.add(demo)
    with qtbot.waitSignal(work.new_findings, timeout=30_000) as found:
        work.scan_all()
    qtbot.waitUntil(lambda: not work.pending)
    return demo, said, found.args


def test_scan_says_what_it_found_and_names_the_worst(qtbot, work, store, tmp_path):
    demo, said, (key, title, items) = _scanned(qtbot, work, store, tmp_path)
    assert key == demo.key and items and items[0][0] is not None
    assert any("new messages checked" in s and "need a look" in s for s in said)


def test_undo_takes_back_the_last_move_and_nothing_older(qtbot, work, store, tmp_path):
    from klezguard.gui.models import MessageTableModel

    demo, said, _found = _scanned(qtbot, work, store, tmp_path)
    model = MessageTableModel(store)
    model.live = True
    model.set_filter(view="threats")
    first, second = model.rows[0], model.rows[1]
    offers: list[bool] = []
    work.undo_offered.connect(offers.append)
    work.quarantine([first])
    qtbot.waitUntil(lambda: not work.pending and offers == [True])
    work.quarantine([second])
    qtbot.waitUntil(lambda: not work.pending and offers == [True, True])
    assert any(s.startswith("Moved 1 message(s)") for s in said)
    work.undo()
    qtbot.waitUntil(lambda: not work.pending and any(s.startswith("Restored 1") for s in said))
    assert offers[-1] is False and not work.last_moved
    model.set_filter(view="quarantine", quarantine_folders=(demo.quarantine_folder,))
    assert [r.subject for r in model.rows] == [first.subject]  # the older move stays: Undo is the last one only
    work.undo()  # a second Undo has nothing left to take back
    qtbot.wait(200)
    model.set_filter(view="quarantine")
    assert not work.pending and [r.subject for r in model.rows] == [first.subject]
