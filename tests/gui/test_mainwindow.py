"""The main window on the demo mailbox: list, details, every action (button, shortcut, menu) and notices."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from klezguard.gui.mainwindow import MainWindow
from tests.gui.conftest import idle, select_subject


def test_rows_show_verdict_words_icons_and_senders(demo_window):
    model = demo_window.model
    verdicts = [model.data(model.index(n, 0)) for n in range(model.rowCount())]
    assert verdicts.count("Dangerous") == 8 and verdicts.count("Suspicious") == 3 and verdicts.count("OK") == 16
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None
    senders = [model.data(model.index(n, 1)) for n in range(model.rowCount())]
    assert any(s.startswith('Millstone Flour <orders@millstone-flour.co.uk>') or "secure-pay-portal" in s
               for s in senders)


def test_views_and_search(qtbot, demo_window):
    demo_window.select_view("threats")
    assert demo_window.model.rowCount() == 8
    demo_window.select_view("suspicious")
    assert demo_window.model.rowCount() == 3
    demo_window.select_view("all")
    qtbot.keyClicks(demo_window.search, "eicar")
    qtbot.waitUntil(lambda: demo_window.model.rowCount() == 1)
    demo_window.search.clear()
    qtbot.waitUntil(lambda: demo_window.model.rowCount() == 27)


def test_details_show_findings_evidence_and_a_safe_preview(qtbot, demo_window):
    select_subject(qtbot, demo_window, "Invoice 88213")
    views = demo_window.detail.finding_views
    assert views and "RIGHT-TO-LEFT" in views[0].evidence.text() + views[1].evidence.text()
    assert views[0].evidence.isHidden()
    views[0].toggle.click()
    assert not views[0].evidence.isHidden() and views[0].toggle.text() == "Hide evidence"
    qtbot.waitUntil(lambda: "Loading" not in demo_window.detail.preview.toPlainText())
    assert isinstance(demo_window.detail.preview, QPlainTextEdit)  # plain text: nothing can load or run
    assert "Attached (not opened)" in demo_window.detail.preview.toPlainText()


def test_quarantine_undo_and_restore(qtbot, demo_window):
    row = select_subject(qtbot, demo_window, "Statement")
    demo_window.quarantine_action.trigger()
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.undo_button.isVisible())
    assert row.subject not in [r.subject for r in demo_window.model.rows]
    qtbot.mouseClick(demo_window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(demo_window) and row.subject in [r.subject for r in demo_window.model.rows])
    select_subject(qtbot, demo_window, "Statement")
    qtbot.keyClick(demo_window.table, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.undo_button.isVisible())
    demo_window.select_view("quarantine")
    assert [r.subject for r in demo_window.model.rows] == [row.subject]
    select_subject(qtbot, demo_window, row.subject)
    assert demo_window.restore_action.isEnabled()
    qtbot.keyClick(demo_window.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.model.rowCount() == 0)
    demo_window.select_view("all")
    assert row.subject in [r.subject for r in demo_window.model.rows]


def test_several_messages_at_once(qtbot, demo_window):
    demo_window.select_view("threats")
    demo_window.table.selectAll()
    demo_window.quarantine_action.trigger()
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.model.rowCount() == 0)
    demo_window.select_view("quarantine")
    assert demo_window.model.rowCount() == 8


def test_copy_report(qtbot, demo_window):
    select_subject(qtbot, demo_window, "Invoice 88213")
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(demo_window.table, Qt.Key.Key_C, ctrl_shift)
    text = QGuiApplication.clipboard().text()
    assert text.startswith("KlezGuard report") and "[DANGEROUS] Invoice 88213" in text
    assert "What to do:" in text and "U+202E" in text


def test_not_a_threat_on_a_dangerous_message_asks_first_and_can_be_undone(qtbot, demo_window):
    from PySide6.QtWidgets import QMessageBox

    from klezguard.gui.safetext import PlainLabel
    from tests.gui.conftest import answer_next_dialog

    row = select_subject(qtbot, demo_window, "Invoice 88213")
    assert row.verdict == "threat"
    seen: list = []
    answer_next_dialog(QMessageBox.StandardButton.No, seen)
    qtbot.keyClick(demo_window.table, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert "dangerous" in seen[0][0]
    assert demo_window.store.message(row.id).verdict == "threat"  # No: nothing changed

    answer_next_dialog(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(demo_window.said, check_params_cb=lambda text: "not a threat" in text) as said:
        demo_window.trust_action.trigger()  # the toolbar's button this time
    assert "did not confirm" in said.args[0]
    assert demo_window.store.message(row.id).verdict == "clean"
    assert demo_window.store.trusted_senders() == frozenset()
    select_subject(qtbot, demo_window, "Invoice 88213")
    qtbot.wait(30)
    pane = " ".join(label.text() for label in demo_window.detail.findChildren(PlainLabel) if not label.isHidden())
    assert "You marked this as not a threat" in pane and "found nothing suspicious" not in pane

    assert demo_window.undo_button.isVisible()
    qtbot.mouseClick(demo_window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.store.message(row.id).verdict == "threat")
    assert not demo_window.store.message(row.id).cleared


def test_not_a_threat_on_a_trusted_sender_with_an_odd_file_clears_that_message_too(qtbot, demo_window):
    """Trusting the sender silences who sent it; the message was marked as not a threat, so it is cleared too
    (before, nothing seemed to happen)."""
    from PySide6.QtWidgets import QMessageBox

    from tests.gui.conftest import answer_next_dialog

    row = select_subject(qtbot, demo_window, "Overdue: invoice MF-10517")
    answer_next_dialog(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(demo_window.said, check_params_cb=lambda text: "Trusted" in text):
        demo_window.trust_action.trigger()
    assert demo_window.store.message(row.id).verdict == "clean"
    assert ("accounts@mil1stone-flour.co.uk", "mil1stone-flour.co.uk") in demo_window.store.trusted_senders()
    qtbot.mouseClick(demo_window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.store.message(row.id).verdict == "threat")
    assert demo_window.store.trusted_senders() == frozenset()


def test_first_scan_notifies_grouped_and_click_opens_the_message(qtbot, demo_window):
    notifier = demo_window.notifier
    qtbot.waitUntil(lambda: len(notifier.shown) == 1)
    notice = notifier.shown[0]
    assert notice.level == "threat" and "11 new messages" in notice.text
    notifier.clicked.emit(notice.row_ids[:1])
    assert [r.id for r in demo_window.selected_rows()] == notice.row_ids[:1]


def test_everything_is_reachable_by_keyboard_and_named(demo_window):
    shortcuts = {a.text(): a.shortcut().toString() for a in demo_window.actions()}
    for name in ("Scan now", "Move to quarantine", "Restore", "Not a threat", "Copy report", "Find"):
        assert shortcuts[name], name
    for widget in (demo_window.nav, demo_window.table, demo_window.search, demo_window.detail):
        assert widget.accessibleName()


def test_without_a_tray_closing_the_window_quits(qtbot, store):
    window = MainWindow(store, {}, keep_in_tray=False)
    qtbot.addWidget(window)
    window.show()
    assert window.close()


def test_with_a_tray_closing_keeps_running_and_says_so_once(qtbot, store):
    window = MainWindow(store, {}, keep_in_tray=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.tray_hint_needed):
        window.close()
    assert not window.isVisible()
    window.show()
    with qtbot.assertNotEmitted(window.tray_hint_needed):
        window.close()
    window.quitting = True
    window.close()
    assert QApplication.instance() is not None


def test_removing_an_account_stops_its_running_work_first(qtbot, demo_window):
    """A scan that went on after its account was removed would store its mail again: the running job is
    cancelled and waited for, and a job still queued never starts."""
    import threading
    import time

    from klezguard.gui.tasks import Job

    key = next(iter(demo_window.services))
    started, ran_after = threading.Event(), []

    def long_work(progress, cancel):
        started.set()
        while not cancel.wait(0.05):
            pass
        return "stopped"

    running = demo_window.work.submit(key, Job("Long scan", long_work, cancellable=True))
    queued = demo_window.work.submit(key, Job("Queued", lambda progress, cancel: ran_after.append(1)))
    assert started.wait(5)
    begun = time.monotonic()
    demo_window.remove_service(key)
    assert running.cancel.is_set() and queued.cancel.is_set()
    assert time.monotonic() - begun < 5
    assert ran_after == [] and key not in demo_window.work.workers


def test_verdicts_of_an_older_klezguard_are_judged_again_at_start(qtbot, store, tmp_path):
    from klezguard.application.local import scan_mailbox
    from klezguard.application.service import local_service
    from klezguard.gui.mainwindow import MainWindow
    from klezguard.store.db import Verdict

    demo = local_service(None, store, root=tmp_path / "demo-mail")
    scan_mailbox(demo.box, store)
    right = {m.id: m.verdict for m in store.messages()}
    # as an older engine left them: all clean, and stale
    store.set_verdicts([Verdict(i, "clean", 0.0, "", "[]", "0.0.1") for i in right])
    window = MainWindow(store, {demo.key: demo})
    qtbot.addWidget(window)
    window.show()
    qtbot.waitSignal(window.said, check_params_cb=lambda text: "judged again" in text, timeout=10000).wait()
    assert {m.id: m.verdict for m in store.messages()} == right
    window.select_view("threats")
    assert window.model.rowCount() == sum(v == "threat" for v in right.values()) > 0
    window.shutdown()


def test_open_mail_folder_works_the_first_time(qtbot, store, tmp_path, monkeypatch):
    """The first mail folder ever opened: KlezGuard's folder for working copies does not exist yet."""
    from klezguard.gui.mainwindow import MainWindow
    from tests.mailfactory import build

    mail = tmp_path / "exported"
    mail.mkdir()
    (mail / "a.eml").write_bytes(build(subject="From the old laptop"))
    monkeypatch.setattr("klezguard.gui.mainwindow.QFileDialog.getExistingDirectory", lambda *a, **k: str(mail))
    window = MainWindow(store, {})
    qtbot.addWidget(window)
    window.show()
    window.open_action.trigger()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 1, timeout=10000)
    assert window.model.rows[0].subject == "From the old laptop"
    window.shutdown()


