"""The accounts' background work, apart from any widget: one serial worker and one watcher per account, each
use case of the application layer submitted as a job, and what it came to sent back as signals.

The window only wires views to this: it says which messages the user picked and what he confirmed, and it
shows what the signals say. So what an action does, and what Undo takes back, is in one place that a test can
drive without a window.
"""

import logging
from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, Signal

from klezguard.application.quarantine import Run, entry_ids_of, target_of
from klezguard.gui.models import Row
from klezguard.gui.tasks import AccountWorker, Job, WatchThread
from klezguard.store.db import Store

log = logging.getLogger(__name__)
NOTICE_ROWS = 20


def tr(text: str) -> str:
    return QCoreApplication.translate("AccountsWork", text)


# What the accounts' workers run: (progress, cancel) -> result, each one use case of the service
def _rejudge(service, progress, cancel) -> int:
    return service.rejudge()


def _scan(service, progress, cancel) -> list:
    return service.scan(progress, cancel)


def _quarantine(service, targets, progress, cancel) -> Run:
    return service.quarantine(targets, progress, cancel)


def _restore(service, entry_ids, progress, cancel) -> Run:
    return service.restore(entry_ids, progress)


def _not_a_threat(service, row_ids, progress, cancel):
    return service.not_a_threat(row_ids)


def _delete(service, entry_ids, progress, cancel) -> Run:
    return service.delete(entry_ids, progress)


def _undo_not_a_threat(service, outcome, progress, cancel) -> int:
    return service.undo_not_a_threat(outcome)


def _with_failures(text: str, run: Run, could_not: str) -> str:
    if run.failed:
        text += " " + could_not.format(n=len(run.failed), why=run.failed[0][1])
    return text


