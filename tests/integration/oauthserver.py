"""A small OAuth2 server on 127.0.0.1 for the tests, built on Authlib's server side (its AuthorizationServer,
grants and endpoints, with adapters over http.server): the browser step with PKCE, the token endpoint for
authorization codes, refresh (optionally rotating refresh tokens, as Microsoft does) and device codes
(RFC 8628), revocation (RFC 7009); and, written here, the token introspection endpoint (RFC 7662) that the
test Dovecot asks about every XOAUTH2/OAUTHBEARER login. Tokens can be made to expire or be revoked, clients
to need a secret, tokens to be large, and the server can answer slowly."""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant


@dataclass
class Grant:
    user: str
    refresh_token: str
    revoked: bool = False


@dataclass
class OAuthServer:
    httpd: ThreadingHTTPServer
    access: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (user, expires at)
    grants: dict[str, Grant] = field(default_factory=dict)  # refresh token -> grant
    delay: float = 0.0  # seconds every answer waits (a slow provider)
    codes: dict = field(default_factory=dict)  # authorization code -> what it was issued for
    devices: dict = field(default_factory=dict)  # device code -> the device credential (its user_code)
    device_answers: dict[str, tuple[str, bool]] = field(default_factory=dict)  # user code -> (user, said yes)
    browser_user: str = ""  # who signs in when a test follows the browser step
    browser_answer: str = ""  # "" approve; else the error the user causes ("access_denied")
    introspections: int = 0
    refreshes: int = 0
    rotate: bool = False  # each refresh gives a new refresh token, and a used one is refused (as Microsoft's)
    refresh_delay: float = 0.0  # seconds a refresh takes (two at once overlap)
    client_secrets: dict[str, str] = field(default_factory=dict)  # client id -> the secret its token calls need
    access_size: int = 0  # access tokens this long (Microsoft's are often several KB)
    revoked: list[str] = field(default_factory=list)  # refresh tokens revoked at /revoke (RFC 7009)
    hold_revocation: threading.Event | None = None  # /revoke answers only once this is set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """The defaults again (the server lives for the whole test session)."""
        self.delay = self.refresh_delay = 0.0
        self.rotate, self.access_size, self.hold_revocation = False, 0, None
        self.client_secrets.clear()
        self.browser_answer = ""

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_endpoint(self) -> str:
        return self.url + "/token"

    def issue(self, user: str, lifetime: float = 3600) -> dict:
        """A fresh grant: the token response a sign-in would give."""
        refresh = "r-" + secrets.token_urlsafe(16)
        with self.lock:
            self.grants[refresh] = Grant(user, refresh)
        return self._access(user, refresh, lifetime)

    def _access(self, user: str, refresh: str, lifetime: float) -> dict:
        token = "a-" + secrets.token_urlsafe(24)
        token += "x" * max(0, self.access_size - len(token))
        with self.lock:
            self.access[token] = (user, time.time() + lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime),
                "refresh_token": refresh, "scope": "https://mail.test/imap"}

    def expire(self, token: str) -> None:
        with self.lock:
            user, _ = self.access[token]
            self.access[token] = (user, time.time() - 1)

    def revoke_all(self) -> None:
        """The user took the app's access back: every token and grant stops working."""
        with self.lock:
            self.access.clear()
            for grant in self.grants.values():
                grant.revoked = True

    def approve_device(self, user_code: str, user: str, deny: bool = False) -> None:
        """The user typed the code on another device and said yes (or no)."""
        with self.lock:
            self.device_answers[user_code] = (user, not deny)

    def pending_devices(self) -> list[str]:
        """The user codes no one has typed yet."""
        with self.lock:
            return [d.user_code for d in self.devices.values() if d.user_code not in self.device_answers]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Request(OAuth2Request):
    """An http.server request as Authlib's server side reads it (its own adapters are for Flask and Django)."""

    def __init__(self, method: str, uri: str, headers, form: dict[str, str], args: dict[str, str]):
        super().__init__(method, uri, headers=headers)
        self._form, self._args = form, args
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self):
        return self._args

    @property
    def form(self):
        return self._form