def test_every_tray_menu_item_can_be_triggered(qtbot):
    """Each item emits its signal (a signal passed to QAction as triggered= crashed every one of them)."""
    from klezguard.gui.tray import TrayController

    controller = TrayController()
    for action, signal in ((controller.open_action, controller.open_requested),
                           (controller.scan_action, controller.scan_requested),
                           (controller.quit_action, controller.quit_requested)):
        assert action in controller.menu.actions()
        with qtbot.waitSignal(signal, timeout=1000):
            action.trigger()
    with qtbot.waitSignal(controller.pause_toggled, timeout=1000) as paused:
        controller.pause_action.trigger()
    assert paused.args == [True]


def test_a_message_reported_by_the_scan_and_the_watcher_is_notified_once(qtbot):
    """The first scan and the watcher can both report the same new message: one notice counts it once."""
    from klezguard.application.judge import Summary
    from klezguard.application.scan import Scanned
    from klezguard.gui.tray import NoticeGrouper, Notifier
    from klezguard.rules.engine import Result

    notifier = Notifier()
    grouper = NoticeGrouper(notifier, delay_ms=10)
    threat = Scanned("a@x.example", "INBOX", 7, 42, Summary("<m@x>", "Bank <evil@x.example>", None, "Pay now", None),
                     Result("threat", 9.0, []))
    grouper.add("a@x.example", "a@x.example", [(1, threat)])
    grouper.add("a@x.example", "a@x.example", [(1, threat)])  # the watcher, a moment later
    qtbot.waitUntil(lambda: len(notifier.shown) == 1)
    grouper.add("a@x.example", "a@x.example", [(1, threat)])  # and once more after the notice
    qtbot.wait(50)
    assert len(notifier.shown) == 1 and notifier.shown[0].row_ids == [1]
    assert "Pay now" in notifier.shown[0].text


