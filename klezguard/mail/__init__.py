"""Qt-free IMAP access: accounts, connections, scanning, quarantine and watching."""
