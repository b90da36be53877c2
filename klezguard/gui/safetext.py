"""Text from mail is shown as text, never as markup.

A QLabel, a message box and a tooltip read any string that looks like HTML as rich text: a sender
`Your Bank <attacker@evil.example>` would show as "Your Bank" (the address, the very thing KlezGuard is
there to reveal, dropped as an unknown tag), a file name `<b>…</b>` would turn bold, and an `<img>`
pointing at /dev/zero would make the app read it for ever. So:

* every label is a `PlainLabel` (plain text whatever the string looks like);
* the few labels that format our own words use `RichLabel`, fed only through `markup()`, which escapes
  every value it is given;
* message boxes and tooltips go through `message_box()` and `tooltip()`;
* notification bodies go through `notification_text()`, safe whether or not the desktop's
  notification server reads markup.

A test keeps bare QLabel and static QMessageBox calls out of the GUI package.
"""

import html as _html
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def escape(text: str) -> str:
    """Text as HTML that shows exactly that text (line breaks kept)."""
    return _html.escape(str(text), quote=True).replace("\n", "<br>")


def markup(template: str, **values) -> str:
    """Our own HTML with every value escaped: markup("<b>{title}</b>", title=subject)."""
    return template.format(**{name: escape(value) for name, value in values.items()})


def tooltip(text: str) -> str:
    """A tooltip that shows `text` literally (Qt guesses rich text for tooltips, so it is made rich on
    purpose and escaped)."""
    return "<qt>" + escape(text) + "</qt>"


_ENTITY = re.compile(r"&(?=#?\w+;)")


def notification_text(text: str) -> str:
    """A notification body that reads the same on every desktop: some notification servers read HTML
    in it (and drop what looks like a tag, even an address in angle brackets), others show it as is.
    Angle brackets become ‹ › and an ampersand that would start an entity becomes ＆, so neither kind
    finds markup, and an address stays in view."""
    return _ENTITY.sub("＆", str(text)).replace("<", "‹").replace(">", "›")


class PlainLabel(QLabel):
    """A QLabel that never interprets its text."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)


class RichLabel(QLabel):
    """A QLabel for our own formatting; build its text with `markup()` or `escape()`."""

    def __init__(self, markup: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setText(markup)


def message_box(parent: QWidget | None, title: str, text: str, icon=QMessageBox.Icon.Warning,
                buttons=QMessageBox.StandardButton.Ok, default=QMessageBox.StandardButton.NoButton):
    """Like QMessageBox.warning/question, with the text shown as plain text. Returns the button."""
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    return QMessageBox.StandardButton(box.exec())
