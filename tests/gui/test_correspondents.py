"""The Correspondents page (gui/correspondents.py) on the demo: opened from its toolbar action, address books
imported through the real button (in the background), forgetting one and all with the confirmation
answered, a broken file's error said plainly, and everything reachable on a 1366x768 laptop."""

import threading

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from klezguard.application import contacts
from klezguard.core.visible import readable_address
from klezguard.gui.correspondents import CorrespondentsDialog
from tests.gui.conftest import answer_next_dialog

VCARD = """BEGIN:VCARD
VERSION:3.0
FN:Anna Weber
N:Weber;Anna;;;
EMAIL;TYPE=work:anna@weber-bau.example
EMAIL;TYPE=home:anna.weber@mail.example
END:VCARD
BEGIN:VCARD
VERSION:4.0
FN:Jonas Brandt
EMAIL:jonas@brandt-holz.example
END:VCARD
"""
GOOGLE_CSV = ("Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value\n"
              "Priya Shah,Priya,Shah,* work,priya@shah-print.example ::: p.shah@mail.example\n")


def open_page(qtbot, window) -> CorrespondentsDialog:
    window.correspondents_action.trigger()  # the Tools menu's action, as the user picks it
    dialog = window.correspondents_dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def shown_addresses(dialog) -> list[str]:
    return [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())
            if not dialog.table.isRowHidden(row)]


def import_through_the_button(qtbot, monkeypatch, dialog, path) -> None:
    asked = []

    def pick(parent, caption, folder, filters):
        asked.append(filters)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert asked and "*.vcf" in asked[0] and "*.csv" in asked[0]
    qtbot.waitUntil(lambda: dialog._call is None, timeout=10000)  # the import ran off the GUI thread


def test_the_menu_action_opens_what_the_scan_learnt(qtbot, demo_window):
    tools = next(a.menu() for a in demo_window.menuBar().actions() if a.text() == "&Tools")
    assert demo_window.correspondents_action in tools.actions()
    assert demo_window.trusted_action in tools.actions()  # beside Trusted senders
    dialog = open_page(qtbot, demo_window)
    assert "nothing is sent anywhere" in dialog.intro.text()
    assert not dialog.account.isVisible()  # one account: no chooser
    key = next(iter(demo_window.services))
    known = contacts.contacts(demo_window.store, key)
    assert known, "the demo's sent mail taught nothing"
    assert shown_addresses(dialog) == [readable_address(c.address) for c in known]
    assert "info@bäckerei-müller.de (xn--bckerei-mller-bfb28a.de)" in shown_addresses(dialog)  # as the list shows it
    first = known[0]
    row = shown_addresses(dialog).index(readable_address(first.address))
    if first.written:
        assert "you wrote" in dialog.table.item(row, 2).text()
    assert not dialog.forget_button.isEnabled()  # nothing selected yet


def test_import_a_vcard_and_a_csv_then_search(qtbot, monkeypatch, demo_window, tmp_path):
    dialog = open_page(qtbot, demo_window)
    key = dialog.account_key
    vcf = tmp_path / "contacts.vcf"
    vcf.write_text(VCARD)
    threads = []
    real = contacts.import_book

    def import_book(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(contacts, "import_book", import_book)
    import_through_the_button(qtbot, monkeypatch, dialog, vcf)
    assert threads and threads[0] is not threading.main_thread()  # never on the GUI thread
    assert dialog.status.text() == "Imported 2 contacts with 3 addresses."
    assert {"anna@weber-bau.example", "anna.weber@mail.example", "jonas@brandt-holz.example"} <= \
        set(shown_addresses(dialog))
    row = shown_addresses(dialog).index("anna@weber-bau.example")
    assert dialog.table.item(row, 1).text() == "Anna Weber"
    assert dialog.table.item(row, 2).text() == "in your address book"
    csv = tmp_path / "google.csv"
    csv.write_text(GOOGLE_CSV)
    import_through_the_button(qtbot, monkeypatch, dialog, csv)
    assert dialog.status.text() == "Imported 1 contacts with 2 addresses."
    memory = demo_window.store.contacts_memory(key)
    assert memory.get("priya@shah-print.example").in_book and memory.get("p.shah@mail.example").in_book
    qtbot.keyClicks(dialog.search, "weber")
    assert sorted(shown_addresses(dialog)) == ["anna.weber@mail.example", "anna@weber-bau.example"]
    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "Priya")  # by name too
    assert sorted(shown_addresses(dialog)) == ["p.shah@mail.example", "priya@shah-print.example"]


