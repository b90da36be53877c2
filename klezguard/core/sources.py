"""Local mail sources: .eml files, folders of them, mbox files and Maildir folders.

Each message comes out as (source, raw bytes); a path that cannot be read comes out as an error
with its reason, and the other paths are still read.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAIL_SUFFIXES = (".eml", ".msg.eml", ".mbox", ".mbx")


@dataclass(frozen=True, slots=True)
class SourceError:
    path: str
    reason: str


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"From "
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_mail(paths: list[str]) -> Iterator[tuple[str, bytes] | SourceError]:
    """Yields every message found under `paths`, in a stable order."""
    for given in paths:
        path = Path(given)
        if not path.exists():
            yield SourceError(given, "No such file or folder")
        elif path.is_dir():
            yield from _read_dir(path, given)
        else:
            yield from _read_file(path, given)


def _read_file(path: Path, shown: str) -> Iterator[tuple[str, bytes] | SourceError]:
    if path.suffix.lower() in (".mbox", ".mbx") or (path.suffix.lower() != ".eml" and _looks_like_mbox(path)):
        yield from _read_mbox(path, shown)
        return
    try:
        yield shown, path.read_bytes()
    except OSError as exc:
        yield SourceError(shown, _reason(exc))


def _read_mbox(path: Path, shown: str) -> Iterator[tuple[str, bytes] | SourceError]:
    """Reads an mbox file strictly read-only (the stdlib's mailbox.mbox opens it for writing), one
    message at a time, so a large archive never sits in memory whole."""
    try:
        f = path.open("rb")
    except OSError as exc:
        yield SourceError(shown, _reason(exc))
        return
    with f:
        n = 0
        lines: list[bytes] = []
        previous_blank = True
        try:
            for line in f:
                if line.startswith(b"From ") and previous_blank:
                    if n:
                        yield f"{shown}#{n}", b"".join(lines)
                    n += 1
                    lines = []
                    previous_blank = False
                    continue
                previous_blank = line in (b"\n", b"\r\n")
                lines.append(line)
        except OSError as exc:
            yield SourceError(f"{shown}#{n}", _reason(exc))
            return
        if n:
            yield f"{shown}#{n}", b"".join(lines)


def _read_maildir(path: Path, shown: str) -> Iterator[tuple[str, bytes] | SourceError]:
    for sub in ("cur", "new"):
        try:
            names = sorted(os.listdir(path / sub))
        except OSError as exc:
            yield SourceError(os.path.join(shown, sub), _reason(exc))
            continue
        for name in names:
            if name.startswith("."):
                continue
            file = path / sub / name
            try:
                yield os.path.join(shown, sub, name), file.read_bytes()
            except OSError as exc:
                yield SourceError(os.path.join(shown, sub, name), _reason(exc))


def _read_dir(path: Path, shown: str) -> Iterator[tuple[str, bytes] | SourceError]:
    if _is_maildir(path):
        yield from _read_maildir(path, shown)
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        yield SourceError(shown, _reason(exc))
        return
    for entry in entries:
        child = Path(entry.path)
        child_shown = os.path.join(shown, entry.name)
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if entry.name in ("cur", "new", "tmp") and _is_maildir(path):
                continue
            yield from _read_dir(child, child_shown)
        elif entry.name.lower().endswith((".eml", ".mbox", ".mbx")) or (
            "." not in entry.name and _looks_like_mbox(child)
        ):
            yield from _read_file(child, child_shown)
