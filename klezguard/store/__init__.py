"""The local SQLite store of scan results, quarantine journal and sent-mail index."""
