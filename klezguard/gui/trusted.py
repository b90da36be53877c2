"""The senders the user trusted ("not a threat"), and taking a trust back."""

import datetime
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from klezguard.application import trust
from klezguard.core.visible import one_line
from klezguard.gui.safetext import PlainLabel
from klezguard.store.db import Store


def tr(text: str) -> str:
    return QCoreApplication.translate("TrustedSenders", text)


class TrustedSendersDialog(QDialog):
    """Lists each trusted sender with the domain the provider confirmed for it. `untrusted` is called after
    a trust was taken back (the app then judges that sender's stored mail again)."""

    def __init__(self, store: Store, untrusted: Callable[[], None], parent=None):
        super().__init__(parent)
        self.store = store
        self.untrusted = untrusted
        self.setWindowTitle(tr("Trusted senders"))
        self.resize(720, 380)
        layout = QVBoxLayout(self)
        intro = PlainLabel(tr("Mail from these senders is not flagged for who sent it, as long as your provider "
                              "confirms it really comes from them. Stop trusting one to have its mail checked "
                              "as before."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([tr("Sender"), tr("Confirmed domain"), tr("Trusted since")])
        self.table.setAccessibleName(tr("Trusted senders"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.empty = PlainLabel(tr("You have not trusted any sender. Use Not a threat (Ctrl+T) on a message."))
        layout.addWidget(self.empty)
        self.remove = QPushButton(tr("Stop trusting"))
        self.remove.clicked.connect(self.stop_trusting)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.remove, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table.itemSelectionChanged.connect(self._update)
        self.fill()

    def fill(self) -> None:
        senders = trust.trusted(self.store)
        self.table.setRowCount(len(senders))
        for row, (address, domain, when) in enumerate(senders):
            for column, text in enumerate((address, domain, datetime.date.fromtimestamp(when).isoformat())):
                item = QTableWidgetItem(one_line(text))
                item.setData(Qt.ItemDataRole.UserRole, (address, domain))
                self.table.setItem(row, column, item)
        self.empty.setVisible(not senders)
        self._update()

    def _update(self) -> None:
        self.remove.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def stop_trusting(self) -> None:
        for index in self.table.selectionModel().selectedRows():
            item = self.table.item(index.row(), 0)
            if item is not None:
                trust.untrust(self.store, *item.data(Qt.ItemDataRole.UserRole))
        self.fill()
        self.untrusted()
