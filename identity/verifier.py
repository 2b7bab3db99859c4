"""Access token verification for every module: JWKS signature, issuer, audience, expiry, and a live user.

The algorithm comes from the key the ``kid`` names, never from the token, so ``alg: none`` and
HS256 tokens signed with the public key fail before any signature check. Keys are cached. An
unknown ``kid`` triggers one refetch, because the provider may have rotated its key, and
refetches are rate-limited so that forged ``kid`` values cannot flood the provider with JWKS
requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from identity.config import IdentityConfig
from identity.errors import TokenInvalid, TokenMissing

__all__ = ["JwksCache", "Principal", "SubjectCheck", "FiefUserCheck", "TokenVerifier", "bearer_token"]

logger = logging.getLogger(__name__)

#: Algorithm per key type; Fief publishes RSA keys without an ``alg`` member.
_DEFAULT_ALGORITHMS = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}
_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


@dataclass(frozen=True)
class Principal:
    """The verified sender of a request and the permissions Fief granted them."""

    subject: uuid.UUID
    permissions: frozenset[str]
    client_id: str
    claims: dict[str, Any] = field(repr=False, compare=False)

    def has(self, permission: str) -> bool:
        return permission in self.permissions


def bearer_token(authorization: str | None) -> str:
    """Extract the token of an ``Authorization: Bearer`` header, or raise TokenMissing or TokenInvalid."""
    if not authorization:
        raise TokenMissing("no Authorization header: send `Authorization: Bearer <token>` (get one with `labs64 login`).")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid(f"Authorization scheme {scheme!r} is not supported: send `Authorization: Bearer <token>`.")
    return token.strip()


def _algorithm_of(key: PyJWK) -> str:
    declared = key._jwk_data.get("alg")  # noqa: SLF001 - PyJWK keeps the JWK members only there
    if declared:
        return str(declared)
    kty = key._jwk_data.get("kty")  # noqa: SLF001
    if kty == "EC":
        return _EC_ALGORITHMS.get(key._jwk_data.get("crv", ""), "ES256")  # noqa: SLF001
    if kty in _DEFAULT_ALGORITHMS:
        return _DEFAULT_ALGORITHMS[kty]
    raise TokenInvalid(f"signing key of type {kty!r} is not supported")


class JwksCache:
    """The provider's signing keys by ``kid``, fetched on demand and refetched at most every ``min_refetch_s``."""

    def __init__(
        self, url: str, http: httpx.AsyncClient, *, min_refetch_s: float = 30.0, max_age_s: float = 3600.0
    ) -> None:
        self.url = url
        self._http = http
        self._min_refetch_s = min_refetch_s
        self._max_age_s = max_age_s
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> PyJWK:
        key = self._keys.get(kid)
        if key is not None and time.monotonic() - self._fetched_at < self._max_age_s:
            return key
        async with self._lock:
            # Another request may have refreshed the set while this one waited for the lock.
            key = self._keys.get(kid)
            fresh = time.monotonic() - self._fetched_at < self._max_age_s
            if key is not None and fresh:
                return key
            if time.monotonic() - self._fetched_at >= self._min_refetch_s:
                await self._refresh()
            elif key is not None:
                # Too soon to refetch: a known key stays usable past its age rather than failing everyone.
                return key
        key = self._keys.get(kid)
        if key is None:
            raise TokenInvalid(f"unknown signing key id {kid!r}: the provider's JWKS at {self.url} does not list it")
        return key

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            response = await self._http.get(self.url)
            response.raise_for_status()
            keys = PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as error:
            logger.warning("JWKS fetch failed", extra={"jwks_url": self.url, "error": str(error)})
            return
        self._keys = {key.key_id: key for key in keys.keys if key.key_id and key._jwk_data.get("use", "sig") == "sig"}  # noqa: SLF001
        logger.info("JWKS fetched", extra={"jwks_url": self.url, "kids": sorted(self._keys)})


class SubjectCheck(Protocol):
    """Tells whether the user a verified token names still exists and is active."""

    async def __call__(self, principal: Principal, token: str) -> bool: ...


