"""The main window: accounts and views on the left, the message list, the detail pane; one-click actions
on one or many messages. All mail work goes to the accounts' background workers."""

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QCoreApplication, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from klezguard.application.quarantine import Run, entry_ids_of, target_of
from klezguard.application.service import LocalSource, local_service
from klezguard.core.visible import one_line
from klezguard.gui.detail import DetailPane
from klezguard.gui.dialogs import ErrorDialog
from klezguard.gui.icons import app_icon, verdict_icon
from klezguard.gui.models import MessageTableModel, Row, counts, sender_text
from klezguard.gui.safetext import PlainLabel, RichLabel, markup, message_box
from klezguard.gui.tasks import AccountWorker, Job, WatchThread
from klezguard.gui.tray import Notice
from klezguard.report import format_text
from klezguard.store.db import Store

log = logging.getLogger(__name__)
NOTICE_ROWS = 20
VIEW_TITLES = {"all": "All mail", "suspicious": "Suspicious", "threats": "Threats", "quarantine": "Quarantine"}
VIEW_ICONS = {"suspicious": "suspicious", "threats": "threat", "quarantine": "paused", "all": "clean"}


def tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


def fitted_size(available: QRect | None) -> QSize:
    """1280x800 where the screen has room; on a smaller one (a 1366x768 laptop with its panel) the whole
    window, status bar included, fits on it."""
    if available is None:
        return QSize(1280, 800)
    return QSize(min(1280, available.width() - 24), min(800, available.height() - 48))


# What the accounts' workers run: (progress, cancel) -> result, each one use case of the service
def _rejudge(service, progress, cancel) -> int:
    return service.rejudge()


def _scan(service, progress, cancel) -> list:
    return service.scan(progress, cancel)


def _quarantine(service, targets, progress, cancel) -> Run:
    return service.quarantine(targets, progress, cancel)


def _not_a_threat(service, row_ids, progress, cancel):
    return service.not_a_threat(row_ids)


def _delete(service, entry_ids, progress, cancel) -> Run:
    return service.delete(entry_ids, progress)


def _undo_not_a_threat(service, outcome, progress, cancel) -> int:
    return service.undo_not_a_threat(outcome)


