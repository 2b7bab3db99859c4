"""`labs64 login`, `labs64 token` and `labs64 whoami`: getting and inspecting a Fief access token."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import webbrowser
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse

import click
import httpx

from identity.admin import FiefAdmin
from identity.config import IdentityConfig
from identity.credentials import StoredToken, credentials_path
from identity.errors import IdentityError, TokenInvalid
from identity.oauth import PkceRequest, SignInFailed, exchange_code
from identity.server import FiefSecrets
from identity.verifier import Principal, TokenVerifier
from labs64.settings import get_settings

__all__ = ["login", "token", "whoami"]


def _store(access_token: str, config: IdentityConfig, expires_in: float) -> StoredToken:
    return StoredToken(access_token=access_token, issuer=config.issuer, expires_at=time.time() + float(expires_in))


class _CallbackServer(HTTPServer):
    """Receives one redirect from Fief on the loopback address registered for the CLI client."""

    def __init__(self, port: int, path: str) -> None:
        self.callback_path = path
        self.redirects: queue.Queue[str] = queue.Queue()
        super().__init__(("127.0.0.1", port), _CallbackHandler)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        if urlparse(self.path).path != self.server.callback_path:
            self.send_error(404)
            return
        self.server.redirects.put(self.path)
        body = b"Signed in to Labs64. You can close this tab and return to the terminal.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        # The terminal shows progress lines of our own; the request log would interleave with them.
        return


@click.command()
@click.option("--no-browser", is_flag=True, help="Only print the sign-in URL; do not open a browser.")
@click.option("--timeout", "timeout_s", default=300, show_default=True, help="Seconds to wait for the sign-in to finish.")
def login(no_browser: bool, timeout_s: int) -> None:
    """Sign in through Fief in a browser (authorization code with PKCE) and keep the token."""
    config = IdentityConfig.from_settings(get_settings())
    redirect = urlparse(config.cli_redirect_uri)
    request = PkceRequest.create(config, config.cli_client_id, config.cli_redirect_uri)
    try:
        server = _CallbackServer(redirect.port or 80, redirect.path)
    except OSError as error:
        raise IdentityError(
            f"cannot listen on {config.cli_redirect_uri} for Fief's redirect ({error}); "
            "another `labs64 login` may be running, or set LABS64_FIEF_LOGIN_PORT and run `labs64 up` again."
        ) from error

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        click.echo(f"Open this URL to sign in:\n{request.url}", err=False)
        click.echo(f"Waiting up to {timeout_s} s for the sign-in on {config.cli_redirect_uri} ...", err=True)
        if not no_browser:
            webbrowser.open(request.url)
        try:
            location = server.redirects.get(timeout=timeout_s)
        except queue.Empty:
            raise SignInFailed(f"no sign-in within {timeout_s} s; run `labs64 login` again.") from None
    finally:
        server.shutdown()
        server.server_close()

    tokens = exchange_code(config, config.cli_client_id, request, request.code_from_redirect(location))
    stored = _store(str(tokens["access_token"]), config, float(tokens.get("expires_in", 3600)))  # type: ignore[arg-type]
    path = stored.save()
    principal = asyncio.run(_verify(config, stored.access_token))
    click.echo(f"Signed in as {principal.subject}; token saved to {path}.")


@click.command()
@click.option("--user", "email", required=True, help="Email address of the Fief user to mint a token for.")
@click.option("--save", is_flag=True, help="Also keep it as the current token, as `login` would.")
def token(email: str, save: bool) -> None:
    """Development only: mint an access token for any user through Fief's admin API, and print it."""
    settings = get_settings()
    if not settings.router_dev:
        raise IdentityError(
            "`labs64 token` mints tokens without a password, so it runs only in development, and this "
            "platform has LABS64_ROUTER_DEV=false; sign in with `labs64 login` instead."
        )
    config = IdentityConfig.from_settings(settings)
    with FiefAdmin(settings.fief_url, FiefSecrets.load_or_create(settings).admin_api_key) as admin:
        matches = admin.list("users", email=email, tenant=config.tenant_id)
        if not matches:
            raise IdentityError(f"no Fief user with email {email!r} in tenant {config.issuer}; check the address, or list users' emails with the query `{{ users(first: 5) {{ edges {{ node {{ email }} }} }} }}` as the admin ada.lovelace.0@quantum-labs.example.")
        access_token = admin.user_access_token(matches[0]["id"], config.cli_client_uuid)
    if save:
        path = _store(access_token, config, 24 * 3600).save()
        click.echo(f"Token saved to {path}.", err=True)
    click.echo(access_token)


@click.command()
def whoami() -> None:
    """Show who the kept token signs in as, and what it allows."""
    stored = StoredToken.load()
    if stored is None:
        raise IdentityError(f"not signed in: no token at {credentials_path()}; run `labs64 login`.")
    config = IdentityConfig.from_settings(get_settings())
    if stored.issuer != config.issuer:
        raise IdentityError(f"the kept token is from {stored.issuer}, not this platform's {config.issuer}; run `labs64 login`.")
    try:
        principal = asyncio.run(_verify(config, stored.access_token))
    except TokenInvalid as error:
        raise IdentityError(f"the kept token is not valid any more ({error}); run `labs64 login`.") from error
    email = _email(config, stored.access_token)
    expires = datetime.fromtimestamp(stored.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"user:        {email}")
    click.echo(f"id:          {principal.subject}")
    click.echo(f"permissions: {', '.join(sorted(principal.permissions)) or '(none)'}")
    click.echo(f"issuer:      {config.issuer}")
    click.echo(f"expires:     {expires}")


async def _verify(config: IdentityConfig, access_token: str) -> Principal:
    verifier = TokenVerifier.for_fief(config)
    try:
        return await verifier.authenticate(f"Bearer {access_token}")
    finally:
        await verifier.aclose()


def _email(config: IdentityConfig, access_token: str) -> str:
    # Access tokens carry no email; userinfo has it.
    response = httpx.get(config.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10, trust_env=False)
    return str(response.json().get("email", "?")) if response.status_code == 200 else "?"