def test_a_weak_finding_shows_a_note_not_the_tick_of_ok(qtbot):
    from klezguard.gui.detail import FindingView
    from klezguard.gui.icons import verdict_icon
    from klezguard.gui.safetext import PlainLabel

    view = FindingView({"rule": "x", "category": "sender", "severity": "low", "score": 0.5, "title": "A small thing",
                        "explanation": "e", "advice": "a", "evidence": {}})
    qtbot.addWidget(view)
    icon = next(label for label in view.findChildren(PlainLabel) if label.pixmap() and not label.pixmap().isNull())
    shown = icon.pixmap().toImage()
    assert shown == verdict_icon("note").pixmap(20, 20).toImage()
    assert shown != verdict_icon("clean").pixmap(20, 20).toImage()


def test_the_window_fits_a_1366x768_laptop_with_everything_reachable(qtbot, demo_window):
    from PySide6.QtCore import QRect

    from klezguard.gui.mainwindow import fitted_size

    laptop = QRect(0, 0, 1366, 728)  # 768 less a 40-pixel panel
    size = fitted_size(laptop)
    assert size.width() <= 1366 and size.height() <= 728
    assert fitted_size(QRect(0, 0, 1920, 1040)).toTuple() == (1280, 800)
    hint = demo_window.minimumSizeHint()
    assert hint.width() <= size.width() and hint.height() <= size.height()
    for width, height in ((size.width(), size.height()), (1920, 1040)):
        demo_window.resize(width, height)
        demo_window.undo_button.show()
        demo_window.progress.show()
        qtbot.wait(50)
        for widget in (demo_window.undo_button, demo_window.status_text, demo_window.table, demo_window.detail):
            corner = widget.mapTo(demo_window, widget.rect().bottomRight())
            assert widget.isVisible() and corner.x() <= demo_window.width() and corner.y() <= demo_window.height()


