"""The main window: accounts and views on the left, the message list, the detail pane; one-click actions
on one or many messages. All mail work goes to the accounts' background workers."""

import logging
from collections.abc import Callable

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

from klezguard.application.accounts import code_sign_in_refused
from klezguard.application.service import LocalSource, local_service
from klezguard.core.visible import one_line
from klezguard.gui.about import add_help_menu
from klezguard.gui.detail import DetailPane
from klezguard.gui.dialogs import ErrorDialog
from klezguard.gui.icons import app_icon, verdict_icon
from klezguard.gui.models import MessageTableModel, Row, counts, sender_text
from klezguard.gui.safetext import PlainLabel, RichLabel, markup, message_box
from klezguard.gui.signinbox import AGAIN, BY_CODE, ask_to_sign_in
from klezguard.gui.tasks import Job
from klezguard.gui.tray import Notice
from klezguard.gui.work import AccountsWork
from klezguard.report import format_text
from klezguard.store.db import Store

log = logging.getLogger(__name__)
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


class MainWindow(QMainWindow):
    """Signals: state_changed(str) for the tray: clear, threats or error."""

    state_changed = Signal(str)
    # account key, account title, [(row id or None, Scanned)]: the messages that need a look
    new_findings = Signal(str, str, list)
    tray_hint_needed = Signal()  # the window was closed for the first time and KlezGuard stays in the tray
    said = Signal(str)  # what an action or an event came to, as the status line says it (tests wait on it)
    wave_found = Signal(str, object)  # account key, the Notice of a backscatter wave (the tray tells it too)

    def __init__(self, store: Store, services: dict, keep_in_tray: bool = False,
                 add_account: Callable[[], object] | None = None, open_settings: Callable[[], None] | None = None,
                 edit_account: Callable[[str], object] | None = None,
                 remove_account: Callable[[str], bool] | None = None,
                 sign_in_again: Callable[[str], None] | None = None,
                 sign_in_with_code: Callable[[str], None] | None = None):
        super().__init__()
        self.store = store
        self.work = AccountsWork(store, self)
        self.keep_in_tray = keep_in_tray
        self.add_account_callback = add_account
        self.open_settings_callback = open_settings
        self.edit_account_callback = edit_account
        self.remove_account_callback = remove_account
        self.sign_in_again_callback = sign_in_again
        self.sign_in_with_code_callback = sign_in_with_code
        self.asking_sign_in: set[str] = set()  # accounts whose "sign in again" box is showing (scan and watcher)
        self.quitting = False
        self.welcome_wanted = add_account is not None  # the app's window (not a bare window in a test)
        self.setWindowTitle("KlezGuard")
        self.setWindowIcon(app_icon())
        self.model = MessageTableModel(store, self)
        self._build()
        self._wire_work()
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
        self.detail.domain_requested.connect(self.show_domain)
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
        self.notice_close.clicked.connect(self._dismiss_notice)
        bar.addWidget(self.notice_icon)
        bar.addWidget(self.notice_text, 1)
        bar.addWidget(self.notice_show)
        self.notice_domain = QPushButton(tr("Your domain…"))  # shown for notices about backscatter
        self.notice_domain.clicked.connect(self._notice_domain_clicked)
        self.notice_domain.hide()
        bar.addWidget(self.notice_domain)
        self.notice_quarantine_all = QPushButton()  # shown for a backscatter wave: "Quarantine all N"
        self.notice_quarantine_all.clicked.connect(self._notice_quarantine_all_clicked)
        self.notice_quarantine_all.hide()
        bar.addWidget(self.notice_quarantine_all)
        self._notice_quarantine: list[int] = []
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
        self.correspondents_action = self._action("Correspondents…", None, self.show_correspondents,
                                                  "See whom KlezGuard knows you write with, import an address book, "
                                                  "forget someone")
        self.domain_action = self._action("Your domain…", None, lambda: self.show_domain(),
                                          "Can others send mail in your name? Check your domain and see how to stop it")
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find, self._focus_search,
                                        "Search by sender, subject or reason")
        self.quarantine_action.setIcon(verdict_icon("threat"))
        self.restore_action.setIcon(verdict_icon("clean"))
        self.tools_menu = self.menuBar().addMenu(tr("&Tools"))  # also where a crowded toolbar's last buttons are
        for action in (self.trusted_action, self.correspondents_action, self.domain_action, self.settings_action):
            self.tools_menu.addAction(action)
        self.about_action = add_help_menu(self)
        toolbar = QToolBar(tr("Actions"))
        toolbar.setObjectName("actions")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.scan_action, self.quarantine_action, self.restore_action, self.trust_action,
                       self.copy_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.open_action, self.open_mbox_action, self.add_account_action, self.trusted_action,
                       self.domain_action, self.settings_action):
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

    # --- the accounts' work ----------------------------------------------------------------------
    def _wire_work(self) -> None:
        work = self.work
        work.changed.connect(self.refresh)
        work.said.connect(self._say)
        work.new_findings.connect(self.new_findings)
        work.new_findings.connect(self._check_wave)
        work.state.connect(lambda state: self.update_state() if state == "watching" else self.state_changed.emit(state))
        work.undo_offered.connect(self.undo_button.setVisible)
        work.busy.connect(self._busy)
        work.progress.connect(self._progress)
        work.idle.connect(self._idle)
        work.failed.connect(lambda job, text: message_box(self, job.title, text))
        work.sign_in_needed.connect(self._sign_in_needed)
        work.bug.connect(lambda details: ErrorDialog(details, self).exec())

    def _sign_in_needed(self, key: str, text: str) -> None:
        """The provider no longer accepts the account's sign-in (a scan or the watcher found it): say so once,
        and offer to sign in again, in the browser or with a code where the provider allows it."""
        if key in self.asking_sign_in:
            return
        service = self.services.get(key)
        account = getattr(service, "account", None)
        by_code = (self.sign_in_with_code_callback is not None and account is not None
                   and not code_sign_in_refused(account.email, account.server.host, account.sign_in_issuer))
        self.asking_sign_in.add(key)
        try:
            choice = ask_to_sign_in(self, text, by_code, keep=lambda box: setattr(self, "sign_in_box", box))
        finally:
            self.asking_sign_in.discard(key)
        if choice == AGAIN and self.sign_in_again_callback is not None:
            self.sign_in_again_callback(key)
        elif choice == BY_CODE and self.sign_in_with_code_callback is not None:
            self.sign_in_with_code_callback(key)

    @property
    def services(self) -> dict:
        return self.work.services

    def add_service(self, service, refresh: bool = True) -> None:
        self.work.add(service)
        folders = tuple({*self.model.filter.quarantine_folders, service.quarantine_folder})
        self.model.filter.quarantine_folders = folders
        if refresh:
            self.refresh()

    def remove_service(self, key: str) -> None:
        self.work.remove(key)

    def start_watching(self) -> None:
        self.work.start_watching()

    def stop_watching(self) -> None:
        self.work.stop_watching()

    def shutdown(self) -> None:
        self.work.shutdown()

    def scan_all(self) -> None:
        self.work.scan_all()

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

    def show_correspondents(self) -> None:
        from klezguard.gui.correspondents import CorrespondentsDialog

        accounts = [(key, service.title) for key, service in self.services.items()]
        self.correspondents_dialog = CorrespondentsDialog(self.store, accounts, self)
        self.correspondents_dialog.open()

    # --- a backscatter wave (application/wave.py): said once, with "Quarantine all" -----------------
    def _check_wave(self, key: str, title: str, _items: list) -> None:
        from klezguard.application.wave import WINDOW_DAYS, WaveWatch
        from klezguard.gui.tray import wave_notice
        from klezguard.settings import ui_state

        if getattr(self, "waves", None) is None:
            self.waves = WaveWatch(ui_state().values.get("backscatter_waves_told") or {})
        wave = self.waves.check(self.store, key, self.model.filter.quarantine_folders)
        if wave is None:
            return
        ui_state().set("backscatter_waves_told", self.waves.told)
        notice = wave_notice(title, wave.count, wave.row_ids, WINDOW_DAYS)
        self.show_notice(notice, lambda: self.open_message(notice.row_ids))
        self.wave_found.emit(key, notice)

    def _notice_quarantine_all_clicked(self) -> None:
        """The wave's messages still outside the quarantine, in one move (one Undo takes it back)."""
        self.notice_bar.hide()
        ids, self._notice_quarantine = self._notice_quarantine, []
        rows = [row for row in map(self.store.message, ids) if row is not None]
        self.work.quarantine([row for row in rows if not self._quarantined(row)])

    # --- your domain (gui/domainpage.py) ----------------------------------------------------------
    domain_nameserver: str | None = None  # None: the system's resolver (tests point it at their own server)

    def show_domain(self, domain: str = "") -> None:
        """The "Your domain" page, on the given domain or the user's first; it checks again each time it opens."""
        from klezguard.application.domain import DomainMemory, service_domains
        from klezguard.gui.domainpage import DomainDialog

        if getattr(self, "domain_memory", None) is None:
            self.domain_memory = DomainMemory()
        self.domain_dialog = DomainDialog(service_domains(self.services.values()), self.domain_memory,
                                          self.domain_nameserver, self, domain=domain, store=self.store)
        self.domain_dialog.open()
        self.domain_dialog.start()

    def watch_domains(self, first_ms: int = 60_000) -> None:
        """Checks the user's domains in the background, at most once a day each; a weak one is said once."""
        from klezguard.application.domain import DomainMemory, service_domains
        from klezguard.gui.domainpage import DomainWatch

        if getattr(self, "domain_memory", None) is None:
            self.domain_memory = DomainMemory()
        self.domain_watch = DomainWatch(lambda: service_domains(self.services.values()), self.domain_memory,
                                        self.domain_nameserver, self, first_ms=first_ms, store=self.store)
        self.domain_watch.weak.connect(lambda verdicts: self._say(
            tr("Others can send mail in the name of {d}. See Your domain… for how to stop it.").format(
                d=", ".join(v.domain for v in verdicts))))

    def _untrusted_sender(self) -> None:
        self.work.rejudge_all(tr("No longer trusted: that sender's mail is checked as before."))

    def try_demo(self) -> None:
        """The demo opens in a window of its own, on a copy of its own: it never mixes with the user's mail."""
        import subprocess

        from klezguard.launch import own_command

        subprocess.Popen(own_command("--demo"))  # noqa: S603 - our own program
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

    # --- actions: the user's pick and confirmation; the work is AccountsWork's -------------------------
    def _quarantined(self, row: Row) -> bool:
        return row.folder in self.model.filter.quarantine_folders

    def quarantine_selected(self) -> None:
        self.work.quarantine([r for r in self.selected_rows() if not self._quarantined(r)])

    def restore_selected(self) -> None:
        self.work.restore([r for r in self.selected_rows() if self._quarantined(r)])

    def undo(self) -> None:
        self.work.undo()

    def delete_selected(self) -> None:
        rows = [r for r in self.selected_rows() if self._quarantined(r)]
        if not rows:
            return
        answer = message_box(
            self, tr("Delete from quarantine"),
            tr("Delete {n} message(s) from quarantine for good? They cannot be restored afterwards.").format(
                n=len(rows)),
            QMessageBox.Icon.Warning, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.work.delete(rows)

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
        self.work.not_a_threat(rows)

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

    # --- progress ------------------------------------------------------------------------------
    def _busy(self, job: Job) -> None:
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

    def _idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def cancel_work(self) -> None:
        self.work.cancel()
        self.status_text.setText(tr("Stopping… what was checked so far is kept."))

    # --- notices and closing ----------------------------------------------------------------------
    def show_notice(self, notice: Notice, on_click: Callable[[], None]) -> None:
        if self._notice_quarantine and not notice.quarantine and not self.notice_bar.isHidden():
            # a wave is in view: it keeps the bar (its one click matters most); this one goes to the status line
            self._say(one_line(f"{notice.title}: {notice.text}"))
            return
        self._notice_quarantine = list(notice.quarantine)
        self.notice_quarantine_all.setText(tr("Quarantine all {n}").format(n=len(notice.quarantine)))
        self.notice_quarantine_all.setVisible(bool(notice.quarantine))
        self.notice_icon.setPixmap(verdict_icon(notice.level).pixmap(24, 24))
        self.notice_text.setText(markup("<b>{title}</b><br>{text}", title=notice.title, text=notice.text))
        self._notice_action = on_click
        self.notice_domain.setVisible(notice.backscatter)
        self.notice_bar.show()

    def _dismiss_notice(self) -> None:
        self.notice_bar.hide()
        self._notice_quarantine = []

    def _notice_domain_clicked(self) -> None:
        self.notice_bar.hide()
        self.show_domain()

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
