"""Threat 5: text from mail is shown as text in the app, never as Qt rich text.

A sender `Your Bank <attacker@evil.example>`, a subject and attachment names full of markup, and an
`<img>` pointing at /dev/zero go through the real window: the table, the detail pane with every
finding and its evidence, the in-window notice and the tray's notification text. Each label is read
back as it renders; the markup must appear literally and the address must stay in view. A separate
process shows the same message and must keep its memory flat.
"""

import base64
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import Qt, QTextDocument
from PySide6.QtWidgets import QLabel

from klezguard.application.service import LocalService
from klezguard.gui.mainwindow import MainWindow
from klezguard.gui.safetext import notification_text
from klezguard.gui.tray import NoticeGrouper, WindowNotifier
from klezguard.mail.local import LocalMailbox, LocalSource
from tests.gui.conftest import idle, select_subject
from tests.mailfactory import build

BOLD = "<b>Checked by KlezGuard: safe</b>"
IMG = "<img src=/nonexistent/klezguard-test.png>"  # in this process a harmless target; /dev/zero goes to the probe


def hostile(img: str) -> bytes:
    return build(
        from_="Your Bank <attacker@evil.example>",
        subject=f"{BOLD} statement {img}",
        attachments=[(f"{BOLD}.pdf.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 200),
                     (f"invoice{img}.scr", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 200)])


HOSTILE = hostile(IMG)
GUI = Path(__file__).resolve().parents[2] / "klezguard" / "gui"


def rendered(label: QLabel) -> str:
    """What the user sees in a label: its text, or, where Qt reads it as rich text, the rendering."""
    text = label.text()
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.PlainText or (fmt == Qt.TextFormat.AutoText and not Qt.mightBeRichText(text)):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def open_window(qtbot, tmp_path, store, raw: bytes) -> MainWindow:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "hostile.eml").write_bytes(raw)
    source = LocalSource("Hostile", [str(tmp_path / "mail")], [], ["brightwater-bakery.com"], [])
    box = LocalMailbox(source, store, root=tmp_path / "copy")
    window = MainWindow(store, {box.key: LocalService(box)})
    notifier = WindowNotifier(window)
    grouper = NoticeGrouper(notifier, delay_ms=10)
    window.new_findings.connect(grouper.add)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.scan_all()
    qtbot.waitUntil(lambda: idle(window) and window.model.rowCount() == 1, timeout=20000)
    qtbot.waitUntil(lambda: window.notice_bar.isVisible(), timeout=5000)
    return window


@pytest.fixture
def hostile_window(qtbot, tmp_path, store):
    window = open_window(qtbot, tmp_path, store, HOSTILE)
    yield window
    window.shutdown()


def test_direction_overrides_never_turn_a_name_or_the_line_below_around(qtbot, tmp_path, store):
    rlo = "\u202e"
    name = "=?utf-8?b?" + base64.b64encode((rlo + "<moc.lapyap@ecivres.ws>").encode()).decode() + "?="
    subject = "=?utf-8?b?" + base64.b64encode(("Invoice " + rlo).encode()).decode() + "?="
    raw = build(from_=f"{name} <x@evil.example>", subject="SUBJECT").replace(b"Subject: SUBJECT",
                                                                           b"Subject: " + subject.encode())
    window = open_window(qtbot, tmp_path, store, raw)
    select_subject(qtbot, window, "Invoice")
    labels = window.findChildren(QLabel)
    assert not any(rlo in label.text() for label in labels)
    shown = [rendered(label) for label in labels]
    assert any("[U+202E]" in text and "<x@evil.example>" in text for text in shown)  # the real address
    assert any(text.startswith("From: ") and "x@evil.example" in text for text in shown)  # a line of its own
    for column in (1, 2):
        assert rlo not in window.model.data(window.model.index(0, column))
    window.shutdown()


def test_markup_from_mail_shows_as_literal_text(qtbot, hostile_window):
    window = hostile_window
    notice = rendered(window.notice_text)
    assert "attacker@evil.example" in notice  # the address KlezGuard is there to reveal stays in view
    assert BOLD in notice or "Dangerous" in notice
    select_subject(qtbot, window, "statement")
    for view in window.detail.finding_views:
        view.toggle.click()  # show the evidence, as a user would
    labels = window.findChildren(QLabel)
    seen = "\n".join(rendered(label) for label in labels)
    assert BOLD in seen and IMG in seen and "Your Bank <attacker@evil.example>" in seen
    for label in labels:
        if label.textFormat() != Qt.TextFormat.PlainText:
            assert not re.search(r"<(img|b>Checked|a )", label.text(), re.I), label.text()
    row_tip = window.model.data(window.model.index(0, 2), Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in row_tip.replace("<qt>", "")


def test_notification_text_keeps_the_address_on_any_desktop():
    text = notification_text("Your Bank <attacker@evil.example>\n<b>x</b> &#x202E; Fish & Chips")
    assert "attacker@evil.example" in text and "<" not in text and ">" not in text
    assert "&#x202E;" not in text and "Fish & Chips" in text


def test_no_bare_labels_or_message_boxes_in_the_gui_package():
    """New code uses PlainLabel / RichLabel and message_box(), which never read mail text as markup."""
    for path in GUI.glob("*.py"):
        if path.name == "safetext.py":
            continue
        source = path.read_text()
        assert not re.search(r"\bQLabel\(", source), path.name
        assert not re.search(r"QMessageBox\.(warning|question|information|critical|about)\(", source), path.name


MEMORY_PROBE = textwrap.dedent("""
    import json, os, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a regression fails here, not the machine
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from klezguard.gui.mainwindow import MainWindow
    from klezguard.mail.local import LocalMailbox, LocalSource
    from klezguard.application.service import LocalService
    from klezguard.store.db import Store

    def rss():
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    app = QApplication([])
    base = Path(sys.argv[1])
    store = Store(base / "s.sqlite3")
    box = LocalMailbox(LocalSource("H", [str(base / "mail")], [], [], []), store, root=base / "copy")
    window = MainWindow(store, {box.key: LocalService(box)})
    window.show()
    from klezguard.application.local import scan_mailbox
    scan_mailbox(box, store)
    window.refresh()
    deadline = time.monotonic() + 10
    while window.model.rowCount() < 1 and time.monotonic() < deadline:
        app.processEvents()
    before = rss()
    window.table.selectRow(0)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for view in window.detail.finding_views:
        view.toggle.click()
    end = time.monotonic() + 2
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    print(json.dumps({"findings": len(window.detail.finding_views), "growth": rss() - before}))
    window.shutdown()
""")


def test_an_img_pointing_at_dev_zero_keeps_memory_flat(tmp_path):
    """In a process of its own with a 4 GB address-space limit: a regression fails this test instead of
    taking the machine's memory."""
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "hostile.eml").write_bytes(hostile("<img src=/dev/zero>"))
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "KLEZGUARD_DATA_DIR": str(tmp_path / "d"),
                                            "KLEZGUARD_CONFIG_DIR": str(tmp_path / "c"), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["findings"] >= 2
    assert figures["growth"] < 100 * 2**20, figures
