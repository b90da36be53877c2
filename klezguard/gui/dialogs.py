"""Small dialogs: an unexpected error with copyable details, and the settings."""

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from klezguard import autostart
from klezguard.gui.safetext import PlainLabel
from klezguard.paths import log_dir
from klezguard.settings import OPTIONS, Settings


def tr(text: str) -> str:
    return QCoreApplication.translate("Dialogs", text)


class ErrorDialog(QDialog):
    """For bugs only: expected problems get a plain message instead."""

    def __init__(self, details: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Something went wrong"))
        layout = QVBoxLayout(self)
        text = PlainLabel(tr("KlezGuard ran into an unexpected problem. Your mail is safe: nothing was deleted.\n"
                         "If it happens again, copy the details below and send them to whoever helps you "
                         "with IT. The log folder is {folder}.").format(folder=log_dir()))
        text.setWordWrap(True)
        layout.addWidget(text)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setAccessibleName(tr("Error details"))
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton(tr("Copy details"))
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420)


class SettingsDialog(QDialog):
    """Edits the settings declared in klezguard.settings; each row shows the option's description."""

    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(tr("Settings"))
        form = QFormLayout(self)
        self.folders = QLineEdit(", ".join(settings.get("watched_folders")))
        self.quarantine = QLineEdit(settings.get("quarantine_folder"))
        self.keep = QSpinBox()
        self.keep.setRange(0, 3650)
        self.keep.setSpecialValueText(tr("Never: keep until I delete them"))
        self.keep.setSuffix(tr(" days"))
        self.keep.setValue(settings.get("quarantine_days"))
        self.notify = QComboBox()
        self.notify.addItem(tr("Dangerous and suspicious messages"), "suspicious")
        self.notify.addItem(tr("Only dangerous messages"), "threat")
        self.notify.setCurrentIndex(0 if settings.get("notify_level") == "suspicious" else 1)
        self.autostart = QCheckBox(tr("Start KlezGuard when I log in"))
        self.autostart.setChecked(settings.get("start_at_login"))
        self.theme = QComboBox()
        for key, label in (("system", tr("Follow my desktop")), ("light", tr("Light")), ("dark", tr("Dark"))):
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(["system", "light", "dark"].index(settings.get("theme")))
        rows = [("watched_folders", self.folders), ("quarantine_folder", self.quarantine),
                ("quarantine_days", self.keep), ("notify_level", self.notify), ("start_at_login", self.autostart),
                ("theme", self.theme)]
        labels = {"watched_folders": tr("Watched folders:"), "quarantine_folder": tr("Quarantine folder:"),
                  "quarantine_days": tr("Delete quarantined mail after:"),
                  "notify_level": tr("Notify me about:"), "start_at_login": "", "theme": tr("Look:")}
        for name, widget in rows:
            widget.setToolTip(OPTIONS[name].description)
            widget.setAccessibleName(labels[name].rstrip(":") or self.autostart.text())
            widget.setAccessibleDescription(OPTIONS[name].description)
            form.addRow(labels[name], widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        folders = [f.strip() for f in self.folders.text().split(",") if f.strip()] or ["INBOX"]
        self.settings.set("watched_folders", folders)
        self.settings.set("quarantine_folder", self.quarantine.text().strip() or OPTIONS["quarantine_folder"].default)
        self.settings.set("quarantine_days", self.keep.value())
        self.settings.set("notify_level", self.notify.currentData())
        self.settings.set("theme", self.theme.currentData())
        wanted = self.autostart.isChecked()
        self.settings.set("start_at_login", wanted)
        if wanted != autostart.is_enabled():
            autostart.enable() if wanted else autostart.disable()
        super().accept()


class AccountDialog(QDialog):
    """Edits a saved account's server settings, watched folders and (optionally) its password."""

    def __init__(self, account, parent=None):
        from PySide6.QtWidgets import QSpinBox

        super().__init__(parent)
        self.account = account
        self.setWindowTitle(tr("Account: {email}").format(email=account.email))
        form = QFormLayout(self)
        s = account.server
        self.host = QLineEdit(s.host)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(s.port)
        self.security = QComboBox()
        for key, label in (("ssl", tr("TLS (recommended)")), ("starttls", "STARTTLS"),
                           ("plain", tr("No encryption (not safe)"))):
            self.security.addItem(label, key)
        self.security.setCurrentIndex(["ssl", "starttls", "plain"].index(s.security))
        self.user = QLineEdit(s.user)
        self.cafile = QLineEdit(s.cafile or "")
        self.allow_plain = QCheckBox(tr("I understand: send my password without encryption"))
        self.allow_plain.setChecked(account.allow_plain)
        self.folders = QLineEdit(", ".join(account.folders))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(tr("(leave empty to keep the saved one)"))
        for label, widget in ((tr("Server:"), self.host), (tr("Port:"), self.port), (tr("Security:"), self.security),
                              (tr("User name:"), self.user), (tr("Certificate file:"), self.cafile),
                              ("", self.allow_plain), (tr("Watched folders:"), self.folders),
                              (tr("New password:"), self.password)):
            widget.setAccessibleName(label.rstrip(":") or self.allow_plain.text())
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def apply(self) -> str:
        """Writes the fields into the account; returns the new password ('' = unchanged)."""
        s = self.account.server
        s.host, s.port, s.security = self.host.text().strip(), self.port.value(), self.security.currentData()
        s.user, s.cafile = self.user.text().strip(), self.cafile.text().strip() or None
        self.account.allow_plain = self.allow_plain.isChecked() and s.security == "plain"
        self.account.folders = [f.strip() for f in self.folders.text().split(",") if f.strip()] or ["INBOX"]
        return self.password.text()
