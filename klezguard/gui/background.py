"""Small one-off background calls (a look-up, a test login) whose result comes back on the GUI thread."""

import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from klezguard.errors import KnownError


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str, str)  # plain text (empty for a bug), details


class _Call(QRunnable):
    def __init__(self, fn: Callable, signals: _Signals):
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        try:
            result = self.fn()
        except KnownError as exc:
            self.signals.failed.emit(exc.text(), exc.detail)
        except Exception as exc:  # noqa: BLE001 - reported in the error dialog by the caller
            self.signals.failed.emit("", "".join(traceback.format_exception(exc)))
        else:
            self.signals.done.emit(result)


def run_in_background(fn: Callable, on_done: Callable, on_failed: Callable[[str, str], None],
                      parent: QObject) -> _Signals:
    """Runs `fn()` on the thread pool. Keep the returned object alive until a callback ran."""
    signals = _Signals(parent)
    signals.done.connect(on_done)
    signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(_Call(fn, signals))
    return signals
