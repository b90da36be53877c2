"""The detail pane: the verdict, each finding (title, explanation, advice, evidence on request), and a
safe preview of the message text. The core writes every word of the findings; this only lays them out."""


from functools import partial

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from klezguard.application.trust import stored_message
from klezguard.core.preview import preview_text
from klezguard.core.visible import one_line
from klezguard.gui.icons import verdict_icon
from klezguard.gui.models import VERDICT_WORDS, Row, sender_text
from klezguard.gui.safetext import PlainLabel, RichLabel, markup
from klezguard.gui.tasks import run_in_background
from klezguard.store.db import Store

SEVERITY_VERDICT = {"high": "threat", "medium": "suspicious", "low": "note"}
MAX_VIEWS = 30  # finding panels in the pane: enough to act on, and the window stays quick


def tr(text: str) -> str:
    return QCoreApplication.translate("DetailPane", text)


def _preview(store: Store, row_id: int) -> str:
    """Runs off the GUI thread: unpacking a stored view can take a few milliseconds."""
    msg = stored_message(store, row_id)
    return preview_text(msg) if msg is not None else tr("(The message text is not available.)")


def evidence_text(evidence: dict) -> str:
    lines = []
    for key, value in evidence.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            lines.append(one_line(f"{key}: {item}"))  # one value, one line: no value can fake another
    return "\n".join(lines)


