"""Signing in with a mail provider (OAuth2), the two ways a desktop program may: the system browser with a
loopback redirect and PKCE (RFC 8252, RFC 7636), or, where no browser can be opened, a code the user types
on another device (RFC 8628). Authlib speaks the protocol; nothing here is hand-written HTTP.

The providers, their endpoints and scopes, and which client registration to use are configuration
(`resources/oauth.json`, the settings, or KLEZGUARD_OAUTH_CLIENT_ID / KLEZGUARD_OAUTH_TENANT): a company can
point KlezGuard at its own registration. A registration for a desktop program is a public client: there is
no secret to keep. (Google still gives its "desktop app" clients a client secret that its token endpoint
wants; it ships in every copy and protects nothing, so it may sit in the provider file or in
KLEZGUARD_OAUTH_CLIENT_SECRET.)
"""

import json
import os
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from klezguard.errors import ConnectionTimedOut, KnownError, SignInAgain
from klezguard.mail.oauth import TokenSet

ENV_CLIENT_ID = "KLEZGUARD_OAUTH_CLIENT_ID"
ENV_TENANT = "KLEZGUARD_OAUTH_TENANT"
ENV_CLIENT_SECRET = "KLEZGUARD_OAUTH_CLIENT_SECRET"  # noqa: S105 - a name; Google's desktop clients need one
BROWSER_WAIT = 300.0  # seconds a user gets to finish signing in in the browser
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = 20


@dataclass(frozen=True)
class Provider:
    name: str  # "microsoft", "google"
    title: str  # "Microsoft", "Google"
    authorize_url: str
    token_url: str
    device_url: str
    scope: str
    client_id: str
    domains: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    client_secret: str = field(default="", repr=False)
    device_flow: bool = True  # whether it lets a program sign in for mail with a code (Google does not)
    revocation_url: str = ""  # RFC 7009, where it has one (Google has, Microsoft has not)
    # The redirect's form: "" is http://127.0.0.1:PORT/<random path>; "http://localhost/" is what Entra
    # matches against a registered http://localhost (any port; the path must match, so it is fixed then).
    redirect: str = ""

    def with_tenant(self, tenant: str) -> "Provider":
        return replace(self, authorize_url=self.authorize_url.replace("{tenant}", tenant),
                       token_url=self.token_url.replace("{tenant}", tenant),
                       device_url=self.device_url.replace("{tenant}", tenant))


ENV_CONFIG = "KLEZGUARD_OAUTH_CONFIG"  # a company's own provider file, in the format of resources/oauth.json


def providers() -> dict[str, Provider]:
    """The shipped providers, with those of the file in KLEZGUARD_OAUTH_CONFIG on top (same format)."""
    data = json.loads(resources.files("klezguard.resources").joinpath("oauth.json").read_text("utf-8"))
    entries = dict(data["providers"])
    extra = os.environ.get(ENV_CONFIG, "")
    if extra:
        try:
            entries.update(json.loads(Path(extra).read_text("utf-8"))["providers"])
        except (OSError, ValueError, KeyError) as exc:
            raise KnownError(f"KlezGuard could not read the sign-in settings in {extra}.",
                             f"Check the file named by {ENV_CONFIG}.", detail=str(exc)) from None
    out = {}
    for name, p in entries.items():
        try:
            urls: tuple[str, ...] = (p["authorize_url"], p["token_url"], p["device_url"])
        except (KeyError, TypeError):
            raise KnownError(f"The sign-in settings for {name} are incomplete.",
                             f"Check the file named by {ENV_CONFIG}.") from None
        urls += (p.get("revocation_url") or "https://",)
        if any(not (u.startswith("https://") or u.startswith(("http://127.0.0.1", "http://localhost"))) for u in urls):
            raise KnownError(f"The sign-in settings for {name} use an unencrypted address.",
                             "Sign-in addresses must start with https://.")
        out[name] = Provider(name, p["title"], p["authorize_url"], p["token_url"], p["device_url"], p["scope"],
                             p.get("client_id", ""), tuple(p.get("domains", ())), tuple(p.get("hosts", ())),
                             p.get("client_secret", ""), bool(p.get("device_flow", True)),
                             p.get("revocation_url", ""), p.get("redirect", ""))
    return out


