"""Debug logs of a login, a scan and a failed login never contain the password."""

import logging

import pytest

from klezguard.application.service import ImapService
from klezguard.errors import LoginFailed
from klezguard.mail.accounts import Account, ServerSettings
from klezguard.store.db import Store


def test_password_never_logged(imap_server, tmp_path):
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        account = Account(imap_server.user, ServerSettings(imap_server.host, imap_server.ssl_port, "ssl",
                                                           cafile=imap_server.cafile))
        service = ImapService(account, Store(tmp_path / "s.sqlite3"), password=imap_server.password)
        service.scan()
        service.close()
        wrong = ImapService(account, Store(tmp_path / "t.sqlite3"), password="Wr0ng-Secret!")
        with pytest.raises(LoginFailed):
            wrong.scan()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    text = log_file.read_text()
    assert "LOGIN" in text  # the debug log did record the conversation...
    assert imap_server.password not in text and "Wr0ng-Secret!" not in text  # ...but not the secrets
