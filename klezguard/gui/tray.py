"""Tray icon and notifications, behind one Notifier interface.

Where the desktop has a tray, KlezGuard lives there: the icon says the state, the menu offers Open,
Scan now, Pause watching and Quit, and new findings pop up as notifications (grouped when several
arrive at once; clicking one opens that message). Where there is no tray, notices appear inside the
window and closing the window quits.
"""

from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from klezguard.application.scan import Scanned
from klezguard.core.visible import one_line
from klezguard.gui.icons import shield_icon
from klezguard.gui.models import sender_text
from klezguard.gui.safetext import notification_text


def tr(text: str) -> str:
    return QCoreApplication.translate("Tray", text)


@dataclass
class Notice:
    title: str
    text: str
    row_ids: list[int] = field(default_factory=list)
    level: str = "suspicious"
    backscatter: bool = False  # about mail sent in the user's name: the notice offers the "Your domain" page
    quarantine: list[int] = field(default_factory=list)  # row ids it offers to quarantine at once (a wave)


class Notifier(QObject):
    """Shows notices. Signals: clicked(row_ids) when the user clicks a notice."""

    clicked = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.shown: list[Notice] = []

    def show(self, notice: Notice) -> None:
        self.shown.append(notice)


class TrayNotifier(Notifier):
    def __init__(self, tray: QSystemTrayIcon, parent=None):
        super().__init__(parent)
        self.tray = tray
        tray.messageClicked.connect(lambda: self.clicked.emit(self.shown[-1].row_ids if self.shown else []))

    def show(self, notice: Notice) -> None:
        super().show(notice)
        icon = QSystemTrayIcon.MessageIcon.Critical if notice.level == "threat" else \
            QSystemTrayIcon.MessageIcon.Warning
        self.tray.showMessage(notification_text(notice.title), notification_text(notice.text), icon, 15000)


