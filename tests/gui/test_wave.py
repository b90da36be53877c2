"""A backscatter wave in the window: three bounces for mail the user never sent, arrived this week, are said
once in the notice bar with "Quarantine all 3" (one move, one Undo) and the Your domain button; two are not
a wave. On a local mailbox made from the demo's bounce, with fresh dates."""

import time
from email.utils import formatdate

import pytest
from PySide6.QtCore import Qt

from klezguard.application.service import local_service
from klezguard.gui.mainwindow import MainWindow
from klezguard.gui.tray import NoticeGrouper, Notifier
from klezguard.mail.local import QUARANTINE, LocalSource, demo_folder
from tests.gui.conftest import idle

BOUNCE = demo_folder() / "inbox" / "08-backscatter-bounce.eml"
ORDINARY = demo_folder() / "inbox" / "02-wedding-cake-enquiry.eml"


def fresh_bounce(n: int) -> bytes:
    """The demo's bounce, arrived `n` hours ago, with a Message-ID of its own."""
    raw = BOUNCE.read_bytes()
    raw = raw.replace(b"Date: Fri, 06 Nov 2026 13:22:44 +0000",
                      b"Date: " + formatdate(time.time() - n * 3600).encode(), 1)
    return raw.replace(b"<20261106062244.9E0F11A2B3@mx.kowalski-transport.example>",
                       f"<wave{n}.9E0F11A2B3@mx.kowalski-transport.example>".encode(), 1)


@pytest.fixture
def shop(qtbot, store, tmp_path):
    """A window on a local mailbox of `bounces` fresh bounces and an ordinary enquiry, scanned, with the app's
    tray grouping wired as gui/app.py wires it (a notifier that is not the window)."""
    windows = []

    def make(bounces: int) -> MainWindow:
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        for n in range(bounces):
            (inbox / f"bounce-{n}.eml").write_bytes(fresh_bounce(n + 1))
        (inbox / "enquiry.eml").write_bytes(ORDINARY.read_bytes())
        demo = demo_folder()
        source = LocalSource("Shop", [str(inbox)], [str(demo / "sent")], ["brightwater-bakery.com"],
                             ["mx.mailhost-demo.net"], "maya@brightwater-bakery.com")
        service = local_service(source, store, root=tmp_path / "work")
        window = MainWindow(store, {service.key: service})
        window.notifier = Notifier()
        window.grouper = NoticeGrouper(window.notifier, delay_ms=10)
        window.new_findings.connect(window.grouper.add)
        window.wave_found.connect(window.grouper.wave)
        qtbot.addWidget(window)
        window.show()
        window.scan_all()
        qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == bounces + 1, timeout=20000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def test_three_bounces_make_one_notice_and_quarantine_all_moves_exactly_those(qtbot, shop):
    window = shop(3)
    assert not window.notice_bar.isHidden()
    assert "Someone is sending mail in your name" in window.notice_text.text()
    assert "3 bounces or complaints" in window.notice_text.text()
    assert "probably not infected" in window.notice_text.text()
    assert window.notice_domain.isVisible()  # what helps: the Your domain page
    button = window.notice_quarantine_all
    assert button.isVisible() and button.text() == "Quarantine all 3"
    bounces = [r for r in window.store.messages() if r.subject == "Undelivered Mail Returned to Sender"]
    enquiry = next(r for r in window.store.messages() if r.subject != "Undelivered Mail Returned to Sender")
    assert len(bounces) == 3
    # the tray's grouping: one notice for the account, the wave (not a second one for the same bounces)
    qtbot.waitUntil(lambda: not window.grouper.pending and window.grouper.timer.isActive() is False)
    qtbot.wait(50)
    assert [n.title for n in window.notifier.shown] == ["Someone is sending mail in your name — Shop"]
    assert sorted(window.notifier.shown[0].quarantine) == sorted(r.id for r in bounces)

    asked: list = []
    real = window.work.quarantine
    window.work.quarantine = lambda rows: (asked.append(rows), real(rows))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and sorted(r.id for r in asked[0]) == sorted(r.id for r in bounces)
    qtbot.waitUntil(lambda: idle(window) and window.undo_button.isVisible(), timeout=10000)
    assert window.notice_bar.isHidden()
    assert sorted(r.id for r in window.store.messages(folder=QUARANTINE)) == sorted(r.id for r in bounces)
    assert window.store.message(enquiry.id).folder == "INBOX"
    # one Undo takes all three back
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and not window.store.messages(folder=QUARANTINE), timeout=10000)
    assert all(window.store.message(r.id).folder == "INBOX" for r in bounces)


def test_the_wave_is_said_once(qtbot, shop):
    window = shop(3)
    window.notice_close.click()
    key = next(iter(window.services))
    window.work.new_findings.emit(key, "Shop", [])  # more mail came (the watcher): the same wave
    assert window.notice_bar.isHidden()


def test_two_bounces_are_no_wave(qtbot, shop):
    window = shop(2)
    qtbot.wait(50)
    assert window.waves.told == {}
    assert not window.notice_quarantine_all.isVisible()
    assert not any("in your name" in n.title for n in window.notifier.shown)
    assert window.notifier.shown  # the two bounces are told as findings, as before


def test_a_later_notice_leaves_the_wave_in_view_and_goes_to_the_status_line(qtbot, shop):
    from klezguard.gui.tray import Notice

    window = shop(3)
    with qtbot.waitSignal(window.said, check_params_cb=lambda text: "Dangerous message" in text):
        window.show_notice(Notice("Dangerous message — Shop", "Invoice\nA disguised program", [1], "threat"),
                           lambda: None)
    assert "Someone is sending mail in your name" in window.notice_text.text()
    assert window.notice_quarantine_all.isVisible()
    window.notice_close.click()  # dismissed: the next notice has the bar
    window.show_notice(Notice("Dangerous message — Shop", "Invoice", [1], "threat"), lambda: None)
    assert "Dangerous message" in window.notice_text.text() and not window.notice_quarantine_all.isVisible()
