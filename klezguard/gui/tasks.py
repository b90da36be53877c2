"""The app's one background-work API: the window never waits on the network or on heavy work.

Two shapes, one rule for errors: a `Job` runs on its account's serial worker thread (imapclient is not
thread-safe), with progress and Cancel; `run_in_background` runs a one-off call (a look-up, a test login,
a preview) on the thread pool. Either way the function never touches widgets, its result or `Failure`
comes back on the GUI thread through queued signals, and a KnownError (a plain message for the user) is
told apart from a bug (a traceback for the error dialog) in one place: `attempt`.
"""

import logging
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from klezguard.errors import KnownError, SignInAgain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """Why background work did not finish: `text` for the user, or, for a bug, '' and the traceback."""

    text: str
    details: str
    sign_in: bool = False  # the provider no longer accepts the account's sign-in: offer "Sign in again"

    @property
    def is_bug(self) -> bool:
        return not self.text


def attempt(fn: Callable[[], Any], what: str) -> tuple[Any, Failure | None]:
    """(result, None), or (None, the Failure): the one place that tells a known error from a bug."""
    try:
        return fn(), None
    except KnownError as exc:
        return None, Failure(exc.text(), exc.detail, isinstance(exc, SignInAgain))
    except Exception as exc:  # noqa: BLE001 - a bug: shown in the error dialog, the app goes on
        log.exception("%s failed", what)
        return None, Failure("", "".join(traceback.format_exception(exc)))


@dataclass(eq=False)
class Job:
    title: str
    run: Callable[[Callable[[str, int, int], None], threading.Event], Any]
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None  # plain text of an expected error
    cancellable: bool = False
    quiet: bool = False  # background upkeep: no status text or progress bar of its own
    needs_sign_in: bool = False  # it failed because the account must sign in with its provider again
    cancel: threading.Event = field(default_factory=threading.Event)


class _Runner(QObject):
    started = Signal(object)
    progress = Signal(object, str, int, int)
    done = Signal(object, object)
    failed = Signal(object, str, str)  # job, plain text, details (a traceback for bugs)
    skipped = Signal(object)  # cancelled before it started
    idle = Signal()

    def __init__(self, jobs: "queue.Queue[Job | None]"):
        super().__init__()
        self.jobs = jobs

    def loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if job.cancel.is_set():
                self.skipped.emit(job)
                continue
            self.started.emit(job)

            def report(text: str, done: int, total: int, j: Job = job) -> None:
                self.progress.emit(j, text, done, total)

            result, failure = attempt(partial(job.run, report, job.cancel), f"job {job.title}")
            if failure is None:
                self.done.emit(job, result)
            else:
                job.needs_sign_in = failure.sign_in
                self.failed.emit(job, failure.text, failure.details)
            if self.jobs.empty():
                self.idle.emit()


class AccountWorker(QObject):
    """Runs one account's jobs one after the other on its own thread.

    Signals:
        started(job), progress(job, text, done, total), finished(job, result), failed(job, text, details),
        idle(): no more jobs waiting.
    """

    started = Signal(object)
    progress = Signal(object, str, int, int)
    finished = Signal(object, object)
    failed = Signal(object, str, str)
    bug = Signal(object, str)
    idle = Signal()

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.worker_thread = QThread()
        self.worker_thread.setObjectName(f"worker-{name}")
        self.runner = _Runner(self.jobs)
        self.runner.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.runner.loop)
        self.runner.started.connect(self.started)
        self.runner.progress.connect(self.progress)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.skipped.connect(self._skipped)
        self.runner.idle.connect(self.idle)
        self.pending = 0
        self.worker_thread.start()

    def submit(self, job: Job) -> Job:
        self.pending += 1
        self.jobs.put(job)
        return job

    def _done(self, job: Job, result) -> None:
        self.pending -= 1
        if job.on_done:
            job.on_done(result)
        self.finished.emit(job, result)

    def _skipped(self, job: Job) -> None:
        self.pending -= 1

    def _failed(self, job: Job, text: str, details: str) -> None:
        self.pending -= 1
        if text:
            if job.on_error:
                job.on_error(text)
            self.failed.emit(job, text, details)
        else:
            self.bug.emit(job, details)

    def stop(self, wait_ms: int = 5000) -> None:
        self.jobs.put(None)
        self.worker_thread.quit()
        self.worker_thread.wait(wait_ms)


class WatchThread(QThread):
    """Runs a service's blocking watch loop; its events arrive on the GUI thread as `watch_event(WatchEvent)`
    (not `event`: that name is QObject's own event handler, which Qt calls)."""

    watch_event = Signal(object)

    def __init__(self, service, parent: QObject | None = None):
        super().__init__(parent)
        self.service = service
        self.stop_flag = threading.Event()

    def run(self) -> None:
        try:
            self.service.watch(self.watch_event.emit, self.stop_flag)
        except Exception:  # noqa: BLE001 - watching must never take the app down
            log.exception("watching %s stopped", getattr(self.service, "key", "?"))

    def stop(self, wait_ms: int = 5000) -> None:
        self.stop_flag.set()
        self.wait(wait_ms)


class _CallSignals(QObject):
    done = Signal(object)
    failed = Signal(str, str)  # plain text (empty for a bug), details


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _CallSignals):
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        result, failure = attempt(self.fn, "a background call")
        if failure is None:
            self.signals.done.emit(result)
        else:
            self.signals.failed.emit(failure.text, failure.details)


def run_in_background(fn: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str, str], None], parent: QObject) -> _CallSignals:
    """Runs `fn()` on the thread pool; `on_done(result)` or `on_failed(text, details)` runs on the GUI thread.
    Keep the returned object alive until a callback ran."""
    signals = _CallSignals(parent)
    signals.done.connect(on_done)
    signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(_Call(fn, signals))
    return signals
