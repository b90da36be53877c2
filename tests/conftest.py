import os
import shutil

import keyring
import keyring.backend
import keyring.errors
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Tests never touch the real system keyring."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def get_password(self, service, username):
        return self.items.get((service, username))

    def delete_password(self, service, username):
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    """Each test gets its own config and data folders and an in-memory keyring."""
    monkeypatch.setenv("KLEZGUARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KLEZGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KLEZGUARD_PASSWORD", raising=False)
    old = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(old)


HOW_TO_INSTALL = "Dovecot is not installed: run 'apt-get install dovecot-imapd' (make test does it as root)"


@pytest.fixture(scope="session")
def imap_server():
    if not shutil.which("dovecot"):
        if os.environ.get("CI") == "true":
            pytest.fail(HOW_TO_INSTALL + " — required under CI=true")
        pytest.skip(HOW_TO_INSTALL)
    from tests.integration import dovecot

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


@pytest.fixture
def empty_mailbox(imap):
    """The test account with an empty INBOX and no quarantine folder; returns the `imap` connection."""
    imap.select_folder("INBOX")
    uids = imap.search("ALL")
    if uids:
        imap.delete_messages(uids)
        imap.expunge()
    if imap.folder_exists("KlezGuard Quarantine"):
        imap.delete_folder("KlezGuard Quarantine")
    return imap


@pytest.fixture(scope="session")
def oauth_server():
    """A local OAuth2 authorization server (token introspection and refresh) on 127.0.0.1."""
    from tests.integration import oauthserver

    server = oauthserver.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_imap_server(oauth_server):
    """A Dovecot that takes XOAUTH2 and OAUTHBEARER logins, each token checked by `oauth_server`."""
    if not shutil.which("dovecot"):
        if os.environ.get("CI") == "true":
            pytest.fail(HOW_TO_INSTALL + " — required under CI=true")
        pytest.skip(HOW_TO_INSTALL)
    from tests.integration import dovecot

    server = dovecot.start(introspection_url=oauth_server.url + "/introspect")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dns_server():
    """dnsmasq on 127.0.0.1 serving the domain check's test zones (tests/integration/dnsserver.py)."""
    if not (shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq")):
        text = "dnsmasq is not installed: run 'apt-get install dnsmasq-base' (scripts/system-deps.sh does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(text + " — required under CI=true")
        pytest.skip(text)
    from tests.integration import dnsserver

    server = dnsserver.start()
    yield server
    server.stop()