@dataclass
class _Client(ClientMixin):
    """Every client id is welcome; one listed in `client_secrets` must authenticate with its secret."""

    client_id: str
    server: "OAuthServer"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):  # RFC 8252: a loopback address, any port
        url = urlparse(redirect_uri)
        return url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost")

    def check_client_secret(self, client_secret):
        wanted = self.server.client_secrets.get(self.client_id)
        return wanted is not None and secrets.compare_digest(wanted, client_secret or "")

    def check_endpoint_auth_method(self, method, endpoint):
        confidential = self.client_id in self.server.client_secrets
        return method in ("client_secret_post", "client_secret_basic") if confidential else method == "none"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return True


@dataclass
class _Code(AuthorizationCodeMixin):
    user: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


@dataclass
class _Refresh(TokenMixin):
    grant: Grant
    client_id: str

    def check_client(self, client):
        return True  # (the tests' clients share grants)

    def get_scope(self):
        return "https://mail.test/imap"

    def get_expires_in(self):
        return 0

    def is_expired(self):
        return False

    def is_revoked(self):
        return self.grant.revoked

    def get_user(self):
        return self.grant.user


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float

    def get_client_id(self):
        return self.client_id

    def get_scope(self):
        return self.scope

    def get_user_code(self):
        return self.user_code

    def is_expired(self):
        return self.expires_at < time.time()


class _S256Only(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


def _authorization_server(server: "OAuthServer", lifetime: float) -> AuthorizationServer:
    """Authlib's authorization server with what the tests need stored in `server`: authorization code with
    PKCE (S256), refresh (rotating when `server.rotate`), device code (RFC 8628), revocation (RFC 7009)."""
    auth_methods = ["none", "client_secret_post", "client_secret_basic"]

    class Server(AuthorizationServer):
        def query_client(self, client_id):
            return _Client(client_id, server) if client_id else None

        def save_token(self, token, request):
            user = request.user if isinstance(request.user, str) else request.user.get_user()
            with server.lock:
                server.access[token["access_token"]] = (user, time.time() + lifetime)
                if "refresh_token" in token:
                    server.grants[token["refresh_token"]] = Grant(user, token["refresh_token"])

        def create_oauth2_request(self, request):
            return request

        def create_json_request(self, request):
            return request

        def handle_response(self, status, body, headers):
            return status, body, dict(headers)

        def send_signal(self, name, *args, **kwargs):
            return None

    def tokens(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        token = "a-" + secrets.token_urlsafe(24)
        token += "x" * max(0, server.access_size - len(token))
        out = {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime),
               "scope": scope or "https://mail.test/imap"}
        if include_refresh_token:
            out["refresh_token"] = "r-" + secrets.token_urlsafe(16)
        return out

    class Code(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        def save_authorization_code(self, code, request):
            data = request.payload.data
            with server.lock:
                server.codes[code] = _Code(request.user, request.client.get_client_id(), data["redirect_uri"],
                                           data.get("scope", ""), data["code_challenge"],
                                           data["code_challenge_method"])

        def query_authorization_code(self, code, client):
            with server.lock:
                found = server.codes.get(code)
            return found if found is not None and found.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code):
            with server.lock:
                for code, value in list(server.codes.items()):
                    if value is authorization_code:
                        del server.codes[code]

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class Refresh(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        @property
        def INCLUDE_NEW_REFRESH_TOKEN(self):  # noqa: N802 - Authlib's name; Microsoft's way when `rotate`
            return server.rotate

        def authenticate_refresh_token(self, refresh_token):
            with server.lock:
                server.refreshes += 1
                grant = server.grants.get(refresh_token)
            if grant is None or grant.revoked:
                return None
            return _Refresh(grant, self.request.payload.client_id or "")

        def authenticate_user(self, refresh_token):
            return refresh_token.get_user()

        def revoke_old_credential(self, refresh_token):
            if server.rotate:  # used once: the new refresh token replaces it
                refresh_token.grant.revoked = True

    class Device(DeviceCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        def query_device_credential(self, device_code):
            with server.lock:
                return server.devices.get(device_code)

        def query_user_grant(self, user_code):
            with server.lock:
                entry = next((d for d in server.devices.values() if d.user_code == user_code), None)
                state = server.device_answers.get(user_code)
            if entry is None or state is None:
                return None
            user, approved = state
            if approved:
                with server.lock:
                    server.devices.pop(entry.device_code, None)
            return user, approved

        def should_slow_down(self, credential):
            return False

    class DeviceStart(DeviceAuthorizationEndpoint):
        CLIENT_AUTH_METHODS = auth_methods
        EXPIRES_IN = 60
        INTERVAL = 1

        def get_verification_uri(self):
            return server.url + "/activate"

        def save_device_credential(self, client_id, scope, data):
            with server.lock:
                server.devices[data["device_code"]] = _Device(data["device_code"], data["user_code"], client_id,
                                                              scope or "", time.time() + self.EXPIRES_IN)

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = auth_methods

        def query_token(self, token_string, token_type_hint):
            with server.lock:
                grant = server.grants.get(token_string)
            return _Refresh(grant, "") if grant is not None else None

        def revoke_token(self, token, request):
            if server.hold_revocation is not None:
                server.hold_revocation.wait(30)
            with server.lock:
                token.grant.revoked = True
                server.revoked.append(token.grant.refresh_token)

    authorization = Server()
    authorization.register_token_generator("default", tokens)
    authorization.register_grant(Code, [_S256Only(required=True)])
    authorization.register_grant(Refresh)
    authorization.register_grant(Device)
    authorization.register_endpoint(DeviceStart(authorization))
    authorization.register_endpoint(Revocation)
    return authorization


def start(lifetime: float = 3600) -> OAuthServer:
    server: OAuthServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            return

        def _reply(self, status: int, body, headers: dict | None = None) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _request(self, form: dict[str, str]) -> _Request:
            url = urlparse(self.path)
            args = {k: v[0] for k, v in parse_qs(url.query).items()}
            return _Request(self.command, server.url + self.path, dict(self.headers), form, args)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if server.delay:
                time.sleep(server.delay)
            if self.path == "/introspect":  # RFC 7662, as Dovecot's oauth2 passdb asks it (no client auth)
                with server.lock:
                    server.introspections += 1
                    user, expires = server.access.get(form.get("token", ""), ("", 0.0))
                if user and expires > time.time():
                    self._reply(200, {"active": True, "username": user, "exp": int(expires)})
                else:
                    self._reply(200, {"active": False})
                return
            if self.path == "/token" and form.get("grant_type") == "refresh_token" and server.refresh_delay:
                time.sleep(server.refresh_delay)
            request = self._request(form)
            if self.path == "/token":
                self._reply(*authorization.create_token_response(request))
            elif self.path == "/device":
                self._reply(*authorization.create_endpoint_response("device_authorization", request))
            elif self.path == "/revoke":
                self._reply(*authorization.create_endpoint_response("revocation", request))
            else:
                self._reply(404, {"error": "not_found"})

        def do_GET(self) -> None:  # noqa: N802 - the browser step: sign in and consent at once
            if urlparse(self.path).path != "/authorize":
                self._reply(404, {"error": "not_found"})
                return
            request = self._request({})
            request.user = server.browser_user
            try:
                grant = authorization.get_consent_grant(request)
            except OAuth2Error as exc:
                self._reply(400, {"error": exc.error, "error_description": exc.description or ""})
                return
            status, body, headers = authorization.create_authorization_response(
                request, grant_user=None if server.browser_answer else server.browser_user, grant=grant)
            self._reply(status, body or "", headers)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = OAuthServer(httpd)
    authorization = _authorization_server(server, lifetime)
    threading.Thread(target=httpd.serve_forever, daemon=True, name="oauth-test-server").start()
    return server


def provider_file(path, server: OAuthServer, title: str = "Bakery Mail", domains=(), hosts=(), **more) -> str:
    """A provider file (the format of resources/oauth.json) pointing at this server, for KLEZGUARD_OAUTH_CONFIG;
    `more`: other fields (client_secret, device_flow, revocation_url)."""
    entry = {"title": title, "authorize_url": server.url + "/authorize", "token_url": server.token_endpoint,
             "device_url": server.url + "/device", "scope": "https://mail.test/imap offline_access",
             "client_id": "klezguard-test", "domains": list(domains), "hosts": list(hosts), **more}
    path.write_text(json.dumps({"providers": {title.lower().replace(" ", "-"): entry}}))
    return str(path)