def provider_for(email: str, host: str = "", issuer: str = "") -> Provider | None:
    """The provider that wants OAuth2 for this address or IMAP server (None: use a password). `issuer`: the
    sign-in the server's autoconfig file names (discovery.Discovery.sign_in), for providers known by neither
    the address nor the server (a company's own, in its provider file)."""
    domain = email.rpartition("@")[2].lower()
    host = host.lower()
    known = providers().values()
    for provider in known:
        if host in provider.hosts:
            return provider
        if domain in provider.domains and (not host or not provider.hosts):
            return provider  # (a provider's address on a server typed by hand gets no token of it)
    if issuer and issuer != "*":
        for provider in known:  # (its tokens still go only to its own servers, where it lists them)
            issuers = {urlparse(provider.authorize_url).hostname, urlparse(provider.token_url).hostname}
            if issuer.lower() in issuers and (not provider.hosts or host in provider.hosts):
                return provider
    return None


def configured(provider: Provider, client_id: str = "", tenant: str = "") -> Provider:
    """The provider with the client registration to use: given, else the environment, else the shipped one."""
    client_id = client_id or os.environ.get(ENV_CLIENT_ID, "") or provider.client_id
    if not client_id:
        raise KnownError(
            f"This copy of KlezGuard has no app registration with {provider.title} for signing in.",
            f"Ask whoever runs your mail to register KlezGuard with {provider.title} (the README says how) and "
            f"enter its client id in Settings, or set {ENV_CLIENT_ID}.")
    tenant = tenant or os.environ.get(ENV_TENANT, "") or "common"
    secret = os.environ.get(ENV_CLIENT_SECRET, "") or provider.client_secret
    return replace(provider, client_id=client_id, client_secret=secret).with_tenant(tenant)


def _session(provider: Provider, **kw):
    from authlib.integrations.requests_client import OAuth2Session

    method = "client_secret_post" if provider.client_secret else "none"
    return OAuth2Session(client_id=provider.client_id, client_secret=provider.client_secret or None,
                         scope=provider.scope, token_endpoint=provider.token_url, code_challenge_method="S256",
                         token_endpoint_auth_method=method, **kw)


def _tokens(response: dict, provider: Provider) -> TokenSet:
    return TokenSet.from_response(response, provider.token_url, provider.client_id,
                                  client_secret=provider.client_secret, revocation_endpoint=provider.revocation_url)


def no_code_sign_in(provider: Provider) -> KnownError:
    return KnownError(f"{provider.title} does not let programs sign in to mail with a code.",
                      f"Sign in with {provider.title} in a browser on this computer. On a computer without one, "
                      f"sign in on one that has a browser, or use an app password if {provider.title} allows it.")


def _fetch(session, provider: Provider, **kw) -> dict:
    from authlib.integrations.base_client.errors import OAuthError
    from requests import RequestException

    try:
        return dict(session.fetch_token(provider.token_url, timeout=TIMEOUT, **kw))
    except OAuthError as exc:
        if exc.error in ("authorization_pending", "slow_down"):
            raise
        if exc.error in ("invalid_client", "unauthorized_client", "invalid_scope"):
            raise KnownError(f"{provider.title} does not accept KlezGuard's app registration.",
                             "Ask whoever set up KlezGuard's registration to check it (README: Signing in).",
                             detail=f"{exc.error}: {exc.description or ''}") from None
        raise SignInAgain(f"{provider.title} did not give KlezGuard access.", "Try signing in again.",
                          detail=f"{exc.error}: {exc.description or ''}") from None
    except RequestException as exc:
        raise ConnectionTimedOut(f"{provider.title}'s sign-in service did not answer.",
                                 "Check that this computer is online, then try again.",
                                 detail=type(exc).__name__) from None


class _Redirect(HTTPServer):
    allow_reuse_address = False  # (on Windows it would let another program share the port)
    answer: dict[str, str] | None = None
    path = "/"
    state = ""


