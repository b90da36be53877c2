"""The Correspondents page: what KlezGuard remembers of whom the user writes with (application/contacts.py),
an address book to import, and forgetting one or all. Nothing here leaves the computer."""

import datetime
from functools import partial

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from klezguard.application import contacts
from klezguard.core.visible import one_line, readable_address
from klezguard.errors import KnownError
from klezguard.gui.dialogs import ErrorDialog
from klezguard.gui.safetext import PlainLabel, message_box, tooltip
from klezguard.gui.tasks import run_in_background
from klezguard.store.db import Store


def tr(text: str) -> str:
    return QCoreApplication.translate("Correspondents", text)


BOOK_FILTER = "Address books (*.vcf *.vcard *.csv);;All files (*)"


def _import(store: Store, account: str, path: str) -> contacts.Imported:
    """On the thread pool: a broken file is a known error, said as the import says it."""
    try:
        return contacts.import_book(store, account, path)
    except contacts.BookError as exc:
        raise KnownError(str(exc)) from exc


def how_known(c) -> str:
    """"you wrote 3 times; wrote to you 5 times; in your address book"."""
    parts = []
    if c.written:
        parts.append(tr("you wrote {n} times").format(n=c.written) if c.written > 1 else tr("you wrote once"))
    if c.received:
        parts.append(tr("wrote to you {n} times").format(n=c.received) if c.received > 1 else
                     tr("wrote to you once"))
    if c.in_book:
        parts.append(tr("in your address book"))
    return "; ".join(parts)


