"""The "Your domain" page: can someone send mail in your name, and the steps to stop it.

Opened from the toolbar, from every backscatter finding and from a notice about backscatter. It shows the
last answer at once and checks again in the background (DNS can take seconds; the window never waits).
Every word comes from `core.domainadvice`; this only lays it out, with a Copy button for each record.
"""

from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from klezguard.application.domain import (
    DAY,
    FREEMAIL,
    PROTECTED,
    UNCHECKED,
    WEAK,
    DomainMemory,
    Verdict,
    check_due,
    check_own_domain,
)
from klezguard.core.visible import one_line
from klezguard.gui.detail import _drop_layout
from klezguard.gui.icons import verdict_icon
from klezguard.gui.safetext import PlainLabel
from klezguard.gui.tasks import run_in_background

OUTCOME_ICONS = {PROTECTED: "clean", FREEMAIL: "note", UNCHECKED: "paused"}


def tr(text: str) -> str:
    return QCoreApplication.translate("DomainPage", text)


class DomainDialog(QDialog):
    """Signals: checked(Verdict) each time a check came back (tests wait on it)."""

    checked = Signal(object)

    def __init__(self, domains: list[tuple[str, str]], memory: DomainMemory, nameserver: str | None = None,
                 parent: QWidget | None = None, domain: str = "", store=None):
        super().__init__(parent)
        self.store = store  # the stored mail: DKIM selectors seen in the user's own mail
        self.setWindowTitle(tr("Your domain"))
        self.setObjectName("domain-page")
        self.memory = memory
        self.nameserver = nameserver
        self.addresses = dict(domains)
        self._pending: object | None = None  # the running check's signals, kept alive until it is back
        self.verdict: Verdict | None = None
        layout = QVBoxLayout(self)
        intro = PlainLabel(tr("Can someone send mail that looks like it comes from you? Your domain can tell the "
                              "world's mail servers to turn such fakes away. Here is how yours does."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.domain_box = QComboBox()
        self.domain_box.setEditable(True)
        self.domain_box.setAccessibleName(tr("Domain"))
        self.domain_box.addItems([d for d, _a in domains])
        if domain:
            self.domain_box.setCurrentText(domain)
        self.domain_box.setMinimumWidth(280)
        self.domain_box.activated.connect(lambda _i: self.check_now())
        line_edit = self.domain_box.lineEdit()
        if line_edit is not None:
            line_edit.returnPressed.connect(self.check_now)
        self.check_button = QPushButton(tr("Check now"))
        self.check_button.setObjectName("domain-check")
        self.check_button.setAutoDefault(False)
        self.check_button.clicked.connect(self.check_now)
        row.addWidget(self.domain_box, 1)
        row.addWidget(self.check_button)
        layout.addLayout(row)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setAccessibleName(tr("Checking"))
        self.busy.setMaximumHeight(12)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.status = PlainLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.result_area = QScrollArea()
        self.result_area.setWidgetResizable(True)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.result_area.setWidget(self.body)
        layout.addWidget(self.result_area, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, 560)

    # --- checking ---------------------------------------------------------------------------------
    @property
    def domain(self) -> str:
        return self.domain_box.currentText().strip().rpartition("@")[2].lower()

    def start(self) -> None:
        """Shows the last answer (if any) and checks again: the page is re-checked each time it opens."""
        last = self.memory.last(self.domain) if self.domain else None
        if last is not None:
            self.show_verdict(last, stale=True)
        self.check_now()

    def check_now(self) -> None:
        domain = self.domain
        if not domain:
            self.status.setText(tr("Type your domain, like example.com, and press Check now."))
            return
        self.busy.show()
        self.check_button.setEnabled(False)
        self.status.setText(tr("Checking {domain}…").format(domain=domain))
        self._pending = run_in_background(
            partial(check_own_domain, domain, self.store, self.nameserver, self.addresses.get(domain, "")),
            partial(self._done, domain), partial(self._failed, domain), self)

    def _done(self, domain: str, verdict: Verdict) -> None:
        self._pending = None
        self.busy.hide()
        self.check_button.setEnabled(True)
        self.memory.remember(verdict)
        if domain == self.domain:
            self.status.setText("")
            self.show_verdict(verdict)
        self.checked.emit(verdict)

    def _failed(self, domain: str, text: str, details: str) -> None:
        self._pending = None
        self.busy.hide()
        self.check_button.setEnabled(True)
        self.status.setText(text or tr("The check failed (a bug). Please try again."))

    # --- showing ----------------------------------------------------------------------------------
    def _clear(self) -> None:
        _drop_layout(self.body_layout)

    def _label(self, text: str, bold: bool = False, scale: float = 1.0) -> QLabel:
        label = PlainLabel(one_line(text))
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if bold or scale != 1.0:
            font = QFont(label.font())
            font.setBold(bold)
            font.setPointSizeF(font.pointSizeF() * scale)
            label.setFont(font)
        self.body_layout.addWidget(label)
        return label

    def show_verdict(self, verdict: Verdict, stale: bool = False) -> None:
        self._clear()
        self.verdict = verdict
        self.record_fields: list[QLineEdit] = []
        self.copy_buttons: list[QPushButton] = []
        head = QHBoxLayout()
        icon = PlainLabel()
        icon.setPixmap(verdict_icon(OUTCOME_ICONS.get(verdict.outcome, "suspicious")).pixmap(32, 32))
        head.addWidget(icon)
        self.headline = PlainLabel(one_line(verdict.headline))
        self.headline.setObjectName("domain-headline")
        self.headline.setWordWrap(True)
        font = QFont(self.headline.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.headline.setFont(font)
        head.addWidget(self.headline, 1)
        self.body_layout.addLayout(head)
        if stale:
            self._label(tr("(This is the last answer. KlezGuard is checking again.)"))
        for problem in verdict.problems:
            self._label("• " + problem)
        if verdict.steps:
            self._label(tr("What to do"), bold=True)
            number = 0
            for step in verdict.steps:
                if step.text:
                    number += 1
                    self._label(f"{number}. {step.text}")
                if step.record:
                    self._record(step.where, step.record)
        if verdict.notes:
            self._label(tr("Details"), bold=True)
            for note in verdict.notes:
                self._label("– " + note)
        self.body_layout.addStretch(1)

    def _record(self, where: str, record: str) -> None:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(16, 0, 0, 0)
        name = PlainLabel(one_line(f"{where}  TXT"))
        field = QLineEdit(record)
        field.setReadOnly(True)
        field.setAccessibleName(tr("Record for {where}").format(where=where))
        field.setCursorPosition(0)
        copy = QPushButton(tr("Copy"))
        copy.setAutoDefault(False)
        copy.setAccessibleName(tr("Copy the record for {where}").format(where=where))
        copy.clicked.connect(partial(self._copy, record))
        line.addWidget(name)
        line.addWidget(field, 1)
        line.addWidget(copy)
        self.record_fields.append(field)
        self.copy_buttons.append(copy)
        self.body_layout.addWidget(row)

    def _copy(self, record: str) -> None:
        QGuiApplication.clipboard().setText(record)
        self.status.setText(tr("Copied. Paste it as a TXT record in your DNS settings."))


class DomainWatch(QObject):
    """The background check of the user's own domains: at most once a day per domain, never on the GUI
    thread. Signal: weak(list of Verdict) when one of them is not protected."""

    weak = Signal(list)
    done = Signal(list)

    def __init__(self, domains, memory: DomainMemory, nameserver: str | None = None, parent: QObject | None = None,
                 first_ms: int = 60_000, store=None):
        super().__init__(parent)
        self.store = store
        self.domains = domains  # a callable giving (domain, address) pairs: accounts come and go
        self.memory = memory
        self.nameserver = nameserver
        self._pending: object | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(3600 * 1000)  # looks hourly; `check_due` lets through only day-old answers
        self.timer.timeout.connect(self.run)
        QTimer.singleShot(first_ms, self.run)
        self.timer.start()

    def run(self) -> None:
        if self._pending is not None:
            return
        pairs = [(d, a) for d, a in self.domains() if self.memory.due(d)]
        if not pairs:
            return
        self._pending = run_in_background(partial(check_due, pairs, self.memory, self.nameserver, store=self.store),
                                          self._done, self._failed, self)

    def _done(self, verdicts: list) -> None:
        self._pending = None
        self.done.emit(verdicts)
        weak = [v for v in verdicts if v.outcome == WEAK]
        if weak:
            self.weak.emit(weak)

    def _failed(self, _text: str, _details: str) -> None:
        self._pending = None


__all__ = ["DAY", "DomainDialog", "DomainWatch"]