def test_a_notice_click_keeps_a_maximized_window_maximized(qtbot, demo_window):
    demo_window.showMaximized()
    qtbot.waitUntil(demo_window.isMaximized, timeout=2000)
    demo_window.open_message([demo_window.model.rows[0].id])
    qtbot.wait(50)
    assert demo_window.isMaximized()


def test_no_stale_screens_after_a_move_and_a_restore(qtbot, demo_window):
    from klezguard.gui.safetext import PlainLabel

    def banner() -> str:
        qtbot.wait(30)  # new labels are shown by the event loop
        return " ".join(label.text() for label in demo_window.detail.findChildren(PlainLabel) if not label.isHidden())

    select_subject(qtbot, demo_window, "Invoice 88213")
    assert "Move it to quarantine" in banner()
    qtbot.keyClick(demo_window.table, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.undo_button.isVisible())
    assert demo_window.detail.current is None  # the message left this list: the pane does not keep it
    demo_window.select_view("quarantine")
    select_subject(qtbot, demo_window, "Invoice 88213")
    assert "It is in quarantine" in banner() and "Move it to quarantine" not in banner()
    qtbot.keyClick(demo_window.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.model.rowCount() == 0)
    assert demo_window.detail.current is None
    assert not demo_window.undo_button.isVisible()  # no Undo left over to take back an older move


def test_tooltips_name_their_shortcut_and_cancelling_the_folder_picker_opens_nothing(qtbot, demo_window,
                                                                                      monkeypatch):
    tips = {a.text(): a.toolTip() for a in demo_window.actions()}
    assert tips["Move to quarantine"].endswith("(Ctrl+M)") and tips["Scan now"].endswith("(F5)")
    opened = []
    monkeypatch.setattr("klezguard.gui.mainwindow.QFileDialog.getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr("klezguard.gui.mainwindow.QFileDialog.getOpenFileName",
                        lambda *a, **k: opened.append(True) or ("", ""))
    before = set(demo_window.services)
    demo_window.open_action.trigger()
    assert opened == [] and set(demo_window.services) == before


def test_an_empty_view_says_all_clear(qtbot, demo_window):
    from klezguard.gui.safetext import PlainLabel

    def pane() -> str:
        qtbot.wait(30)
        return " ".join(label.text() for label in demo_window.detail.findChildren(PlainLabel) if not label.isHidden())

    demo_window.select_view("quarantine")
    assert "The quarantine is empty." in pane()
    demo_window.select_view("all")
    qtbot.keyClicks(demo_window.search, "no such words anywhere")
    qtbot.waitUntil(lambda: demo_window.model.rowCount() == 0)
    assert "Messages in quarantine are searched in the Quarantine view" in pane()


