"""Authorization code with PKCE against Fief: the URL to open, the code exchange, and a form-driven sign-in.

`labs64 login` opens the authorize URL in a browser; tests and scripts sign in with
:func:`sign_in_with_password`, which submits Fief's own login form exactly as a browser would.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx

from identity.config import IdentityConfig
from identity.errors import IdentityError

__all__ = ["PkceRequest", "SignInFailed", "exchange_code", "submit_login_form", "sign_in_with_password"]

_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class SignInFailed(IdentityError):
    """Fief issued no code or token. The message names the step that failed."""


@dataclass(frozen=True)
class PkceRequest:
    """One authorization request: its PKCE verifier, state and the URL that starts it."""

    verifier: str
    state: str
    redirect_uri: str
    url: str

    @classmethod
    def create(cls, config: IdentityConfig, client_id: str, redirect_uri: str, scope: str = "openid") -> PkceRequest:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return cls(verifier, state, redirect_uri, f"{config.authorize_url}?{query}")

    def code_from_redirect(self, location: str) -> str:
        """Return the code of the redirect back to the CLI, after checking its state."""
        query = parse_qs(urlparse(location).query)
        if "error" in query:
            raise SignInFailed(f"Fief rejected the sign-in: {query['error'][0]} {query.get('error_description', [''])[0]}".strip())
        if query.get("state", [""])[0] != self.state:
            raise SignInFailed("the redirect's state does not match the request's; start the sign-in again.")
        if "code" not in query:
            raise SignInFailed(f"the redirect {location!r} carries no authorization code.")
        return query["code"][0]


def exchange_code(config: IdentityConfig, client_id: str, request: PkceRequest, code: str) -> dict[str, object]:
    """Trade the authorization code and PKCE verifier for tokens at Fief's token endpoint."""
    response = httpx.post(
        config.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "client_id": client_id,
            "code_verifier": request.verifier,
        },
        timeout=15,
        trust_env=False,
    )
    if response.status_code != 200:
        raise SignInFailed(f"Fief's token endpoint failed with status {response.status_code}: {response.text[:300]}")
    return response.json()


def submit_login_form(authorize_url: str, redirect_uri: str, email: str, password: str) -> str:
    """Do what a person does in the browser: open the authorize URL, fill in Fief's login form.

    Returns the redirect back to ``redirect_uri``, with the code and state in its query.
    """

    def follow(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
        while response.status_code in (302, 303, 307) and not response.headers["location"].startswith(redirect_uri):
            response = browser.get(urljoin(str(response.url), response.headers["location"]))
        return response

    with httpx.Client(timeout=15, trust_env=False, follow_redirects=False) as browser:
        # The authorize endpoint sends the browser on to the tenant's login page.
        response = follow(browser, browser.get(authorize_url))
        if response.status_code != 200:
            raise SignInFailed(f"Fief's login page failed with status {response.status_code}: {response.text[:300]}")
        form = {"email": email, "password": password, "csrf_token": _csrf_token(response.text)}
        response = follow(browser, browser.post(str(response.url), data=form))
        if response.status_code not in (302, 303, 307):
            raise SignInFailed(f"Fief did not accept the credentials of {email} (status {response.status_code}); check email and password.")
        return response.headers["location"]


def sign_in_with_password(config: IdentityConfig, email: str, password: str) -> dict[str, object]:
    """Sign in through Fief's login form with the CLI client and return the token response."""
    request = PkceRequest.create(config, config.cli_client_id, config.cli_redirect_uri)
    location = submit_login_form(request.url, request.redirect_uri, email, password)
    return exchange_code(config, config.cli_client_id, request, request.code_from_redirect(location))


def _csrf_token(page: str) -> str:
    match = _CSRF_FIELD.search(page)
    if match is None:
        raise SignInFailed("Fief's login page has no csrf_token field; is this a Fief 0.27 login form?")
    return match.group(1) or match.group(2)
