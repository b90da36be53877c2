"""KlezGuard: spots spoofed senders, disguised attachments and backscatter, and explains them."""

__version__ = "0.1.0"