def test_trusted_senders_can_be_seen_and_removed(qtbot, demo_window):
    from PySide6.QtWidgets import QMessageBox

    from tests.gui.conftest import answer_next_dialog

    row = select_subject(qtbot, demo_window, "Overdue: invoice MF-10517")
    answer_next_dialog(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(demo_window.said, check_params_cb=lambda text: "Trusted" in text):
        demo_window.trust_action.trigger()
    demo_window.trusted_action.trigger()
    dialog = demo_window.trusted_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == "accounts@mil1stone-flour.co.uk"
    assert not dialog.remove.isEnabled()
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.remove, Qt.MouseButton.LeftButton)
    assert dialog.table.rowCount() == 0 and dialog.empty.isVisible()
    assert demo_window.store.trusted_senders() == frozenset()
    # trust alone had made it clean: without the trust it is judged as before
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.store.message(row.id).verdict == "threat")


def test_an_international_domain_is_shown_in_its_own_letters_and_as_sent():
    from klezguard.gui.models import sender_text

    assert sender_text("Bäckerei Müller <info@xn--bckerei-mller-bfb28a.de>", "info@xn--bckerei-mller-bfb28a.de") == \
        "Bäckerei Müller <info@bäckerei-müller.de (xn--bckerei-mller-bfb28a.de)>"
    assert sender_text("Anna <anna@example.com>", "anna@example.com") == "Anna <anna@example.com>"


def test_delete_from_quarantine_asks_with_the_count_and_deletes(qtbot, demo_window):
    from PySide6.QtWidgets import QMessageBox

    from tests.gui.conftest import answer_next_dialog

    demo_window.select_view("threats")
    demo_window.table.selectAll()
    demo_window.quarantine_action.trigger()
    qtbot.waitUntil(lambda: idle(demo_window) and demo_window.model.rowCount() == 0)
    demo_window.select_view("quarantine")
    assert demo_window.model.rowCount() == 8
    demo_window.table.setFocus()
    demo_window.table.selectAll()
    assert demo_window.delete_action.isEnabled()
    seen: list = []
    answer_next_dialog(QMessageBox.StandardButton.No, seen)
    qtbot.keyClick(demo_window.table, Qt.Key.Key_Delete)
    assert "Delete 8 message(s)" in seen[0][0]
    assert demo_window.model.rowCount() == 8  # No: nothing deleted
    answer_next_dialog(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(demo_window.said, check_params_cb=lambda text: "Deleted" in text) as said:
        demo_window.delete_action.trigger()
    assert "Deleted 8 message(s)" in said.args[0] and demo_window.model.rowCount() == 0
    demo_window.select_view("all")
    assert demo_window.model.rowCount() == 19


def test_one_background_api_tells_known_errors_from_bugs_and_answers_on_the_gui_thread(qtbot):
    import threading

    from PySide6.QtCore import QObject

    from klezguard.errors import KnownError
    from klezguard.gui.tasks import attempt, run_in_background

    assert attempt(lambda: 42, "x") == (42, None)
    _, known = attempt(lambda: (_ for _ in ()).throw(KnownError("The server is away.", "Try later.")), "x")
    assert known is not None and not known.is_bug and "The server is away." in known.text
    _, bug = attempt(lambda: 1 / 0, "x")
    assert bug is not None and bug.is_bug and "ZeroDivisionError" in bug.details

    owner = QObject()
    results: list = []
    worker_threads: list = []

    def work():
        worker_threads.append(threading.get_ident())
        return "done"

    keep = run_in_background(work, lambda r: results.append((r, threading.get_ident())),
                             lambda t, d: results.append(("failed", t)), owner)
    qtbot.waitUntil(lambda: bool(results))
    assert results[0] == ("done", threading.get_ident()) and worker_threads[0] != threading.get_ident()
    failures: list = []
    keep = run_in_background(lambda: 1 / 0, lambda r: None, lambda t, d: failures.append((t, d)), owner)
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0][0] == "" and "ZeroDivisionError" in failures[0][1]
    del keep
