import os
import shutil

import pytest

from tests.integration import dovecot

HOW_TO_INSTALL = "Dovecot is not installed: run 'apt-get install dovecot-imapd' (make test does it as root)"


@pytest.fixture(scope="session")
def imap_server():
    if not shutil.which("dovecot"):
        if os.environ.get("CI") == "true":
            pytest.fail(HOW_TO_INSTALL + " — required under CI=true")
        pytest.skip(HOW_TO_INSTALL)
    server = dovecot.start()
    yield server
    server.stop()


@pytest.fixture
def imap(imap_server):
    """A logged-in imapclient connection over plain IMAP on 127.0.0.1 (for seeding and checking)."""
    from imapclient import IMAPClient

    client = IMAPClient(imap_server.host, port=imap_server.port, ssl=False, timeout=10)
    client.login(imap_server.user, imap_server.password)
    yield client
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the server may already have dropped us
        pass