class WindowNotifier(Notifier):
    """No tray: the main window shows the notice in its notice bar (`show_notice`)."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window

    def show(self, notice: Notice) -> None:
        super().show(notice)
        self.window.show_notice(notice, lambda: self.clicked.emit(notice.row_ids))


def _backscatter(s: Scanned) -> bool:
    return any(f.category == "backscatter" and f.score > 0 for f in s.result.findings)


def describe(account_title: str, found: list[tuple[int, Scanned]]) -> Notice:
    """One notice for one or several new findings of an account."""
    level = "threat" if any(s.result.verdict == "threat" for _, s in found) else "suspicious"
    ids = [row_id for row_id, _ in found if row_id is not None]
    backscatter = any(_backscatter(s) for _, s in found)
    if len(found) == 1:
        _, s = found[0]
        sender = sender_text(s.message.from_display, s.message.from_addr.addr if s.message.from_addr else "")
        reason = one_line(next((f.title for f in s.result.findings if f.score > 0), ""))
        word = tr("Dangerous message") if level == "threat" else tr("Suspicious message")
        return Notice(f"{word} — {account_title}", f"{sender}\n{one_line(s.message.subject)}\n{reason}", ids, level,
                      backscatter)
    found = sorted(found, key=lambda item: -item[1].result.score)  # the worst first
    threats = sum(1 for _, s in found if s.result.verdict == "threat")
    text = tr("{n} new messages need a look ({t} dangerous).").format(n=len(found), t=threats)
    subjects = "\n".join(f"• {one_line(s.message.subject)}" for _, s in found[:3])
    return Notice(tr("KlezGuard — {a}").format(a=account_title), f"{text}\n{subjects}", ids, level, backscatter)


def wave_notice(account_title: str, count: int, row_ids: list[int], days: int) -> Notice:
    """Several bounces or complaints for mail the user never sent (application/wave.py), said once."""
    return Notice(
        tr("Someone is sending mail in your name — {a}").format(a=account_title),
        tr("{n} bounces or complaints came in the last {d} days for mail you never sent. Someone else put your "
           "address on their mail. Your computer is probably not infected. What helps: see Your domain… to make "
           "other servers turn such mail away. You can move all {n} to quarantine at once.").format(
            n=count, d=days),
        row_ids, "suspicious", backscatter=True, quarantine=list(row_ids))


class NoticeGrouper(QObject):
    """Collects new findings for a moment, so that a burst of mail makes one notification."""

    def __init__(self, notifier: Notifier, level: str = "suspicious", delay_ms: int = 1200, parent=None):
        super().__init__(parent)
        self.notifier = notifier
        self.level = level
        self.pending: dict[str, tuple[str, list]] = {}
        self.told: set[tuple] = set()  # messages notified already: a scan and the watcher may both report one
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.flush)

    def add(self, account: str, account_title: str, items: list[tuple[int | None, Scanned]]) -> None:
        """items: (row id, or None when there is no need to open it, and the judged message)."""
        wanted = []
        for row_id, s in items:
            key = (s.account, s.folder, s.uidvalidity, s.uid)
            if s.result.flagged and (self.level != "threat" or s.result.verdict == "threat") and key not in self.told:
                self.told.add(key)
                wanted.append((row_id, s))
        if wanted:
            self.pending.setdefault(account, (account_title, []))[1].extend(wanted)
            self.timer.start()

    def wave(self, account: str, notice: Notice) -> None:
        """A wave of backscatter (the window says it in its notice bar): the account's bounces waiting to be
        told make this one notice instead (its other findings are told as before); a notifier that shows
        notices in the window adds nothing, as the window shows the wave already."""
        if account in self.pending:
            title, found = self.pending[account]
            rest = [(row_id, s) for row_id, s in found if not _backscatter(s)]
            if rest:
                self.pending[account] = (title, rest)
            else:
                del self.pending[account]
        if not isinstance(self.notifier, WindowNotifier):
            self.notifier.show(notice)

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for title, found in pending.values():
            self.notifier.show(describe(title, found))


class TrayController(QObject):
    """The tray icon and its menu. Signals: open_requested, scan_requested, pause_toggled(bool), quit_requested."""

    open_requested = Signal()
    scan_requested = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tray = QSystemTrayIcon(shield_icon("clear"), self)
        self.tray.setToolTip("KlezGuard")
        menu = QMenu()
        self.menu = menu
        # Connected, not passed as triggered=: a signal given as a keyword is called like a slot, which crashed
        # every item of this menu
        self.open_action = QAction(tr("Open KlezGuard"), menu)
        self.open_action.triggered.connect(self.open_requested)
        self.scan_action = QAction(tr("Scan now"), menu)
        self.scan_action.triggered.connect(self.scan_requested)
        self.pause_action = QAction(tr("Pause watching"), menu, checkable=True)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.quit_action = QAction(tr("Quit"), menu)
        self.quit_action.triggered.connect(self.quit_requested)
        for action in (self.open_action, self.scan_action, self.pause_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self.tray.setContextMenu(menu)
        self.tray.activated.connect(self._activated)
        self.state = "clear"
        self.busy = False

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def show(self) -> None:
        self.tray.show()

    def set_state(self, state: str, tooltip: str = "") -> None:
        """state: clear, threats, error, paused or unprotected (no account yet)."""
        self.state = state
        self._show_icon()
        self.tray.setToolTip("KlezGuard — " + (tooltip or {
            "clear": tr("all clear"), "threats": tr("threats are waiting"), "error": tr("a problem needs you"),
            "paused": tr("watching is paused"), "unprotected": tr("no mail account yet: nothing is watched")}[state]))

    def set_busy(self, busy: bool) -> None:
        """While mail is being checked the icon says so; dangerous mail waiting or a problem still shows."""
        self.busy = busy
        self._show_icon()

    def _show_icon(self) -> None:
        self.tray.setIcon(shield_icon("busy" if self.busy and self.state in ("clear", "paused") else self.state))
