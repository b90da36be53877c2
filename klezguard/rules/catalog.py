"""Imports every rule module, which registers its rules. Add new rule modules here."""

from klezguard.rules import attachments, backscatter, links, lookalike, payment, sender  # noqa: F401
