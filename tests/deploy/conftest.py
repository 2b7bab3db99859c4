"""Fixtures of the front door tests: test-configured edge Workers, a JWKS and signing keys."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from deploy.edge import EdgeConfig
from labs64.platform import Platform
from tests.deploy.edge import running_edge
from tests.deploy.servers import LocalServer

ISSUER = "https://identity.labs64.test/tenant"
AUDIENCE = "labs64-api"

_client_numbers = itertools.count(1)


def new_client_address() -> str:
    """A client address of its own for one test, so rate limits of other tests do not apply."""
    number = next(_client_numbers)
    return f"198.51.100.{number % 250 + 1}" if number < 250 else f"203.0.113.{number % 250 + 1}"


@dataclass
class Keys:
    """The JWKS's signing keys, and a key that is not in it, for forged tokens."""

    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    stranger: rsa.RSAPrivateKey

    def token(self, *, alg: str = "RS256", key: Any = None, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300} | claims
        signing_key = key
        if signing_key is None:
            signing_key = self.rsa if alg == "RS256" else self.ec
        return jwt.encode(payload, signing_key, algorithm=alg, headers={"kid": kid or ("rsa-1" if alg == "RS256" else "ec-1")})


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        stranger=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture(scope="session")
def jwks_server(keys: Keys) -> Iterator[LocalServer]:
    rsa_jwk = RSAAlgorithm.to_jwk(keys.rsa.public_key(), as_dict=True) | {"kid": "rsa-1", "alg": "RS256", "use": "sig"}
    ec_jwk = ECAlgorithm.to_jwk(keys.ec.public_key(), as_dict=True) | {"kid": "ec-1", "alg": "ES256", "use": "sig"}
    with LocalServer(lambda handler, body: (200, {"keys": [rsa_jwk, ec_jwk]})) as server:
        yield server


@pytest.fixture(scope="session")
def echo_origin() -> Iterator[LocalServer]:
    """A GraphQL origin that records every request and returns {"data": {"__typename": "Query"}}."""
    with LocalServer(lambda handler, body: (200, {"data": {"__typename": "Query"}})) as server:
        yield server


def _test_edge_port(platform: Platform, number: int) -> int:
    # The platform's edge uses edge_port; the test Workers take the next ports of the same block.
    return platform.settings.edge_port + number


@pytest.fixture(scope="session")
def waf_edge(platform: Platform, jwks_server: LocalServer) -> Iterator[tuple[EdgeConfig, Path]]:
    """A production-mode edge in front of the platform's HAProxy, verifying tokens against the test JWKS."""
    config = EdgeConfig.from_settings(
        platform.settings,
        port=_test_edge_port(platform, 1),
        development=False,
        jwks_url=f"{jwks_server.url}/.well-known/jwks.json",
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        rate_limit_per_client=20,
        rate_limit_per_token=5,
    )
    with running_edge(config, platform.settings.data_dir, "edge-waf") as log_path:
        yield config, log_path


@pytest.fixture(scope="session")
def safelist_edge(platform: Platform) -> Iterator[EdgeConfig]:
    config = EdgeConfig.from_settings(platform.settings, port=_test_edge_port(platform, 2), safelist=True)
    with running_edge(config, platform.settings.data_dir, "edge-safelist"):
        yield config


@pytest.fixture(scope="session")
def echo_edge(platform: Platform, echo_origin: LocalServer) -> Iterator[EdgeConfig]:
    # The echo origin checks no tokens, and these tests send made-up ones, so the edge verifies none.
    config = EdgeConfig.from_settings(
        platform.settings,
        port=_test_edge_port(platform, 3),
        origin_url=echo_origin.url,
        jwks_url=None,
        jwt_issuer=None,
        jwt_audience=None,
    )
    with running_edge(config, platform.settings.data_dir, "edge-echo"):
        yield config