class MainWindow(QMainWindow):
    """Signals: state_changed(str) for the tray: clear, threats or error."""

    state_changed = Signal(str)
    # account key, account title, [(row id or None, Scanned)]: the messages that need a look
    new_findings = Signal(str, str, list)
    tray_hint_needed = Signal()  # the window was closed for the first time and KlezGuard stays in the tray
    said = Signal(str)  # what an action or an event came to, as the status line says it (tests wait on it)

    def __init__(self, store: Store, services: dict, keep_in_tray: bool = False,
                 add_account: Callable[[], object] | None = None, open_settings: Callable[[], None] | None = None,
                 edit_account: Callable[[str], object] | None = None,
                 remove_account: Callable[[str], bool] | None = None):
        super().__init__()
        self.store = store
        self.services: dict = {}
        self.workers: dict[str, AccountWorker] = {}
        self.watchers: dict[str, WatchThread] = {}
        self.keep_in_tray = keep_in_tray
        self.add_account_callback = add_account
        self.open_settings_callback = open_settings
        self.edit_account_callback = edit_account
        self.remove_account_callback = remove_account
        self.quitting = False
        self.last_moved: list[tuple[str, int]] = []
        self.last_trusted: list[tuple[str, object]] = []  # (account key, Trusted): what Undo takes back
        self.running: dict[int, Job] = {}
        self.jobs_of: dict[str, set[Job]] = {}  # account key -> its jobs not finished yet
        self.welcome_wanted = add_account is not None  # the app's window (not a bare window in a test)
        self.scanning: set[str] = set()
        self.setWindowTitle("KlezGuard")
        self.setWindowIcon(app_icon())
        self.model = MessageTableModel(store, self)
        self._build()
        for service in services.values():
            self.add_service(service, refresh=False)
        self.model.live = True
        self.refresh()

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.nav = QTreeWidget()
        self.nav.setHeaderHidden(True)
        self.nav.setAccessibleName(tr("Views and accounts"))
        self.nav.setMinimumWidth(220)
        self.nav.currentItemChanged.connect(self._nav_changed)
        self.nav.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.nav.customContextMenuRequested.connect(self._nav_menu)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("Messages"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 260, 320, 130)):
            self.table.setColumnWidth(column, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.detail = DetailPane(self.store)
        self.table.doubleClicked.connect(lambda _i: self.detail.setFocus())

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.detail)
        right.setSizes([300, 420])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.nav)
        main.addWidget(right)
        main.setSizes([240, 960])

        self.notice_bar = QFrame()
        self.notice_bar.setFrameShape(QFrame.Shape.StyledPanel)
        bar = QHBoxLayout(self.notice_bar)
        self.notice_icon = PlainLabel()
        self.notice_text = RichLabel()
        self.notice_text.setWordWrap(True)
        self.notice_show = QPushButton(tr("Show"))
        self.notice_close = QPushButton(tr("Dismiss"))
        self.notice_close.clicked.connect(self.notice_bar.hide)
        bar.addWidget(self.notice_icon)
        bar.addWidget(self.notice_text, 1)
        bar.addWidget(self.notice_show)
        bar.addWidget(self.notice_close)
        self.notice_bar.hide()
        self._notice_action: Callable | None = None
        self.notice_show.clicked.connect(self._notice_clicked)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice_bar)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self._build_actions()
        self._build_status()
        screen = self.screen() or QGuiApplication.primaryScreen()
        self.resize(fitted_size(screen.availableGeometry() if screen is not None else None))

    def _action(self, text: str, shortcut, slot, tip: str) -> QAction:
        action = QAction(tr(text), self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tr(tip)} ({keys})" if keys else tr(tip))
        action.setStatusTip(tr(tip))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.scan_action = self._action("Scan now", "F5", self.scan_all, "Check all accounts for new mail now")
        self.quarantine_action = self._action("Move to quarantine", "Ctrl+M", self.quarantine_selected,
                                              "Move the selected messages to the quarantine folder on the server")
        self.restore_action = self._action("Restore", "Ctrl+R", self.restore_selected,
                                           "Put the selected messages back where they were")
        self.delete_action = self._action("Delete from quarantine", QKeySequence.StandardKey.Delete,
                                          self.delete_selected,
                                          "Delete the selected quarantined messages for good (it asks first)")
        self.trust_action = self._action("Not a threat", "Ctrl+T", self.trust_selected,
                                         "Mark as not a threat and trust this sender (when the provider confirmed it)")
        self.copy_action = self._action("Copy report", "Ctrl+Shift+C", self.copy_report,
                                        "Copy a plain-text report of the findings, for whoever helps you with IT")
        self.open_action = self._action("Open mail folder…", QKeySequence.StandardKey.Open, self.open_mail_folder,
                                        "Check a Maildir or a folder of .eml files")
        self.open_mbox_action = self._action("Open mbox file…", "Ctrl+Shift+O", self.open_mbox_file,
                                             "Check an mbox file (as Thunderbird and many mail programs keep mail)")
        self.add_account_action = self._action("Add account…", None, self.add_account, "Add a mail account")
        self.settings_action = self._action("Settings…", "Ctrl+,", self.open_settings, "Change KlezGuard's settings")
        self.trusted_action = self._action("Trusted senders…", None, self.show_trusted,
                                           "See the senders you marked as not a threat, and stop trusting one")
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find, self._focus_search,
                                        "Search by sender, subject or reason")
        self.quarantine_action.setIcon(verdict_icon("threat"))
        self.restore_action.setIcon(verdict_icon("clean"))
        toolbar = QToolBar(tr("Actions"))
        toolbar.setObjectName("actions")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.scan_action, self.quarantine_action, self.restore_action, self.trust_action,
                       self.copy_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.open_action, self.open_mbox_action, self.add_account_action, self.trusted_action,
                       self.settings_action):
            toolbar.addAction(action)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Search sender, subject or reason"))
        self.search.setAccessibleName(tr("Search"))
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(320)
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(lambda: self._reload(search=self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy().Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(self.search)
        self.addToolBar(toolbar)
        self._update_actions()

    def _say(self, text: str) -> None:
        self.status_text.setText(text)
        self.said.emit(text)

    def _focus_search(self) -> None:
        self.search.setFocus()

    def _build_status(self) -> None:
        status = self.statusBar()
        self.status_text = PlainLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setAccessibleName(tr("Progress"))
        self.progress.hide()
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_work)
        self.undo_button = QPushButton(tr("Undo"))
        self.undo_button.hide()
        self.undo_button.clicked.connect(self.undo)
        status.addWidget(self.status_text, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.undo_button)

    # --- services and workers ---------------------------------------------------------------------
    def add_service(self, service, refresh: bool = True) -> None:
        self.services[service.key] = service
        worker = AccountWorker(service.key, self)
        worker.progress.connect(self._progress)
        worker.failed.connect(self._failed)
        worker.bug.connect(self._bug)
        worker.started.connect(self._started)
        worker.idle.connect(self._idle)
        worker.finished.connect(lambda job, _r: self._ended(job))
        worker.failed.connect(lambda job, _t, _d: self._ended(job))
        worker.bug.connect(lambda job, _d: self._ended(job))
        self.workers[service.key] = worker
        folders = tuple({*self.model.filter.quarantine_folders, service.quarantine_folder})
        self.model.filter.quarantine_folders = folders
        # Verdicts an older KlezGuard stored are judged again from the store first, without the network
        self.submit(service.key, self._rejudge_job(service))
        if refresh:
            self.refresh()

    def _rejudge_job(self, service) -> Job:
        return Job(tr("Updating verdicts"), partial(_rejudge, service), on_done=self._rejudged, quiet=True)

    def _rejudged(self, count: int) -> None:
        if count:
            self.refresh()
            self._say(tr("{n} messages were judged again by this version of KlezGuard.").format(n=count))

    def submit(self, key: str, job: Job) -> Job:
        self.jobs_of.setdefault(key, set()).add(job)
        return self.workers[key].submit(job)

    def start_watching(self) -> None:
        for key, service in self.services.items():
            if key in self.watchers or key.startswith("local:"):
                continue
            thread = WatchThread(service, self)
            thread.watch_event.connect(self._watch_event)
            self.watchers[key] = thread
            thread.start()

    def stop_watching(self) -> None:
        for thread in self.watchers.values():
            thread.stop_flag.set()
        for thread in self.watchers.values():
            thread.wait(8000)
        self.watchers.clear()

    def shutdown(self) -> None:
        self.stop_watching()
        for job in self.running.values():
            job.cancel.set()
        for worker in self.workers.values():
            worker.stop()

    # --- refreshing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._fill_nav()
        self._reload()
        self.update_state()

    def _reload(self, **changes) -> None:
        selected = {r.id for r in self.selected_rows()}
        self.model.set_filter(**changes)
        if selected:
            selection = self.table.selectionModel()
            for row_id in selected:
                index = self.model.index_of(row_id)
                if index.isValid():
                    selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        self._selection_changed()  # the pane never keeps showing a message that left the list, or old facts
        self._update_actions()

    def _fill_nav(self) -> None:
        current = self.nav.currentItem()
        current_key = current.data(0, Qt.ItemDataRole.UserRole) if current else ("view", "all")
        numbers = counts(self.store)
        quarantine = set(self.model.filter.quarantine_folders)
        totals = {"all": 0, "suspicious": 0, "threats": 0, "quarantine": 0}
        for (_account, folder), c in numbers.items():
            if folder in quarantine:
                totals["quarantine"] += c["all"]
            else:
                totals["all"] += c["all"]
                totals["suspicious"] += c["suspicious"]
                totals["threats"] += c["threat"]
        self.nav.blockSignals(True)
        self.nav.clear()
        select = None
        for view in ("all", "threats", "suspicious", "quarantine"):
            item = QTreeWidgetItem([f"{tr(VIEW_TITLES[view])} ({totals[view]})"])
            item.setIcon(0, verdict_icon(VIEW_ICONS[view]))
            item.setData(0, Qt.ItemDataRole.UserRole, ("view", view))
            self.nav.addTopLevelItem(item)
            if current_key == ("view", view):
                select = item
        accounts = QTreeWidgetItem([tr("Accounts")])
        accounts.setFlags(accounts.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        self.nav.addTopLevelItem(accounts)
        for key, service in self.services.items():
            folders = {f: c for (a, f), c in numbers.items() if a == key}
            threats = sum(c["threat"] for f, c in folders.items() if f not in quarantine)
            suspicious = sum(c["suspicious"] for f, c in folders.items() if f not in quarantine)
            item = QTreeWidgetItem([service.title])
            if threats or suspicious:
                item.setText(0, tr("{title} ({t} dangerous, {s} suspicious)").format(
                    title=service.title, t=threats, s=suspicious))
                item.setIcon(0, verdict_icon("threat" if threats else "suspicious"))
            item.setToolTip(0, tr("{t} dangerous, {s} suspicious").format(t=threats, s=suspicious))
            item.setData(0, Qt.ItemDataRole.UserRole, ("account", key))
            accounts.addChild(item)
            if current_key == ("account", key):
                select = item
            for folder, c in sorted(folders.items()):
                sub = QTreeWidgetItem([f"{folder} ({c['all']})"])
                sub.setToolTip(0, tr("{t} dangerous, {s} suspicious, {n} in all").format(
                    t=c["threat"], s=c["suspicious"], n=c["all"]))
                sub.setData(0, Qt.ItemDataRole.UserRole, ("folder", key, folder))
                item.addChild(sub)
                if current_key == ("folder", key, folder):
                    select = sub
        self.nav.expandAll()
        first = select or self.nav.topLevelItem(0)
        if first is not None:
            self.nav.setCurrentItem(first)
        self.nav.blockSignals(False)

    def _nav_changed(self, item, _previous) -> None:
        if item is None:
            return
        key = item.data(0, Qt.ItemDataRole.UserRole)
        if not key:
            return
        if key[0] == "view":
            self._reload(view=key[1], account=None, folder=None)
        elif key[0] == "account":
            self._reload(view="all", account=key[1], folder=None)
        else:
            view = "quarantine" if key[2] in self.model.filter.quarantine_folders else "all"
            self._reload(view=view, account=key[1], folder=key[2])
        self.detail.show_row(None)

    def _nav_menu(self, pos) -> None:
        item = self.nav.itemAt(pos)
        key = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if not key or key[0] != "account" or key[1].startswith("local:"):
            return
        menu = QMenu(self)
        menu.addAction(tr("Edit account…"), lambda: self.edit_account(key[1]))
        menu.addAction(tr("Remove account…"), lambda: self.remove_account(key[1]))
        menu.exec(self.nav.viewport().mapToGlobal(pos))

    def edit_account(self, key: str) -> None:
        if self.edit_account_callback:
            service = self.edit_account_callback(key)
            if service is not None:
                self.remove_service(key)
                self.add_service(service)
                self.scan_all()
                self.start_watching()  # the old watcher went with the old settings

    def remove_account(self, key: str) -> None:
        """The callback asks, stops the account's work (remove_service) and removes the account with everything
        stored for it (application.accounts)."""
        if self.remove_account_callback and self.remove_account_callback(key):
            self.remove_service(key)
            self.refresh()

    def remove_service(self, key: str) -> None:
        """Stops everything running for the account and waits for it: a scan that went on after its account
        was removed would store its mail again, under an account that no longer exists."""
        for job in self.jobs_of.pop(key, set()):
            job.cancel.set()
        watcher = self.watchers.pop(key, None)
        if watcher is not None:
            watcher.stop()
        worker = self.workers.pop(key, None)
        if worker is not None:
            worker.stop(wait_ms=60_000)
        service = self.services.pop(key, None)
        if service is not None:
            self.submit_close(service)
        self.scanning.discard(key)

    @staticmethod
    def submit_close(service) -> None:
        try:
            service.close()
        except Exception:  # noqa: BLE001 - a connection that is already gone
            log.debug("closing %s failed", getattr(service, "key", "?"))

    def select_view(self, view: str) -> None:
        for i in range(self.nav.topLevelItemCount()):
            item = self.nav.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == ("view", view):
                self.nav.setCurrentItem(item)

    def update_state(self) -> None:
        if not self.services:  # nothing is protected: never "all clear"
            self.state_changed.emit("unprotected")
            if self.welcome_wanted:
                self.detail.welcome(self.add_account_action, self.try_demo)
            return
        if self.detail.welcoming:
            self.detail.show_row(None)
        waiting = self.store.threats_outside(self.model.filter.quarantine_folders)
        self.state_changed.emit("threats" if waiting else "clear")

    def _empty_hint(self) -> str:
        """An empty list says what that means."""
        f = self.model.filter
        if f.search.strip():
            return tr("Nothing here matches your search. Messages in quarantine are searched in the Quarantine view.")
        return {"threats": tr("No dangerous messages. All clear."),
                "suspicious": tr("No suspicious messages. All clear."),
                "quarantine": tr("The quarantine is empty.")}.get(f.view, tr("No messages here yet."))

    def show_trusted(self) -> None:
        from klezguard.gui.trusted import TrustedSendersDialog

        self.trusted_dialog = TrustedSendersDialog(self.store, self._untrusted_sender, self)
        self.trusted_dialog.open()

    def _untrusted_sender(self) -> None:
        for key, service in self.services.items():  # their stored mail is judged again, in every account
            self.submit(key, self._rejudge_job(service))
        self._say(tr("No longer trusted: that sender's mail is checked as before."))

    def try_demo(self) -> None:
        """The demo opens in a window of its own, on a copy of its own: it never mixes with the user's mail."""
        import subprocess
        import sys

        subprocess.Popen([sys.executable, "-m", "klezguard", "--demo"])  # noqa: S603 - our own program
        self._say(tr("The demo opens in a new window. It is a copy: try anything there."))

    # --- selection ------------------------------------------------------------------------------
    def selected_rows(self) -> list[Row]:
        rows = []
        for index in self.table.selectionModel().selectedRows():
            row = self.model.row_at(index)
            if row is not None:
                rows.append(row)
        return rows

    def _selection_changed(self, *_args) -> None:
        if not self.services and self.welcome_wanted:
            return  # the welcome stays until there is an account
        self.detail.hint = self._empty_hint() if self.model.rowCount() == 0 else ""
        rows = self.selected_rows()
        self.detail.quarantine_folders = self.model.filter.quarantine_folders
        row = rows[0] if len(rows) == 1 else None
        if row != self.detail.current or (row is None and self.detail.hint != self.detail.shown_hint):
            self.detail.show_row(row)
        self._update_actions()

    def _update_actions(self) -> None:
        rows = self.selected_rows() if hasattr(self, "table") else []
        quarantined = [r for r in rows if r.folder in self.model.filter.quarantine_folders]
        self.quarantine_action.setEnabled(bool(rows) and len(quarantined) < len(rows))
        self.restore_action.setEnabled(bool(quarantined))
        self.delete_action.setEnabled(bool(quarantined))
        self.trust_action.setEnabled(any(r.verdict != "clean" for r in rows))
        self.copy_action.setEnabled(bool(rows))

    def open_message(self, row_ids: list[int]) -> None:
        """Shows the window with these messages selected (a notification was clicked)."""
        self.bring_up()
        self.select_view("all")
        if row_ids and not self.model.index_of(row_ids[0], load_more=True).isValid():
            self.select_view("quarantine")
        self.table.clearSelection()
        selection = self.table.selectionModel()
        for row_id in row_ids:
            index = self.model.index_of(row_id, load_more=True)
            if index.isValid():
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
                self.table.scrollTo(index)
        self.table.setFocus()

    def bring_up(self) -> None:
        """Shows the window as the user left it (maximized stays maximized), in front."""
        if self.isMinimized():
            self.showNormal()
        else:
            self.show()
        self.raise_()
        self.activateWindow()

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for action in (self.quarantine_action, self.restore_action, self.delete_action, self.trust_action,
                       self.copy_action):
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # --- actions --------------------------------------------------------------------------------
    def scan_all(self) -> None:
        for key, service in self.services.items():
            if key in self.scanning:
                continue
            self.scanning.add(key)
            job = Job(tr("Checking {t}").format(t=service.title), partial(_scan, service),
                      on_done=partial(self._scanned, key), on_error=partial(self._scan_failed, key), cancellable=True)
            self.submit(key, job)

    def _scan_failed(self, key: str, _text: str) -> None:
        self.scanning.discard(key)

    def _scanned(self, key: str, found: list) -> None:
        self.scanning.discard(key)
        self.refresh()
        flagged = [s for s in found if s.result.flagged]
        service = self.services.get(key)
        checked = getattr(service, "last_count", len(found))
        notes = list(dict.fromkeys(service.notes)) if service is not None else []
        if service is not None:
            service.notes.clear()  # what recovering an interrupted move found: said once, after the scan
        unchecked = sum(1 for s in found if getattr(s, "unchecked", False))
        text = tr("{n} new messages checked, {f} need a look.").format(n=checked, f=len(flagged))
        if unchecked:
            text += " " + tr("{u} could not be checked (listed as Not checked).").format(u=unchecked)
        self._say(" ".join([text, *notes]))
        if flagged:
            # Row ids (for "open this message") only for the worst few: a first scan can flag thousands, and
            # a look-up each would hold the window.
            flagged.sort(key=lambda s: -s.result.score)
            items = [(self._row_id(s) if n < NOTICE_ROWS else None, s) for n, s in enumerate(flagged)]
            self.new_findings.emit(key, self.services[key].title, items)

    def _row_id(self, scanned) -> int | None:
        return self.store.row_id(scanned.account, scanned.folder, scanned.uidvalidity, scanned.uid)

    def _by_account(self, rows: list[Row]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for row in rows:
            if row.account in self.services:
                grouped.setdefault(row.account, []).append(row)
        return grouped

    def quarantine_selected(self) -> None:
        rows = [r for r in self.selected_rows() if r.folder not in self.model.filter.quarantine_folders]
        for key, group in self._by_account(rows).items():
            service = self.services[key]
            targets = [target_of(r) for r in group]
            self.submit(key, Job(tr("Moving to quarantine"), partial(_quarantine, service, targets),
                                 on_done=partial(self._moved, key)))

    def _said(self, key: str, text: str, run: Run) -> None:
        service = self.services.get(key)
        notes = list(dict.fromkeys([*run.notes, *(service.notes if service is not None else [])]))
        if service is not None:
            service.notes.clear()
        self._say(" ".join([text, *notes]))

    def _moved(self, key: str, run: Run) -> None:
        self.last_moved = [(key, e.id) for e in run.done]
        self.last_trusted = []
        self.refresh()
        text = tr("Moved {n} message(s) to {folder}.").format(n=len(run.done),
                                                             folder=self.services[key].quarantine_folder)
        if run.failed:
            text += " " + tr("{n} could not be moved: {why}").format(n=len(run.failed), why=run.failed[0][1])
        self._said(key, text, run)
        self.undo_button.setVisible(bool(run.done))

    def _forget_undo(self) -> None:
        """An Undo offers to take back the last action only while nothing else was done since."""
        self.last_moved = []
        self.last_trusted = []
        self.undo_button.hide()

    def undo(self) -> None:
        """Takes back the last move to quarantine, or the last "not a threat"."""
        if self.last_trusted:
            self.undo_not_a_threat()
        else:
            self.undo_move()

    def undo_not_a_threat(self) -> None:
        done, self.last_trusted = self.last_trusted, []
        self.undo_button.hide()
        for key, outcome in done:
            if key in self.services:
                self.submit(key, Job(tr("Taking back 'not a threat'"),
                                     partial(_undo_not_a_threat, self.services[key], outcome),
                                     on_done=self._untrusted))

    def _untrusted(self, _count: int) -> None:
        self.refresh()
        for key, service in self.services.items():  # the other accounts' mail from that sender, too
            self.submit(key, self._rejudge_job(service))
        self._say(tr("Taken back: KlezGuard's own verdict applies again."))

    def undo_move(self) -> None:
        moved, self.last_moved = self.last_moved, []
        self.undo_button.hide()
        grouped: dict[str, list[int]] = {}
        for key, entry_id in moved:
            grouped.setdefault(key, []).append(entry_id)
        for key, ids in grouped.items():
            self._restore(key, ids)

    def restore_selected(self) -> None:
        self._forget_undo()
        rows = [r for r in self.selected_rows() if r.folder in self.model.filter.quarantine_folders]
        for key, group in self._by_account(rows).items():
            ids = entry_ids_of(self.store, key, group)
            if ids:
                self._restore(key, ids)

    def _restore(self, key: str, entry_ids: list[int]) -> None:
        service = self.services[key]

        def restored(run: Run) -> None:
            self.refresh()
            text = tr("Restored {n} message(s).").format(n=len(run.done))
            if run.failed:
                text += " " + tr("{n} could not be restored: {why}").format(n=len(run.failed), why=run.failed[0][1])
            self._said(key, text, run)

        self.submit(key, Job(tr("Restoring"), lambda progress, cancel: service.restore(entry_ids, progress),
                             on_done=restored))

    def delete_selected(self) -> None:
        rows = [r for r in self.selected_rows() if r.folder in self.model.filter.quarantine_folders]
        if not rows:
            return
        answer = message_box(
            self, tr("Delete from quarantine"),
            tr("Delete {n} message(s) from quarantine for good? They cannot be restored afterwards.").format(
                n=len(rows)),
            QMessageBox.Icon.Warning, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._forget_undo()
        for key, group in self._by_account(rows).items():
            ids = entry_ids_of(self.store, key, group)
            if ids:
                self.submit(key, Job(tr("Deleting"), partial(_delete, self.services[key], ids),
                                     on_done=partial(self._deleted, key)))

    def _deleted(self, key: str, run: Run) -> None:
        self.refresh()
        text = tr("Deleted {n} message(s) from quarantine.").format(n=len(run.done))
        if run.failed:
            text += " " + tr("{n} could not be deleted: {why}").format(n=len(run.failed), why=run.failed[0][1])
        self._said(key, text, run)

    def trust_selected(self) -> None:
        rows = [r for r in self.selected_rows() if r.verdict != "clean"]
        dangerous = [r for r in rows if r.verdict == "threat"]
        if dangerous:  # one key must not wave away what KlezGuard found dangerous
            answer = message_box(
                self, tr("Not a threat?"),
                tr("KlezGuard found {n} of these dangerous: {why}. Mark them as not a threat anyway? Do this only if "
                   "you know the sender sent it. You can take it back with Undo.").format(
                    n=len(dangerous), why=one_line(dangerous[0].reason) or tr("see the findings")),
                QMessageBox.Icon.Warning, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._forget_undo()
        for key, group in self._by_account(rows).items():
            service = self.services[key]
            ids = [r.id for r in group]
            self.submit(key, Job(tr("Trusting the sender"), partial(_not_a_threat, service, ids),
                                 on_done=partial(self._trusted, key)))

    def _trusted(self, key: str, outcome) -> None:
        self.refresh()
        self.last_trusted.append((key, outcome))
        self.undo_button.show()
        if outcome.senders:  # that sender's mail in the other accounts is judged again too
            for key, service in self.services.items():
                self.submit(key, self._rejudge_job(service))
        parts = []
        if outcome.senders:
            parts.append(tr("Trusted {s}: its later mail is not flagged for who sent it.").format(
                s=", ".join(sorted({a for a, _ in outcome.senders}))))
        if outcome.cleared:
            parts.append(tr("Marked as not a threat.") + (" " + outcome.why_cleared if outcome.why_cleared else ""))
        self._say(" ".join(parts))

    def report_text(self, rows: list[Row]) -> str:
        blocks = []
        for row in rows:
            findings = self.store.findings(row.id)
            title = self.services[row.account].title if row.account in self.services else row.account
            blocks.append(format_text(f"{title} / {row.folder}", row.subject,
                                      sender_text(row.from_display, row.from_addr), row.verdict, findings,
                                      note=row.reason))
        return ("KlezGuard report\n\n" + "\n\n".join(blocks)) if blocks else ""

    def copy_report(self) -> None:
        text = self.report_text(self.selected_rows())
        if text:
            QGuiApplication.clipboard().setText(text)
            self._say(tr("The report is on the clipboard. Paste it into a mail or a chat."))

    def open_mail_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Open a mail folder (Maildir or a folder of .eml files)"))
        if path:  # cancelled: nothing else opens
            self._open_local(path)

    def open_mbox_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, tr("Open an mbox file"))
        if path:
            self._open_local(path)

    def _open_local(self, path: str) -> None:
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        service = local_service(LocalSource(tr("Local: {n}").format(n=name), [path], [], [], []), self.store)
        self.add_service(service)
        self.scan_all()

    def add_account(self) -> None:
        if self.add_account_callback:
            service = self.add_account_callback()
            if service is not None:
                self.add_service(service)
                self.scan_all()
                self.start_watching()

    def open_settings(self) -> None:
        if self.open_settings_callback:
            self.open_settings_callback()

    # --- worker feedback --------------------------------------------------------------------------
    def _started(self, job: Job) -> None:
        self.running[id(job)] = job
        if job.quiet:
            return
        self.status_text.setText(job.title + "…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.setVisible(job.cancellable)

    def _progress(self, job: Job, text: str, done: int, total: int) -> None:
        if job.quiet:
            return
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status_text.setText(f"{job.title}: {text} {done}/{total}" if total else job.title)

    def _ended(self, job: Job) -> None:
        self.running.pop(id(job), None)
        for jobs in self.jobs_of.values():
            jobs.discard(job)

    def _idle(self) -> None:
        if not any(w.pending for w in self.workers.values()):
            self.progress.hide()
            self.cancel_button.hide()

    def cancel_work(self) -> None:
        for job in self.running.values():
            job.cancel.set()
        self.status_text.setText(tr("Stopping… what was checked so far is kept."))

    def _failed(self, job: Job, text: str, details: str) -> None:
        log.info("job %s failed: %s (%s)", job.title, text, details)
        self._say(text)
        self.state_changed.emit("error")
        message_box(self, job.title, text)

    def _bug(self, job: Job, details: str) -> None:
        self.state_changed.emit("error")
        ErrorDialog(details, self).exec()

    def _watch_event(self, event) -> None:
        service = self.services.get(event.account)
        if event.kind == "new" and event.scanned is not None:
            self.refresh()
            row_id = self._row_id(event.scanned)
            if row_id is not None and event.scanned.result.flagged:
                self.new_findings.emit(event.account, service.title if service else event.account,
                                       [(row_id, event.scanned)])
        elif event.kind == "error":
            self._say(event.text)
            self.state_changed.emit("error")
        elif event.kind == "watching":
            self._say(tr("Watching {t} for new mail.").format(t=service.title if service else ""))
            self.update_state()

    # --- notices and closing ----------------------------------------------------------------------
    def show_notice(self, notice: Notice, on_click: Callable[[], None]) -> None:
        self.notice_icon.setPixmap(verdict_icon(notice.level).pixmap(24, 24))
        self.notice_text.setText(markup("<b>{title}</b><br>{text}", title=notice.title, text=notice.text))
        self._notice_action = on_click
        self.notice_bar.show()

    def _notice_clicked(self) -> None:
        self.notice_bar.hide()
        if self._notice_action:
            self._notice_action()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.keep_in_tray and not self.quitting:
            event.ignore()
            self.hide()
            from klezguard.settings import ui_state

            state = ui_state()
            if not state.values.get("tray_hint_shown"):
                state.set("tray_hint_shown", True)
                self.tray_hint_needed.emit()
            return
        self.shutdown()
        event.accept()