class CorrespondentsDialog(QDialog):
    """`accounts`: (key, title) of the window's accounts; a chooser shows when there are several."""

    def __init__(self, store: Store, accounts: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.store = store
        self.accounts = accounts
        self.known: list = []
        self._call: object | None = None  # the running import (kept alive until it reports)
        self.setWindowTitle(tr("Correspondents"))
        self.resize(940, 540)
        layout = QVBoxLayout(self)
        intro = PlainLabel(tr("The people you write with, as KlezGuard learnt them from your sent mail, the mail it "
                              "checked and address books you import. It uses them to spot mail that uses a known "
                              "name from the wrong address. This list stays on this computer: nothing is sent "
                              "anywhere."))
        self.intro = intro
        intro.setWordWrap(True)
        layout.addWidget(intro)

        top = QHBoxLayout()
        self.account_label = PlainLabel(tr("Account:"))
        self.account = QComboBox()
        self.account.setAccessibleName(tr("Account"))
        for key, title in accounts:
            self.account.addItem(one_line(title), key)
        self.account_label.setBuddy(self.account)
        self.account.currentIndexChanged.connect(lambda _i: self.fill())
        several = len(accounts) > 1
        self.account_label.setVisible(several)
        self.account.setVisible(several)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Search address or name"))
        self.search.setAccessibleName(tr("Search correspondents"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._filter())
        top.addWidget(self.account_label)
        top.addWidget(self.account, 1)
        top.addWidget(self.search, 2)
        layout.addLayout(top)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([tr("Address"), tr("Names"), tr("What KlezGuard knows"), tr("Since")])
        self.table.setAccessibleName(tr("Correspondents"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 300), (1, 200), (3, 100)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)
        self.status = PlainLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.import_button = QPushButton(tr("Import address book…"))
        self.import_button.setToolTip(tr("A vCard file (.vcf) or a CSV export of Thunderbird, Outlook or Google "
                                         "Contacts"))
        self.import_button.clicked.connect(self.import_book)
        self.forget_button = QPushButton(tr("Forget"))
        self.forget_button.clicked.connect(self.forget_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.forget_selected)
        self.forget_all_button = QPushButton(tr("Forget everything"))
        self.forget_all_button.clicked.connect(self.forget_everything)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.import_button, self.forget_button, self.forget_all_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table.itemSelectionChanged.connect(self._update)
        self.fill()

    # --- what is known ----------------------------------------------------------------------------
    @property
    def account_key(self) -> str | None:
        key = self.account.currentData()
        return str(key) if key is not None else None

    def fill(self, said: str = "") -> None:
        key = self.account_key
        self.known = contacts.contacts(self.store, key) if key else []
        self.table.setRowCount(len(self.known))
        for row, c in enumerate(self.known):
            names = ", ".join(name for name, _times in c.names.most_common(3))
            since = datetime.date.fromtimestamp(c.first).isoformat() if c.first else ""
            for column, text in enumerate((readable_address(c.address), names, how_known(c), since)):
                item = QTableWidgetItem(one_line(text))
                item.setData(Qt.ItemDataRole.UserRole, c.address)
                if column < 2:  # long addresses and names are cut in the column: the tooltip has them whole
                    item.setToolTip(tooltip(one_line(text)))
                self.table.setItem(row, column, item)
        self._filter()
        if said:
            self.status.setText(said)
        elif key is None:
            self.status.setText(tr("Add a mail account first: the correspondents belong to an account."))
        elif not self.known:
            self.status.setText(tr("KlezGuard knows no correspondents of this account yet. A scan reads your sent "
                                   "mail; you can also import an address book."))
        else:
            self.status.setText(tr("{n} correspondents.").format(n=len(self.known)))
        self._update()

    def _filter(self) -> None:
        words = self.search.text().strip().casefold().split()
        for row in range(self.table.rowCount()):
            items = (self.table.item(row, column) for column in (0, 1))
            text = " ".join(item.text() for item in items if item is not None).casefold()
            self.table.setRowHidden(row, not all(w in text for w in words))

    def selected_addresses(self) -> list[str]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        items = [self.table.item(row, 0) for row in sorted(rows) if not self.table.isRowHidden(row)]
        return [str(item.data(Qt.ItemDataRole.UserRole)) for item in items if item is not None]

    def _update(self) -> None:
        has_account = self.account_key is not None
        self.import_button.setEnabled(has_account and self._call is None)
        self.forget_button.setEnabled(bool(self.selected_addresses()))
        self.forget_all_button.setEnabled(bool(self.known))

    # --- import -----------------------------------------------------------------------------------
    def import_book(self) -> None:
        key = self.account_key
        if key is None:
            return
        path, _filter = QFileDialog.getOpenFileName(self, tr("Import an address book"), "", tr(BOOK_FILTER))
        if not path:
            return
        self.status.setText(tr("Importing {f}…").format(f=one_line(path.rsplit("/", 1)[-1])))
        self._call = run_in_background(partial(_import, self.store, key, path), partial(self._imported, key),
                                       self._import_failed, self)
        self._update()

    def _imported(self, key: str, done: contacts.Imported) -> None:
        self._call = None
        said = tr("Imported {n} contacts with {m} addresses.").format(n=done.entries, m=done.addresses)
        if key == self.account_key:
            self.fill(said)
        else:
            self.status.setText(said)
            self._update()

    def _import_failed(self, text: str, details: str) -> None:
        self._call = None
        self._update()
        if not text:  # a bug: the traceback goes to the error dialog
            self.status.setText(tr("The address book could not be imported."))
            ErrorDialog(details, self).exec()
            return
        self.status.setText(text)
        message_box(self, tr("Import address book"), text)

    # --- forget -----------------------------------------------------------------------------------
    def forget_selected(self) -> None:
        key, addresses = self.account_key, self.selected_addresses()
        if key is None or not addresses:
            return
        question = (tr("Forget {a}? KlezGuard learns again from new mail with them.").format(a=addresses[0])
                    if len(addresses) == 1 else
                    tr("Forget these {n} correspondents? KlezGuard learns again from new mail with them.").format(
                        n=len(addresses)))
        if self._confirmed(tr("Forget"), question):
            for address in addresses:
                contacts.forget(self.store, key, address)
            self.fill(tr("Forgot {n}.").format(n=len(addresses)))

    def forget_everything(self) -> None:
        key = self.account_key
        if key is None or not self.known:
            return
        title = self.account.currentText()
        question = tr("Forget all {n} correspondents of {a}? KlezGuard then knows nobody until it learns again from "
                      "new mail, so it cannot spot mail that uses a known name for a while.").format(
            n=len(self.known), a=title)
        if self._confirmed(tr("Forget everything"), question):
            contacts.forget_all(self.store, key)
            self.fill(tr("Forgot all correspondents of {a}.").format(a=title))

    def _confirmed(self, title: str, question: str) -> bool:
        answer = message_box(self, title, question, QMessageBox.Icon.Question,
                             QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                             QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