class AccountsWork(QObject):
    """Signals:
        changed(): stored mail changed (views refresh);
        said(str): what an action or event came to, in a sentence;
        new_findings(account key, title, [(row id or None, Scanned)]): messages that need a look;
        state(str): "error" when something failed, "watching" when a watcher connected;
        undo_offered(bool): whether Undo can take back the last action;
        busy(job), progress(job, text, done, total), idle(): for the progress display;
        failed(job, text): a known error the user must see; bug(details): a traceback for the error dialog;
        sign_in_needed(key, text): the account's provider wants a new sign-in (not a password).
    """

    changed = Signal()
    said = Signal(str)
    new_findings = Signal(str, str, list)
    state = Signal(str)
    undo_offered = Signal(bool)
    busy = Signal(object)
    progress = Signal(object, str, int, int)
    idle = Signal()
    failed = Signal(object, str)
    bug = Signal(str)
    sign_in_needed = Signal(str, str)  # account key, what happened: its provider wants a new sign-in

    def __init__(self, store: Store, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.services: dict = {}
        self.workers: dict[str, AccountWorker] = {}
        self.watchers: dict[str, WatchThread] = {}
        self.running: dict[int, Job] = {}
        self.jobs_of: dict[str, set[Job]] = {}  # account key -> its jobs not finished yet
        self.scanning: set[str] = set()
        self.last_moved: list[tuple[str, int]] = []
        self.last_trusted: list[tuple[str, object]] = []  # (account key, Trusted): what Undo takes back

    # --- accounts ---------------------------------------------------------------------------------
    def add(self, service) -> None:
        self.services[service.key] = service
        worker = AccountWorker(service.key, self)
        worker.started.connect(self._started)
        worker.progress.connect(self.progress)
        worker.idle.connect(self._idle)
        worker.finished.connect(lambda job, _r: self._ended(job))
        worker.failed.connect(self._failed)
        worker.bug.connect(self._bug)
        self.workers[service.key] = worker
        # Verdicts an older KlezGuard stored are judged again from the store first, without the network
        self.submit(service.key, self._rejudge_job(service))

    def remove(self, key: str) -> None:
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
            try:
                service.close()
            except Exception:  # noqa: BLE001 - a connection that is already gone
                log.debug("closing %s failed", key)
        self.scanning.discard(key)

    def submit(self, key: str, job: Job) -> Job:
        self.jobs_of.setdefault(key, set()).add(job)
        return self.workers[key].submit(job)

    @property
    def pending(self) -> bool:
        return bool(self.scanning) or any(w.pending for w in self.workers.values())

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
        self.cancel()
        for worker in self.workers.values():
            worker.stop()

    def cancel(self) -> None:
        for job in self.running.values():
            job.cancel.set()

    # --- use cases --------------------------------------------------------------------------------
    def scan_all(self) -> None:
        for key, service in self.services.items():
            if key in self.scanning:
                continue
            self.scanning.add(key)
            self.submit(key, Job(tr("Checking {t}").format(t=service.title), partial(_scan, service),
                                 on_done=partial(self._scanned, key), on_error=partial(self._scan_failed, key),
                                 cancellable=True))

    def _scan_failed(self, key: str, _text: str) -> None:
        self.scanning.discard(key)

    def quarantine(self, rows: list[Row]) -> None:
        for key, group in self._by_account(rows).items():
            targets = [target_of(r) for r in group]
            self.submit(key, Job(tr("Moving to quarantine"), partial(_quarantine, self.services[key], targets),
                                 on_done=partial(self._moved, key)))

    def restore(self, rows: list[Row]) -> None:
        self._forget_undo()
        for key, group in self._by_account(rows).items():
            self._restore(key, entry_ids_of(self.store, key, group))

    def delete(self, rows: list[Row]) -> None:
        self._forget_undo()
        for key, group in self._by_account(rows).items():
            ids = entry_ids_of(self.store, key, group)
            if ids:
                self.submit(key, Job(tr("Deleting"), partial(_delete, self.services[key], ids),
                                     on_done=partial(self._deleted, key)))

    def not_a_threat(self, rows: list[Row]) -> None:
        self._forget_undo()
        for key, group in self._by_account(rows).items():
            self.submit(key, Job(tr("Trusting the sender"),
                                 partial(_not_a_threat, self.services[key], [r.id for r in group]),
                                 on_done=partial(self._trusted, key)))

    def undo(self) -> None:
        """Takes back the last move to quarantine, or the last "not a threat"."""
        moved, trusted = self.last_moved, self.last_trusted
        self._forget_undo()
        for key, outcome in trusted:
            if key in self.services:
                self.submit(key, Job(tr("Taking back 'not a threat'"),
                                     partial(_undo_not_a_threat, self.services[key], outcome),
                                     on_done=self._untrusted))
        grouped: dict[str, list[int]] = {}
        for key, entry_id in moved:
            grouped.setdefault(key, []).append(entry_id)
        for key, ids in grouped.items():
            self._restore(key, ids)

    def rejudge_all(self, said: str = "") -> None:
        """A sender's trust changed: its stored mail is judged again in every account."""
        for key, service in self.services.items():
            self.submit(key, self._rejudge_job(service))
        if said:
            self.said.emit(said)

    # --- results ----------------------------------------------------------------------------------
    def _rejudge_job(self, service) -> Job:
        return Job(tr("Updating verdicts"), partial(_rejudge, service), on_done=self._rejudged, quiet=True)

    def _rejudged(self, count: int) -> None:
        if count:
            self.changed.emit()
            self.said.emit(tr("{n} messages were judged again by this version of KlezGuard.").format(n=count))

    def _scanned(self, key: str, found: list) -> None:
        self.scanning.discard(key)
        self.changed.emit()
        flagged = [s for s in found if s.result.flagged]
        service = self.services.get(key)
        checked = getattr(service, "last_count", len(found))
        unchecked = sum(1 for s in found if getattr(s, "unchecked", False))
        text = tr("{n} new messages checked, {f} need a look.").format(n=checked, f=len(flagged))
        if unchecked:
            text += " " + tr("{u} could not be checked (listed as Not checked).").format(u=unchecked)
        self._say(key, text)  # with what recovering an interrupted move found, said once, after the scan
        if flagged and service is not None:
            # Row ids (for "open this message") only for the worst few: a first scan can flag thousands, and
            # a look-up each would hold the window.
            flagged.sort(key=lambda s: -s.result.score)
            items = [(self._row_id(s) if n < NOTICE_ROWS else None, s) for n, s in enumerate(flagged)]
            self.new_findings.emit(key, service.title, items)

    def _moved(self, key: str, run: Run) -> None:
        self.last_moved = [(key, e.id) for e in run.done]
        self.last_trusted = []
        self.changed.emit()
        folder = self.services[key].quarantine_folder if key in self.services else ""
        self._say(key, _with_failures(tr("Moved {n} message(s) to {folder}.").format(n=len(run.done), folder=folder),
                                      run, tr("{n} could not be moved: {why}")), run)
        self.undo_offered.emit(bool(run.done))

    def _restore(self, key: str, entry_ids: list[int]) -> None:
        if entry_ids and key in self.services:
            self.submit(key, Job(tr("Restoring"), partial(_restore, self.services[key], entry_ids),
                                 on_done=partial(self._restored, key)))

    def _restored(self, key: str, run: Run) -> None:
        self.changed.emit()
        self._say(key, _with_failures(tr("Restored {n} message(s).").format(n=len(run.done)),
                                      run, tr("{n} could not be restored: {why}")), run)

    def _deleted(self, key: str, run: Run) -> None:
        self.changed.emit()
        self._say(key, _with_failures(tr("Deleted {n} message(s) from quarantine.").format(n=len(run.done)),
                                      run, tr("{n} could not be deleted: {why}")), run)

    def _trusted(self, key: str, outcome) -> None:
        self.changed.emit()
        self.last_trusted.append((key, outcome))
        self.undo_offered.emit(True)
        parts = []
        if outcome.senders:
            parts.append(tr("Trusted {s}: its later mail is not flagged for who sent it.").format(
                s=", ".join(sorted({a for a, _ in outcome.senders}))))
        if outcome.cleared:
            parts.append(tr("Marked as not a threat.") + (" " + outcome.why_cleared if outcome.why_cleared else ""))
        if outcome.senders:  # that sender's mail in the other accounts is judged again too
            self.rejudge_all()
        self.said.emit(" ".join(parts))

    def _untrusted(self, _count: int) -> None:
        self.changed.emit()
        self.rejudge_all(tr("Taken back: KlezGuard's own verdict applies again."))

    def _forget_undo(self) -> None:
        """An Undo offers to take back the last action only while nothing else was done since."""
        self.last_moved = []
        self.last_trusted = []
        self.undo_offered.emit(False)

    def _say(self, key: str, text: str, run: Run | None = None) -> None:
        """The sentence, with the notes the run and the service gathered (each said once)."""
        service = self.services.get(key)
        notes = list(dict.fromkeys([*(run.notes if run else []), *(service.notes if service is not None else [])]))
        if service is not None:
            service.notes.clear()
        self.said.emit(" ".join([text, *notes]))

    def _watch_event(self, event) -> None:
        service = self.services.get(event.account)
        if event.kind == "new" and event.scanned is not None:
            self.changed.emit()
            row_id = self._row_id(event.scanned)
            if row_id is not None and event.scanned.result.flagged:
                self.new_findings.emit(event.account, service.title if service else event.account,
                                       [(row_id, event.scanned)])
        elif event.kind == "error":
            self.said.emit(event.text)
            self.state.emit("error")
        elif event.kind == "sign_in":  # the watcher has stopped; signing in again replaces the service and it
            self.said.emit(event.text)
            self.state.emit("error")
            self.sign_in_needed.emit(event.account, event.text)
        elif event.kind == "watching":
            self.said.emit(tr("Watching {t} for new mail.").format(t=service.title if service else ""))
            self.state.emit("watching")

    def _row_id(self, scanned) -> int | None:
        return self.store.row_id(scanned.account, scanned.folder, scanned.uidvalidity, scanned.uid)

    def _by_account(self, rows: list[Row]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for row in rows:
            if row.account in self.services:
                grouped.setdefault(row.account, []).append(row)
        return grouped

    # --- worker feedback --------------------------------------------------------------------------
    def _started(self, job: Job) -> None:
        self.running[id(job)] = job
        self.busy.emit(job)

    def _ended(self, job: Job) -> None:
        self.running.pop(id(job), None)
        for jobs in self.jobs_of.values():
            jobs.discard(job)

    def _idle(self) -> None:
        if not any(w.pending for w in self.workers.values()):
            self.idle.emit()

    def _failed(self, job: Job, text: str, details: str) -> None:
        key = next((k for k, jobs in self.jobs_of.items() if job in jobs), "")
        self._ended(job)
        log.info("job %s failed: %s (%s)", job.title, text, details)
        self.said.emit(text)
        self.state.emit("error")
        if job.needs_sign_in and key:
            self.sign_in_needed.emit(key, text)
        else:
            self.failed.emit(job, text)

    def _bug(self, job: Job, details: str) -> None:
        self._ended(job)
        self.state.emit("error")
        self.bug.emit(details)
