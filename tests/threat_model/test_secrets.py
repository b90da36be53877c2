"""Threats 7 and 8: a password that LOGIN cannot carry still logs in, and never shows up in an error or a
log; what KlezGuard keeps on disk (store, logs, settings, accounts, locks) is private to the user."""

import base64
import logging
import os
import stat

import pytest

from klezguard import paths
from klezguard.application.service import ImapService
from klezguard.errors import LoginFailed
from klezguard.logs import file_handler
from klezguard.mail.accountlock import account_lock
from klezguard.mail.accounts import Account, AccountStore, ServerSettings
from klezguard.mail.connection import connect
from klezguard.settings import Settings
from klezguard.store.db import Store
from tests.integration.dovecot import UNICODE_PASSWORD, UNICODE_USER


def _secrets(password: str) -> list[str]:
    """The password and the ways it could leak: whole, as the base64 AUTHENTICATE sends, each non-ASCII
    letter on its own (the old traceback named one and its position)."""
    return [password, base64.b64encode(password.encode()).decode(),
            *(ch for ch in password if not ch.isascii())]


@pytest.mark.parametrize("security", ["ssl", "plain"])
def test_a_non_ascii_password_logs_in_and_is_never_logged(imap_server, tmp_path, security):
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    port = imap_server.ssl_port if security == "ssl" else imap_server.port
    account = Account(UNICODE_USER, ServerSettings(imap_server.host, port, security, cafile=imap_server.cafile),
                      allow_plain=security == "plain")
    try:
        service = ImapService(account, Store(tmp_path / "s.sqlite3"), password=UNICODE_PASSWORD)
        service.scan()  # logs in and scans the (empty) Inbox
        service.close()
        wrong = UNICODE_PASSWORD.replace("Köln", "Kölle")
        with pytest.raises(LoginFailed) as caught:
            connect(account.server, wrong, email=UNICODE_USER, allow_plain=security == "plain")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    said = caught.value.text() + caught.value.detail
    assert "did not accept" in said
    text = log_file.read_text(encoding="utf-8")
    assert "AUTHENTICATE" in text  # the conversation was logged...
    for secret in [*_secrets(UNICODE_PASSWORD), *_secrets(wrong)]:
        assert secret not in text and secret not in said  # ...never the password, in any form


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes; on Windows the user's profile is private")
def test_files_on_disk_are_private_even_when_made_earlier_with_open_modes(tmp_path):
    data, config, logs = paths.data_dir(), paths.config_dir(), paths.log_dir()
    for folder in (data, config, logs):  # as an older KlezGuard left them: 0755 folders, 0644 files
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
    (data / "klezguard.sqlite3").touch(mode=0o644)
    (logs / "klezguard.log").write_text("old\n")
    (logs / "klezguard.log").chmod(0o644)

    store = Store()
    store.journal.entries("x")  # the store is open and written (WAL)
    handler = file_handler(logs)
    logging.getLogger("klezguard.test").addHandler(handler)
    logging.getLogger("klezguard.test").warning("a line")
    handler.doRollover()
    logging.getLogger("klezguard.test").warning("a line in the new file")
    logging.getLogger("klezguard.test").removeHandler(handler)
    handler.close()
    AccountStore().put(Account("owner@example.org", ServerSettings("imap.example.org")))
    Settings().set("notify_level", "threat")
    with account_lock("owner@example.org"):
        pass

    for folder in (data, config, logs, data / "locks"):
        assert mode(folder) == 0o700, folder
    files = [p for p in (*data.rglob("*"), *config.rglob("*"), *logs.rglob("*")) if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files) and any(".log.1" in p.name for p in files)
    for path in files:
        assert mode(path) == 0o600, path
    store.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_store_put_in_a_shared_folder_leaves_that_folder_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o1777)
    Store(shared / "s.sqlite3").close()
    assert mode(shared) == 0o1777 and mode(shared / "s.sqlite3") == 0o600