class FiefUserCheck:
    """Checks with Fief's userinfo endpoint that the user still exists, and caches each result for ``ttl_s``.

    A signed token stays valid until it expires even after its user is deleted; this check closes
    that gap. NOTE: a user deleted less than ``ttl_s`` after their last request keeps access for
    the rest of that window.
    """

    def __init__(self, userinfo_url: str, http: httpx.AsyncClient, *, ttl_s: float = 60.0, max_entries: int = 100_000) -> None:
        self.userinfo_url = userinfo_url
        self._http = http
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._results: dict[uuid.UUID, tuple[bool, float]] = {}
        self.lookups = 0

    async def __call__(self, principal: Principal, token: str) -> bool:
        cached = self._results.get(principal.subject)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]

        self.lookups += 1
        try:
            response = await self._http.get(self.userinfo_url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as error:
            # Without a result the request is rejected, because granting access to a possibly deleted user is worse.
            raise TokenInvalid(f"cannot confirm the user with the identity provider ({error}); try again shortly") from error
        if response.status_code >= 500:
            # NOTE: Fief 0.27 returns 500 here for a deleted user (its UserDoesNotExistError is
            # unhandled), so this branch also covers deletion. It is not cached, so an outage heals.
            raise TokenInvalid(
                f"cannot confirm user {principal.subject} with the identity provider (status {response.status_code}); "
                "the user may have been deleted, or Fief is failing"
            )
        exists = response.status_code == 200 and response.json().get("sub") == str(principal.subject)
        if len(self._results) >= self._max_entries:
            self._results.clear()
        self._results[principal.subject] = (exists, now + self._ttl_s)
        return exists


class TokenVerifier:
    """Turns an ``Authorization`` header into a :class:`Principal` or raises TokenMissing / TokenInvalid."""

    def __init__(
        self,
        config: IdentityConfig,
        jwks: JwksCache,
        subject_check: SubjectCheck | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.jwks = jwks
        self.subject_check = subject_check
        self._audiences = list(config.audiences)
        self._http = http

    @classmethod
    def for_fief(cls, config: IdentityConfig) -> TokenVerifier:
        """Build a verifier with its own HTTP client for the JWKS and userinfo calls. Close it with :meth:`aclose`."""
        http = httpx.AsyncClient(timeout=5, trust_env=False)
        return cls(config, JwksCache(config.jwks_url, http), FiefUserCheck(config.userinfo_url, http), http)

    async def userinfo(self, authorization: str | None) -> dict[str, Any]:
        """Fief's userinfo for the caller (email and the like, which access tokens do not carry)."""
        if self._http is None:
            raise TokenInvalid("this verifier has no HTTP client to ask the identity provider with")
        response = await self._http.get(self.config.userinfo_url, headers={"Authorization": f"Bearer {bearer_token(authorization)}"})
        if response.status_code != 200:
            raise TokenInvalid(f"the identity provider rejected the userinfo request (status {response.status_code})")
        return dict(response.json())

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        principal = await self.verify(token)
        if self.subject_check is not None and not await self.subject_check(principal, token):
            raise TokenInvalid(f"user {principal.subject} no longer exists or is deactivated")
        return principal

    async def verify(self, token: str) -> Principal:
        """Check signature and claims of ``token``; the identity provider is not asked about the user."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise TokenInvalid(f"malformed token: {error}") from error
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("token header has no key id (kid)")

        key = await self.jwks.key(kid)
        algorithm = _algorithm_of(key)
        if header.get("alg") != algorithm:
            raise TokenInvalid(f"token algorithm {header.get('alg')!r} does not match its key's {algorithm}")

        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self._audiences,
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenInvalid("token expired: sign in again with `labs64 login`") from error
        except jwt.InvalidAudienceError as error:
            raise TokenInvalid(f"token audience is not one of this platform's clients ({error})") from error
        except jwt.InvalidIssuerError as error:
            raise TokenInvalid(f"token issuer is not {self.config.issuer}") from error
        except jwt.PyJWTError as error:
            raise TokenInvalid(f"token rejected: {error}") from error

        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        subject = uuid.UUID(str(claims["sub"]))
    except ValueError as error:
        raise TokenInvalid(f"token subject {claims['sub']!r} is not a user id") from error
    permissions = claims.get("permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise TokenInvalid("token permissions claim is not a list of strings")
    azp = claims.get("azp") or ""
    return Principal(subject, frozenset(permissions), str(azp), claims)

