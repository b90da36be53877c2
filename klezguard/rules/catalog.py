"""Imports every rule module, which registers its rules. Add new rule modules here."""

from klezguard.rules import (  # noqa: F401
    attachments,
    backscatter,
    correspondents,
    links,
    lookalike,
    payment,
    sender,
)
