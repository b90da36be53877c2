"""KlezGuard: spots spoofed senders, disguised attachments and backscatter, and explains them."""


def __getattr__(name: str) -> str:
    # the version is read when asked for (klezguard.version), so importing the package stays cheap
    if name == "__version__":
        from klezguard.version import version

        return version()
    raise AttributeError(f"module 'klezguard' has no attribute {name!r}")