class FindingView(QFrame):
    def __init__(self, finding: dict, parent=None, on_domain=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        icon = PlainLabel()
        icon.setPixmap(verdict_icon(SEVERITY_VERDICT.get(str(finding.get("severity", "")), "note")).pixmap(20, 20))
        icon.setAccessibleName(tr("Severity: {s}").format(s=finding.get("severity", "")))
        title = PlainLabel(one_line(finding.get("title", "")))
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        title.setWordWrap(True)
        head.addWidget(icon)
        head.addWidget(title, 1)
        layout.addLayout(head)
        explanation = PlainLabel(one_line(finding.get("explanation", "")))
        explanation.setWordWrap(True)
        explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(explanation)
        advice = RichLabel(markup("<b>{head}</b> {advice}", head=tr("What to do:"), advice=finding.get("advice", "")))
        advice.setWordWrap(True)
        layout.addWidget(advice)
        self.domain_button: QPushButton | None = None
        if finding.get("category") == "backscatter" and on_domain is not None:  # mail sent in the user's name
            self.domain_button = QPushButton(tr("Can others send mail as you? Check your domain…"))
            self.domain_button.setObjectName("domain-link")
            self.domain_button.clicked.connect(lambda: on_domain())
            layout.addWidget(self.domain_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.toggle = QToolButton()
        self.toggle.setText(tr("Show evidence"))
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName(tr("Show evidence for: {t}").format(t=finding.get("title", "")))
        self.evidence = PlainLabel(evidence_text(finding.get("evidence", {})))
        self.evidence.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.evidence.setWordWrap(True)
        self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                              | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.evidence.setVisible(False)
        self.toggle.toggled.connect(self._toggled)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.evidence)
        self.setAccessibleName(finding.get("title", ""))

    def _toggled(self, on: bool) -> None:
        self.evidence.setVisible(on)
        self.toggle.setText(tr("Hide evidence") if on else tr("Show evidence"))


def _drop_layout(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().hide()
            item.widget().deleteLater()
        elif item.layout() is not None:
            _drop_layout(item.layout())


class DetailPane(QScrollArea):
    domain_requested = Signal(str)  # a backscatter finding's "check your domain": the account's own domain

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.setWidgetResizable(True)
        self.setAccessibleName(tr("Message details"))
        self.body = QWidget()
        self.layout_ = QVBoxLayout(self.body)
        self.setWidget(self.body)
        self._pending_preview: object | None = None  # the preview being built, kept alive until it is back
        self.current: Row | None = None
        self.quarantine_folders: tuple[str, ...] = ()
        self.welcoming = False
        self.shown_hint = ""
        self.hint = ""  # what an empty pane says (the list's own all-clear, when it is empty)
        self.preview: QPlainTextEdit | None = None
        self.finding_views: list[FindingView] = []
        self.show_row(None)

    def _clear(self) -> None:
        while self.layout_.count():
            item = self.layout_.takeAt(0)
            if item is None:
                break
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
            elif (inner := item.layout()) is not None:
                _drop_layout(inner)
        self.finding_views = []
        self.preview = None

    def welcome(self, add_account: QAction, try_demo) -> None:
        """What a first start shows instead of an empty message list: what KlezGuard does and two ways in."""
        if self.welcoming:
            return
        self._clear()
        self.current = None
        self.welcoming = True
        title = PlainLabel(tr("Welcome to KlezGuard"))
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        text = PlainLabel(tr("KlezGuard checks your mail for forged senders, disguised attachments and bounces of mail "
                             "you never sent. It watches your mail account and tells you when something needs a "
                             "look. Nothing is protected yet: add your mail account to begin, or try the demo "
                             "mailbox first."))
        text.setWordWrap(True)
        add = QPushButton(tr("Add account…"))
        add.setObjectName("welcome-add")
        add.clicked.connect(add_account.trigger)
        demo = QPushButton(tr("Try the demo"))
        demo.setObjectName("welcome-demo")
        demo.clicked.connect(try_demo)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(demo)
        buttons.addStretch(1)
        for widget in (title, text):
            self.layout_.addWidget(widget)
        self.layout_.addLayout(buttons)
        self.layout_.addStretch(1)

    def show_row(self, row: Row | None) -> None:
        self._clear()
        self.welcoming = False
        self.current = row
        self.shown_hint = self.hint if row is None else ""
        if row is None:
            hint = PlainLabel(self.hint or tr("Select a message to see what KlezGuard found and why."))
            hint.setWordWrap(True)
            self.layout_.addWidget(hint)
            self.layout_.addStretch(1)
            return
        findings = [f for f in self.store.findings(row.id) if f.get("score", 0) > 0]
        banner = QHBoxLayout()
        icon = PlainLabel()
        icon.setPixmap(verdict_icon(row.verdict).pixmap(40, 40))
        word = PlainLabel(tr(VERDICT_WORDS.get(row.verdict, row.verdict)))
        font = QFont(word.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        word.setFont(font)
        summary = {
            "threat": tr("Do not open its files or links. Move it to quarantine."),
            "suspicious": tr("Something about this message is odd. Read why below before you act on it."),
            "clean": tr("KlezGuard found nothing suspicious."),
            "unchecked": tr("KlezGuard could not check this message: {why} Do not open its files unless you "
                            "expected them.").format(why=one_line(row.reason)),
        }.get(row.verdict, "")
        if row.cleared:
            word.setText(tr("Not a threat"))
            summary = tr("You marked this as not a threat. What KlezGuard found is still listed below, in case you "
                         "want to look again.")
        if row.folder in self.quarantine_folders:
            summary = tr("It is in quarantine, away from your other mail. Restore it only if you are sure it is "
                         "safe.") if row.verdict != "clean" else tr("It is in quarantine. Restore puts it back.")
        text = PlainLabel(summary)
        text.setWordWrap(True)
        banner.addWidget(icon)
        banner.addWidget(word)
        banner.addWidget(text, 1)
        self.layout_.addLayout(banner)
        # Subject and sender in labels of their own: a direction override at the end of a subject cannot
        # reach the line below it.
        subject = PlainLabel(one_line(row.subject) or tr("(no subject)"))
        bold = QFont(subject.font())
        bold.setBold(True)
        subject.setFont(bold)
        sender = PlainLabel(tr("From: {sender}").format(sender=sender_text(row.from_display, row.from_addr)))
        for meta in (subject, sender):
            meta.setWordWrap(True)
            meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.layout_.addWidget(meta)
        for finding in findings[:MAX_VIEWS]:
            view = FindingView(finding, on_domain=partial(self._domain_requested, row))
            self.finding_views.append(view)
            self.layout_.addWidget(view)
        if len(findings) > MAX_VIEWS:
            more = PlainLabel(tr("{n} more findings are not shown here. Copy report lists them all.").format(
                n=len(findings) - MAX_VIEWS))
            more.setWordWrap(True)
            self.layout_.addWidget(more)
        heading = RichLabel(markup("<b>{head}</b> {rest}", head=tr("Message text"),
                                   rest=tr("(safe preview: no pictures or web content are loaded, no file is opened)")))
        heading.setWordWrap(True)
        self.layout_.addWidget(heading)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setPlainText(tr("Loading…"))
        self.preview.setAccessibleName(tr("Message text"))
        self.preview.setMinimumHeight(160)
        self.layout_.addWidget(self.preview, 1)
        self._pending_preview = run_in_background(
            partial(_preview, self.store, row.id), partial(self._preview_ready, row.id),
            partial(self._preview_failed, row.id), self)

    def _domain_requested(self, row: Row) -> None:
        """The account's own domain ('' for a local mailbox: the page then picks the user's first domain)."""
        account = row.account if "@" in row.account and not row.account.startswith("local:") else ""
        self.domain_requested.emit(account.rpartition("@")[2])

    def _preview_failed(self, row_id: int, _text: str, _details: str) -> None:
        # a broken stored view must not break the window: the pane says so and the rest of it stays
        self._preview_ready(row_id, tr("(The message text could not be shown.)"))

    def _preview_ready(self, row_id: int, text: str) -> None:
        if self.current is not None and self.current.id == row_id and self.preview is not None:
            self.preview.setPlainText(text)
