import pytest

from klezguard.application.service import local_service
from klezguard.gui.mainwindow import MainWindow
from klezguard.gui.tray import NoticeGrouper, Notifier
from klezguard.store.db import Store


def idle(window) -> bool:
    return not window.work.pending


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "gui.sqlite3")


@pytest.fixture
def demo_window(qtbot, store, tmp_path):
    """The main window on a fresh copy of the demo mailbox, scanned, with a recording notifier."""
    demo = local_service(None, store, root=tmp_path / "demo-mail")
    window = MainWindow(store, {demo.key: demo})
    notifier = Notifier()
    grouper = NoticeGrouper(notifier, delay_ms=10)
    window.new_findings.connect(grouper.add)
    notifier.clicked.connect(window.open_message)
    window.notifier = notifier
    qtbot.addWidget(window)
    window.show()
    window.scan_all()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 27, timeout=20000)
    yield window
    window.shutdown()


def select_subject(qtbot, window, text: str):
    for n, row in enumerate(window.model.rows):
        if text in row.subject:
            # Through the selection model: selectRow() reads the global keyboard modifiers, which an earlier
            # simulated Ctrl+Shift key press can leave behind on the offscreen platform.
            selection = window.table.selectionModel()
            selection.select(window.model.index(n, 0),
                             selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows)
            qtbot.waitUntil(lambda r=row: window.detail.current is not None and window.detail.current.id == r.id)
            return row
    raise AssertionError(f"no message with subject containing {text!r}")


def answer_next_dialog(button, seen: list | None = None) -> None:
    """Presses `button` (a QMessageBox.StandardButton) in the next modal message box, as a user would;
    `seen` collects the box's text and text format."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        if seen is not None:
            seen.append((box.text(), box.textFormat()))
        box.button(button).click()

    QTimer.singleShot(0, press)