def sign_in_with_browser(provider: Provider, login_hint: str = "", open_url: Callable[[str], object] | None = None,
                         wait: float = BROWSER_WAIT, cancel: threading.Event | None = None) -> TokenSet:
    """Opens the provider's sign-in page in the system browser and waits for it to come back to a one-off
    address on this computer (127.0.0.1, a free port). Raises a KnownError when the user closes the browser
    or says no; `cancel` stops the wait."""
    from authlib.common.security import generate_token

    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # a connection that sends nothing cannot hold the wait

        def log_message(self, *args) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != server.path or query.get("state") != server.state:
                self.send_response(404)  # not this sign-in's answer: keep waiting for it
                self.end_headers()
                return
            server.answer = query
            body = (b"<html><body><p>KlezGuard: you can close this window now and go back to KlezGuard.</p>"
                    b"</body></html>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = _Redirect(("127.0.0.1", 0), Handler)
    server.timeout = 0.2
    port = server.server_address[1]
    if provider.redirect:  # a fixed form the provider matches (the random state still ties it to us)
        fixed = urlparse(provider.redirect)
        server.path = fixed.path or "/"
        redirect_uri = f"{fixed.scheme}://{fixed.hostname}:{port}{server.path}"
    else:
        server.path = "/" + generate_token(16)
        redirect_uri = f"http://127.0.0.1:{port}{server.path}"
    verifier = generate_token(64)
    session = _session(provider, redirect_uri=redirect_uri)
    extra = {"login_hint": login_hint} if login_hint else {}
    url, state = session.create_authorization_url(provider.authorize_url, code_verifier=verifier, **extra)
    server.state = state
    try:
        if (open_url or webbrowser.open)(url) is False:
            raise SignInAgain("KlezGuard could not open a browser here.",
                              "Sign in with a code instead (klezguard account add EMAIL --auth oauth2 --device, "
                              "or the code button in the window)." if provider.device_flow else
                              f"{provider.title} allows signing in to mail only in a browser: sign in on a "
                              "computer where one opens.")
        deadline = time.monotonic() + wait
        while server.answer is None:
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                raise SignInAgain(f"The sign-in with {provider.title} did not finish.",
                                  "Sign in again, and finish in the browser window that opens.")
            server.handle_request()
        answer = server.answer
    finally:
        server.server_close()
    if answer.get("state") != state:
        raise SignInAgain("The answer from the browser did not belong to this sign-in.", "Sign in again.")
    if "error" in answer:
        raise SignInAgain(f"{provider.title} did not give KlezGuard access ({answer['error']}).",
                          "Sign in again and allow access, or ask whoever runs your mail.")
    response = _fetch(session, provider, code=answer["code"], code_verifier=verifier, redirect_uri=redirect_uri)
    session.close()
    return _tokens(response, provider)


@dataclass(frozen=True)
class DeviceCode:
    """What the user types on another device: `user_code` at `verification_uri`."""

    user_code: str
    verification_uri: str
    device_code: str = field(repr=False)  # (redeemable for tokens: never shown)
    interval: float
    expires_at: float


def start_device_sign_in(provider: Provider) -> DeviceCode:
    from requests import RequestException

    if not provider.device_flow:  # (Google refuses the mail scope there with a puzzling error)
        raise no_code_sign_in(provider)
    session = _session(provider)
    try:
        answer = session.post(provider.device_url, data={"client_id": provider.client_id, "scope": provider.scope},
                              timeout=TIMEOUT, withhold_token=True)  # (no token yet: this asks for one)
        data = answer.json()
    except (RequestException, ValueError) as exc:
        raise ConnectionTimedOut(f"{provider.title}'s sign-in service did not answer.",
                                 "Check that this computer is online, then try again.",
                                 detail=type(exc).__name__) from None
    finally:
        session.close()
    if "device_code" not in data:
        raise SignInAgain(f"{provider.title} would not start a sign-in with a code.", "Try signing in again.",
                          detail=str(data.get("error", "")))
    return DeviceCode(data["user_code"], data.get("verification_uri") or data.get("verification_url", ""),
                      data["device_code"], float(data.get("interval", 5)),
                      time.monotonic() + float(data.get("expires_in", 900)))


def finish_device_sign_in(provider: Provider, code: DeviceCode, cancel: threading.Event | None = None,
                          sleep: Callable[[float], object] = time.sleep) -> TokenSet:
    """Asks the provider, at the pace it set, until the user has typed the code (or it runs out)."""
    from authlib.integrations.base_client.errors import OAuthError

    interval = code.interval
    session = _session(provider)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise SignInAgain("The sign-in was cancelled.", "Sign in again when you are ready.")
            if time.monotonic() > code.expires_at:
                raise SignInAgain("The sign-in code ran out before it was used.", "Sign in again for a new code.")
            try:
                response = _fetch(session, provider, grant_type=DEVICE_GRANT, device_code=code.device_code)
                return _tokens(response, provider)
            except OAuthError as exc:
                if exc.error == "slow_down":
                    interval += 5
            except ConnectionTimedOut:
                pass  # a blip while the user types the code: ask again until the code runs out
            if sleep is time.sleep and cancel is not None:
                cancel.wait(interval)
            else:
                sleep(interval)
    finally:
        session.close()
