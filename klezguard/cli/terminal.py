"""Everything the command line prints goes through `safe_output()`: text from mail (subjects, names,
file names, evidence) and from servers (error texts) reaches the terminal with its control characters
made visible, never acted on. Only our own progress bar may move the cursor, through `raw_stderr()`.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from klezguard.core.visible import terminal_safe


class SafeStream:
    """A text stream that writes through `terminal_safe` and forwards everything else."""

    def __init__(self, stream: TextIO):
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def raw_stderr() -> TextIO:
    stream = sys.stderr
    return stream.raw if isinstance(stream, SafeStream) else stream


def _tolerant(stream: TextIO) -> None:
    """A character the terminal's encoding lacks (an emoji on a Windows code page) is written as \\x..
    instead of stopping the command halfway."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):
            pass


@contextmanager
def safe_output() -> Iterator[None]:
    old_out, old_err = sys.stdout, sys.stderr
    for stream in (old_out, old_err):
        _tolerant(stream.raw if isinstance(stream, SafeStream) else stream)
    sys.stdout = old_out if isinstance(old_out, SafeStream) else SafeStream(old_out)
    sys.stderr = old_err if isinstance(old_err, SafeStream) else SafeStream(old_err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
