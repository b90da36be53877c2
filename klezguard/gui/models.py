"""The message list: a table model over the local store (not a widget per row), so 100,000 messages
load in well under a second. Filtering, searching and sorting happen in the store.
"""

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QDateTime, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from klezguard.core.headers import parse_addresses
from klezguard.core.visible import one_line, readable_address
from klezguard.gui.icons import verdict_icon
from klezguard.gui.safetext import tooltip
from klezguard.store.db import Listing, Store, StoredMessage

Row = StoredMessage  # the store's one row type


def tr(text: str) -> str:
    return QCoreApplication.translate("MessageTable", text)


VERDICT_WORDS = {"clean": "OK", "suspicious": "Suspicious", "threat": "Dangerous", "unchecked": "Not checked"}
VIEWS = ("all", "suspicious", "threats", "quarantine")
CHUNK = 1000
MAX_CHUNK = 10_000


@dataclass
class Filter:
    account: str | None = None
    folder: str | None = None
    view: str = "all"
    search: str = ""
    quarantine_folders: tuple[str, ...] = ("KlezGuard Quarantine",)


def sender_text(display: str, addr: str) -> str:
    """"Name <address>" where the name is not the address itself; the address alone otherwise. On one
    line, with direction overrides shown as markers: a name can never turn the address around."""
    found = parse_addresses(display)
    name = found[0].name if found else ""
    shown = readable_address(addr)
    if name and name.lower() != addr.lower():
        return one_line(f"{name} <{shown}>" if addr else name)
    return one_line(shown or display)


class MessageTableModel(QAbstractTableModel):
    COLUMNS = ("Verdict", "From", "Subject", "Date", "Why")
    SORT_KEYS = {0: "score", 1: "sender", 2: "subject", 3: "date", 4: "reason"}

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.filter = Filter()
        self._data: list[tuple] = []  # plain tuples, loaded a chunk at a time; Row objects on demand
        self._listing = Listing()
        self._complete = True
        self.live = False  # no SQL until the window is built (each setting would reload otherwise)
        self.sort_column = 3
        self.sort_order = Qt.SortOrder.DescendingOrder
        self._senders: dict[int, str] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # --- loading --------------------------------------------------------------------------------
    def listing(self) -> Listing:
        f = self.filter
        return Listing(f.account, f.folder, f.view, f.search, tuple(f.quarantine_folders),
                       self.SORT_KEYS[self.sort_column], self.sort_order != Qt.SortOrder.AscendingOrder)

    @property
    def rows(self) -> list[Row]:
        return [Row(*t) for t in self._data]

    def reload(self) -> None:
        """Loads the first rows only; the view asks for more as the user scrolls (fetchMore), so a
        folder of 100,000 messages shows at once and a refresh never holds the window."""
        if not self.live:
            return
        listing = self.listing()
        self.beginResetModel()
        self._listing = listing
        self._data = self.store.listing(listing, CHUNK)
        self._complete = len(self._data) < CHUNK
        self._senders.clear()
        self.endResetModel()

    def canFetchMore(self, parent=None) -> bool:  # noqa: N802 - Qt's name
        return self.live and not self._complete and (parent is None or not parent.isValid())

    def fetchMore(self, parent=None) -> None:  # noqa: N802
        if not self.canFetchMore(parent):
            return
        size = min(MAX_CHUNK, max(CHUNK, len(self._data)))  # growing chunks: few queries to reach the end
        more = self.store.listing(self._listing, size, len(self._data))
        self._complete = len(more) < size
        if more:
            self.beginInsertRows(QModelIndex(), len(self._data), len(self._data) + len(more) - 1)
            self._data.extend(more)
            self.endInsertRows()

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def set_filter(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.filter, key, value)
        self.reload()

    # --- Qt model ---------------------------------------------------------------------------------
    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._data)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.COLUMNS[section])
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) != (self.sort_column, self.sort_order) or not self._data:
            self.sort_column, self.sort_order = column, order
            self.reload()

    def sender_of(self, row: Row) -> str:
        text = self._senders.get(row.id)
        if text is None:
            text = self._senders[row.id] = sender_text(row.from_display, row.from_addr)
        return text

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._data):
            return None
        row = Row(*self._data[index.row()])
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == 0:
                return tr(VERDICT_WORDS.get(row.verdict, row.verdict))
            if column == 1:
                return self.sender_of(row)
            if column == 2:
                return one_line(row.subject) or tr("(no subject)")
            if column == 3:
                return QDateTime.fromSecsSinceEpoch(int(row.date)).toString("yyyy-MM-dd HH:mm") if row.date else ""
            return row.reason
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return verdict_icon(row.verdict)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(one_line(row.reason) or tr("Nothing suspicious found."))
        if role == Qt.ItemDataRole.FontRole and row.verdict == "threat":
            return self._bold
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def row_at(self, index: QModelIndex) -> Row | None:
        return Row(*self._data[index.row()]) if index.isValid() and index.row() < len(self._data) else None

    def index_of(self, row_id: int, load_more: bool = False) -> QModelIndex:
        """The row of a message among the loaded rows (with `load_more`, loading further chunks to find it)."""
        start = 0
        while True:
            for n in range(start, len(self._data)):
                if self._data[n][0] == row_id:
                    return self.index(n, 0)
            if not load_more or not self.canFetchMore():
                return QModelIndex()
            start = len(self._data)
            self.fetchMore()


def counts(store: Store) -> dict[tuple[str, str], dict[str, int]]:
    """(account, folder) -> {"threat": n, "suspicious": n, "all": n}."""
    return store.counts()