def test_a_broken_file_says_what_is_wrong_and_changes_nothing(qtbot, monkeypatch, demo_window, tmp_path):
    dialog = open_page(qtbot, demo_window)
    before = shown_addresses(dialog)
    broken = tmp_path / "phones.csv"
    broken.write_text("Name,Phone\nAnna,0123\n")
    seen: list = []
    answer_next_dialog(QMessageBox.StandardButton.Ok, seen)
    import_through_the_button(qtbot, monkeypatch, dialog, broken)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    text, text_format = seen[0]
    assert text.startswith("This file has no column of e-mail addresses.")
    assert text_format == Qt.TextFormat.PlainText
    assert dialog.status.text() == text
    assert shown_addresses(dialog) == before
    assert dialog.import_button.isEnabled()  # ready for another try


def test_forget_one_then_everything(qtbot, monkeypatch, demo_window, tmp_path):
    dialog = open_page(qtbot, demo_window)
    key = dialog.account_key
    vcf = tmp_path / "contacts.vcf"
    vcf.write_text(VCARD)
    import_through_the_button(qtbot, monkeypatch, dialog, vcf)
    count = dialog.table.rowCount()
    row = shown_addresses(dialog).index("jonas@brandt-holz.example")
    dialog.table.selectRow(row)
    assert dialog.forget_button.isEnabled()
    seen: list = []
    answer_next_dialog(QMessageBox.StandardButton.Yes, seen)
    qtbot.mouseClick(dialog.forget_button, Qt.MouseButton.LeftButton)
    assert "jonas@brandt-holz.example" in seen[0][0]
    assert "jonas@brandt-holz.example" not in shown_addresses(dialog)
    assert demo_window.store.contacts_memory(key).get("jonas@brandt-holz.example") is None
    assert dialog.table.rowCount() == count - 1
    # the Delete key asks the same (No keeps it)
    dialog.table.selectRow(0)
    asked: list = []
    answer_next_dialog(QMessageBox.StandardButton.No, asked)
    dialog.activateWindow()
    dialog.table.setFocus()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert asked and asked[0][0].startswith("Forget ")
    assert dialog.table.rowCount() == count - 1
    # No keeps everything
    answer_next_dialog(QMessageBox.StandardButton.No)
    qtbot.mouseClick(dialog.forget_all_button, Qt.MouseButton.LeftButton)
    assert dialog.table.rowCount() == count - 1
    seen.clear()
    answer_next_dialog(QMessageBox.StandardButton.Yes, seen)
    qtbot.mouseClick(dialog.forget_all_button, Qt.MouseButton.LeftButton)
    assert f"Forget all {count - 1} correspondents of" in seen[0][0]
    assert dialog.table.rowCount() == 0
    assert len(demo_window.store.contacts_memory(key)) == 0
    assert not dialog.forget_all_button.isEnabled()
    assert dialog.status.text() == "Forgot all correspondents of Demo: Brightwater Bakery."


def test_several_accounts_get_a_chooser(qtbot, store, tmp_path):
    for key, address in (("a", "anna@weber-bau.example"), ("b", "jonas@brandt-holz.example")):
        store.learn_book(key, [(address, ["Someone Here"])])
    dialog = CorrespondentsDialog(store, [("a", "Shop"), ("b", "Home")])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.account.isVisible() and dialog.account.count() == 2
    assert shown_addresses(dialog) == ["anna@weber-bau.example"]
    dialog.account.setCurrentIndex(1)
    assert shown_addresses(dialog) == ["jonas@brandt-holz.example"]


def test_without_an_account_nothing_can_be_imported(qtbot, store):
    dialog = CorrespondentsDialog(store, [])
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.import_button.isEnabled() and not dialog.forget_all_button.isEnabled()
    assert "Add a mail account first" in dialog.status.text()


def test_everything_is_reachable_on_a_1366x768_laptop(qtbot, demo_window):
    demo_window.resize(1366 - 24, 768 - 48)
    dialog = open_page(qtbot, demo_window)
    laptop = QRect(0, 0, 1366, 728)
    assert laptop.contains(QRect(0, 0, dialog.width(), dialog.height()))
    assert dialog.minimumSizeHint().width() <= 1366 and dialog.minimumSizeHint().height() <= 728
    qtbot.wait(50)
    buttons = [b for b in dialog.findChildren(QPushButton) if b.isVisible()]
    assert {b.text() for b in buttons} >= {"Import address book…", "Forget", "Forget everything", "Close"}
    for widget in [*buttons, dialog.search, dialog.table, dialog.status]:
        corner = widget.mapTo(dialog, widget.rect().bottomRight())
        assert widget.isVisible() and corner.x() <= dialog.width() and corner.y() <= dialog.height(), widget
    for widget in (dialog.search, dialog.table, *buttons):
        assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus
