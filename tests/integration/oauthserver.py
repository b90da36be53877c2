"""A small OAuth2 server on 127.0.0.1 for the tests: the token introspection endpoint (RFC 7662) that the
test Dovecot asks about every XOAUTH2/OAUTHBEARER login, and a token endpoint that issues and refreshes
tokens (RFC 6749 section 6). Tokens can be made to expire or be revoked, and the server can answer slowly."""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


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
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> (user, challenge, redirect)
    devices: dict[str, dict] = field(default_factory=dict)  # device code -> {user_code, user, state}
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
            for entry in self.devices.values():
                if entry["user_code"] == user_code:
                    entry["user"], entry["state"] = user, "denied" if deny else "approved"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start(lifetime: float = 3600) -> OAuthServer:
    server: OAuthServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            return

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if server.delay:
                time.sleep(server.delay)
            if self.path == "/token" and not self._client_ok(form):
                self._reply(401, {"error": "invalid_client", "error_description": "client authentication failed"})
            elif self.path == "/revoke":
                if server.hold_revocation is not None:
                    server.hold_revocation.wait(30)
                with server.lock:
                    grant = server.grants.get(form.get("token", ""))
                    if grant is not None:
                        grant.revoked = True
                        server.revoked.append(grant.refresh_token)
                self._reply(200, {})
            elif self.path == "/introspect":
                with server.lock:
                    server.introspections += 1
                    user, expires = server.access.get(form.get("token", ""), ("", 0.0))
                if user and expires > time.time():
                    self._reply(200, {"active": True, "username": user, "exp": int(expires)})
                else:
                    self._reply(200, {"active": False})
            elif self.path == "/token" and form.get("grant_type") == "authorization_code":
                with server.lock:
                    user, challenge, redirect = server.codes.pop(form.get("code", ""), ("", "", ""))
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if not user or digest != challenge or form.get("redirect_uri") != redirect:
                    self._reply(400, {"error": "invalid_grant"})
                else:
                    self._reply(200, server.issue(user, lifetime))
            elif self.path == "/token" and form.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
                with server.lock:
                    entry = server.devices.get(form.get("device_code", ""))
                if entry is None:
                    self._reply(400, {"error": "expired_token"})
                elif entry["state"] == "pending":
                    self._reply(400, {"error": "authorization_pending"})
                elif entry["state"] == "denied":
                    self._reply(400, {"error": "access_denied"})
                else:
                    with server.lock:
                        server.devices.pop(form.get("device_code", ""), None)
                    self._reply(200, server.issue(entry["user"], lifetime))
            elif self.path == "/device":
                device, user_code = secrets.token_urlsafe(16), secrets.token_hex(3).upper()
                with server.lock:
                    server.devices[device] = {"user_code": user_code, "user": "", "state": "pending"}
                self._reply(200, {"device_code": device, "user_code": user_code, "interval": 1, "expires_in": 60,
                                  "verification_uri": server.url + "/activate"})
            elif self.path == "/token" and form.get("grant_type") == "refresh_token":
                if server.refresh_delay:
                    time.sleep(server.refresh_delay)
                with server.lock:
                    server.refreshes += 1
                    grant = server.grants.get(form.get("refresh_token", ""))
                    if grant is not None and not grant.revoked and server.rotate:
                        grant.revoked = True  # used once: the new refresh token replaces it
                        rotated = "r-" + secrets.token_urlsafe(16)
                        grant = server.grants[rotated] = Grant(grant.user, rotated)
                if grant is None or grant.revoked:
                    self._reply(400, {"error": "invalid_grant", "error_description": "The grant was revoked."})
                else:
                    self._reply(200, server._access(grant.user, grant.refresh_token, lifetime))
            else:
                self._reply(400, {"error": "unsupported_grant_type"})

        def _client_ok(self, form: dict) -> bool:
            """A confidential client (Google's "desktop" clients) must send its secret, in the body or Basic."""
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            wanted = server.client_secrets.get(client_id)
            return wanted is None or secrets.compare_digest(wanted, secret)

        def do_GET(self) -> None:  # noqa: N802 - the browser step: sign in and consent at once
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/authorize" or query.get("code_challenge_method") != "S256":
                self._reply(400, {"error": "invalid_request"})
                return
            redirect = query["redirect_uri"]
            if server.browser_answer:
                target = f"{redirect}?error={server.browser_answer}&state={query.get('state', '')}"
            else:
                code = secrets.token_urlsafe(12)
                with server.lock:
                    server.codes[code] = (server.browser_user, query["code_challenge"], redirect)
                target = f"{redirect}?code={code}&state={query.get('state', '')}"
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = OAuthServer(httpd)
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
