"""Connections: TLS by default with certificate checks, STARTTLS only when TLS really starts,
unencrypted only when allowed; every failure becomes a plain message with what to do."""

import socket
import threading

import pytest

from klezguard.errors import (
    CertificateProblem,
    ConnectionRefused,
    ConnectionTimedOut,
    InsecureConnection,
    LoginFailed,
    ServerNotFound,
)
from klezguard.mail.accounts import ServerSettings
from klezguard.mail.connection import connect, translate
from tests.integration import certs, dovecot


def settings(server, security="ssl", cafile=None, port=None):
    port = port or (server.ssl_port if security == "ssl" else server.port)
    return ServerSettings(server.host, port, security, user=server.user, cafile=cafile)


def test_tls_with_the_servers_ca_file_logs_in(imap_server):
    client = connect(settings(imap_server, cafile=imap_server.cafile), imap_server.password)
    assert client.list_folders()
    client.logout()


def test_starttls_logs_in_encrypted(imap_server):
    client = connect(settings(imap_server, "starttls", cafile=imap_server.cafile), imap_server.password)
    assert client._imap.sock.version().startswith("TLS")  # noqa: SLF001 - the socket really is TLS now
    client.logout()


def test_self_signed_certificate_is_refused_without_its_ca(imap_server):
    with pytest.raises(CertificateProblem) as err:
        connect(settings(imap_server), imap_server.password)
    assert "self-signed" in err.value.text() and "CA file" in err.value.text()


def test_wrong_password_mentions_app_passwords_for_big_providers(imap_server):
    with pytest.raises(LoginFailed) as err:
        connect(settings(imap_server, cafile=imap_server.cafile), "wrong", email="someone@gmail.com")
    assert "did not accept" in err.value.text() and "app password" in err.value.text()


def test_plain_needs_explicit_permission(imap_server):
    with pytest.raises(InsecureConnection):
        connect(settings(imap_server, "plain"), imap_server.password)
    client = connect(settings(imap_server, "plain"), imap_server.password, allow_plain=True)
    client.logout()


def test_refused_port():
    port = dovecot.free_port()
    with pytest.raises(ConnectionRefused) as err:
        connect(ServerSettings("127.0.0.1", port, "ssl"), "x")
    assert "refused" in err.value.text()


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    with pytest.raises(ConnectionTimedOut) as err:
        connect(ServerSettings("127.0.0.1", listener.getsockname()[1], "plain"), "x", allow_plain=True,
                timeout=0.5)
    assert "did not answer in time" in err.value.text()
    for conn, _ in accepted:
        conn.close()
    listener.close()


def test_unknown_host_is_explained():
    error = translate(socket.gaierror(-2, "Name or service not known"), ServerSettings("imap.nowhere.invalid"))
    assert isinstance(error, ServerNotFound)
    assert "imap.nowhere.invalid could not be found" in error.text()


@pytest.mark.parametrize(
    ("cert", "expected"),
    [
        (lambda: certs.make(("mail.other.example",)), "is not for 127.0.0.1"),
        (lambda: certs.make(expired=True), "has expired"),
    ],
    ids=["wrong host", "expired"],
)
def test_certificate_problems(cert, expected, tmp_path):
    pem = cert()
    server = dovecot.start(cert=pem)
    try:
        cafile = tmp_path / "ca.pem"
        cafile.write_bytes(pem[0])
        with pytest.raises(CertificateProblem) as err:
            connect(settings(server, cafile=str(cafile)), server.password)
        assert expected in err.value.text()
    finally:
        server.stop()


def test_starttls_is_required_when_chosen():
    server = dovecot.start(tls=False)
    try:
        with pytest.raises(InsecureConnection) as err:
            connect(settings(server, "starttls"), server.password)
        assert "does not offer STARTTLS" in err.value.text()
    finally:
        server.stop()
