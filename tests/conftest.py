"""Session fixtures: one platform per test run, on its own ports and data directory.

The platform is started once, through the same code as `labs64 up`, so the end-to-end tests
exercise the real start-up path, and it is stopped by supervisord's PID at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from identity.admin import FiefAdmin
from identity.config import IdentityConfig
from identity.server import FiefSecrets
from labs64.dataset import seed_id
from labs64.platform import Platform
from labs64.seed import seed_platform
from labs64.settings import PlatformSettings
from subgraphs.kit import Database

os.environ.setdefault("APOLLO_TELEMETRY_DISABLED", "true")


def _test_settings(data_dir: Path) -> PlatformSettings:
    # Ports differ from the development defaults so a developer's running platform and the
    # test suite do not collide. LABS64_TEST_PORT_OFFSET shifts them all, so that two checkouts
    # can run their suites side by side on one machine.
    offset = int(os.environ.get("LABS64_TEST_PORT_OFFSET", "0"))
    return PlatformSettings(
        data_dir=data_dir,
        postgres_port=15433 + offset,
        redis_port=16380 + offset,
        users_port=4201 + offset * 10,
        labs_port=4202 + offset * 10,
        billing_port=4203 + offset * 10,
        router_port=4200 + offset * 10,
        router_health_port=8188 + offset,
        kafka_port=19094 + offset * 2,
        kafka_controller_port=19095 + offset * 2,
        router_replica_ports=[4205 + offset * 10],
        router_replica_health_ports=[8288 + offset],
        haproxy_port=4204 + offset * 10,
        haproxy_stats_port=8388 + offset,
        edge_port=4206 + offset * 10,
        fief_port=18100 + offset,
        fief_redis_port=16490 + offset,
        fief_login_port=18200 + offset,
        supergraph_path=data_dir / "supergraph.graphql",
        startup_timeout_s=180,
    )


@pytest.fixture(scope="session")
def platform_settings() -> Iterator[PlatformSettings]:
    data_dir = Path(tempfile.mkdtemp(prefix="labs64-test-"))
    # PostgreSQL runs as the 'postgres' user when the suite runs as root, and must reach its
    # data directory below this one.
    data_dir.chmod(0o755)
    yield _test_settings(data_dir)
    if os.environ.get("LABS64_TEST_KEEP_DATA") != "1":
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def backends(platform_settings: PlatformSettings) -> Iterator[Platform]:
    """PostgreSQL, Redis and the three subgraphs, migrated and seeded, for the whole run."""
    instance = Platform(platform_settings)
    try:
        instance.start_backends()
        seed_platform(platform_settings)
        yield instance
    finally:
        instance.down()


@pytest.fixture(scope="session")
def platform(backends: Platform) -> Platform:
    """The whole platform: the backends plus the Apollo Router in front of them."""
    from router.build import router_binary_path

    binary = router_binary_path(backends.settings)
    if not binary.exists():
        pytest.fail(f"Apollo Router binary missing at {binary}: build it with `labs64 router build` (CI does this first).")
    backends.start_router()
    backends.start_front_door()
    return backends


@pytest.fixture(scope="session")
def identity(backends: Platform) -> IdentityConfig:
    """Issuer, JWKS and client ids of the test platform's Fief, as its bootstrap wrote them."""
    return IdentityConfig.from_settings(backends.settings)


@pytest.fixture(scope="session")
def fief_admin(backends: Platform) -> Iterator[FiefAdmin]:
    with FiefAdmin(backends.settings.fief_url, FiefSecrets.load_or_create(backends.settings).admin_api_key) as admin:
        yield admin


@pytest.fixture(scope="session")
def seeded_token(fief_admin: FiefAdmin, identity: IdentityConfig) -> Callable[[int], str]:
    """A real Fief access token of the ``ordinal``-th seeded user, minted through the admin API."""
    tokens: dict[int, str] = {}

    def token(ordinal: int) -> str:
        if ordinal not in tokens:
            tokens[ordinal] = fief_admin.user_access_token(str(seed_id("user", ordinal)), identity.cli_client_uuid)
        return tokens[ordinal]

    return token


@pytest.fixture
async def router_client(platform: Platform, seeded_token: Callable[[int], str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the router signed in as the seeded admin (user 0), who may see every row."""
    headers = {"Authorization": f"Bearer {seeded_token(0)}"}
    async with httpx.AsyncClient(base_url=platform.settings.router_url, timeout=30, trust_env=False, headers=headers) as client:
        yield client


@pytest.fixture
async def anonymous_router_client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.settings.router_url, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
async def users_database(backends: Platform) -> AsyncIterator[Database]:
    database = Database(backends.settings.database_url("users"), pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def labs_database(backends: Platform) -> AsyncIterator[Database]:
    database = Database(backends.settings.database_url("labs"), pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def billing_database(backends: Platform) -> AsyncIterator[Database]:
    database = Database(backends.settings.database_url("billing"), pool_size=2)
    yield database
    await database.dispose()
