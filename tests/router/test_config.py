"""Rendering and licence checks of the generated Apollo Router configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from labs64.settings import SUBGRAPH_NAMES, PlatformSettings
from router.build import router_binary_path
from router.config import LICENSED_FEATURES, LicensedFeature, RouterConfig, write_router_config
from router.process import RouterConfigInvalid, validate_config


@pytest.fixture(autouse=True)
def no_license_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A licence in the developer's environment would switch the licence check off.
    monkeypatch.delenv("APOLLO_ROUTER_LICENSE", raising=False)
    monkeypatch.delenv("APOLLO_ROUTER_LICENSE_PATH", raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> PlatformSettings:
    return PlatformSettings(
        host="127.0.0.1",
        router_port=4500,
        router_health_port=8500,
        users_port=5101,
        labs_port=5102,
        billing_port=5103,
        router_dev=True,
        cache_dir=tmp_path / "cache",
    )


def rendered(config: RouterConfig) -> dict[str, Any]:
    return yaml.safe_load(config.to_yaml())


def nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document: Any = value
    for part in reversed(path):
        document = {part: document}
    return document


def sample_value(feature: LicensedFeature) -> Any:
    if feature.path[0] == "limits":
        return 10
    return {"enabled": True}


def test_default_listen_addresses(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["supergraph"]["listen"] == "127.0.0.1:4500"
    assert document["supergraph"]["path"] == "/"
    assert document["health_check"] == {"enabled": True, "listen": "127.0.0.1:8500", "path": "/health"}


def test_default_subgraph_url_overrides(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert list(document["override_subgraph_url"]) == list(SUBGRAPH_NAMES)
    assert document["override_subgraph_url"]["users"] == "http://127.0.0.1:5101/graphql"
    assert document["override_subgraph_url"]["billing"] == "http://127.0.0.1:5103/graphql"


def test_default_cors(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["cors"]["allow_credentials"] is True
    assert document["cors"]["policies"] == [{"origins": ["http://127.0.0.1:4500", "http://localhost:4500"]}]


def test_default_header_propagation(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["headers"]["all"]["request"] == [
        {"propagate": {"named": "Authorization"}},
        {"propagate": {"named": "x-request-id"}},
    ]


def test_default_traffic_shaping(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["traffic_shaping"]["router"] == {"timeout": "60s"}
    assert document["traffic_shaping"]["all"] == {"timeout": "30s", "deduplicate_query": True}


def test_traffic_shaping_fractional_seconds(settings: PlatformSettings) -> None:
    config = RouterConfig.from_settings(settings, traffic_shaping={"router_timeout_s": 1.5, "subgraph_timeout_s": 0.25})

    document = rendered(config)

    assert document["traffic_shaping"]["router"]["timeout"] == "1500ms"
    assert document["traffic_shaping"]["all"]["timeout"] == "250ms"


def test_homepage_and_sandbox_disabled(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["homepage"] == {"enabled": False}
    assert document["sandbox"] == {"enabled": False}


def test_no_apollo_reporting_keys(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert "telemetry" not in document
    assert "license" not in document


def test_dev_mode_details(settings: PlatformSettings) -> None:
    document = rendered(RouterConfig.from_settings(settings))

    assert document["include_subgraph_errors"] == {"all": True}
    assert document["plugins"] == {"experimental.expose_query_plan": True}
    assert document["supergraph"]["introspection"] is True


def test_production_mode_hides_details(settings: PlatformSettings) -> None:
    production = settings.model_copy(update={"router_dev": False})

    document = rendered(RouterConfig.from_settings(production))

    assert document["include_subgraph_errors"] == {"all": False}
    assert "plugins" not in document
    assert document["supergraph"]["introspection"] is False


def test_extra_is_deep_merged(settings: PlatformSettings) -> None:
    config = RouterConfig.from_settings(
        settings, extra={"supergraph": {"introspection": False}, "csrf": {"unsafe_disabled": False}}
    )

    document = rendered(config)

    assert document["supergraph"] == {"listen": "127.0.0.1:4500", "path": "/", "introspection": False}
    assert document["csrf"] == {"unsafe_disabled": False}


def test_cors_wildcard_rejected(settings: PlatformSettings) -> None:
    with pytest.raises(ValidationError, match="invalid CORS origin"):
        RouterConfig.from_settings(settings, cors={"origins": ["http://127.0.0.1:*"]})


@pytest.mark.parametrize("feature", LICENSED_FEATURES, ids=lambda feature: feature.key)
def test_licensed_feature_rejected(settings: PlatformSettings, feature: LicensedFeature) -> None:
    extra = nested(feature.path, sample_value(feature))

    with pytest.raises(ValidationError) as raised:
        RouterConfig.from_settings(settings, extra=extra)

    message = str(raised.value)
    assert f"- {feature.key} ({feature.name})" in message
    assert "GraphOS licence" in message
    assert "APOLLO_ROUTER_LICENSE" in message


def test_all_licensed_features_listed(settings: PlatformSettings) -> None:
    extra: dict[str, Any] = {}
    for feature in LICENSED_FEATURES:
        section = extra
        for part in feature.path[:-1]:
            section = section.setdefault(part, {})
        section[feature.path[-1]] = sample_value(feature)

    with pytest.raises(ValidationError) as raised:
        RouterConfig.from_settings(settings, extra=extra)

    message = str(raised.value)
    for feature in LICENSED_FEATURES:
        assert f"- {feature.key} (" in message


@pytest.mark.parametrize("feature", LICENSED_FEATURES, ids=lambda feature: feature.key)
def test_licensed_feature_allowed_with_license(
    settings: PlatformSettings, tmp_path: Path, feature: LicensedFeature
) -> None:
    extra = nested(feature.path, sample_value(feature))

    config = RouterConfig.from_settings(settings, license=tmp_path / "license.jwt", extra=extra)

    assert feature.path[0] in rendered(config)


def test_license_from_environment(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_ROUTER_LICENSE", "test-licence-token")

    config = RouterConfig.from_settings(settings, extra={"batching": {"enabled": True, "mode": "batch_http_link"}})

    assert rendered(config)["batching"]["enabled"] is True


def test_parser_limits_allowed(settings: PlatformSettings) -> None:
    limits = {"http_max_request_bytes": 1_000_000, "parser_max_tokens": 5000, "parser_max_recursion": 200}

    config = RouterConfig.from_settings(settings, extra={"limits": limits})

    assert rendered(config)["limits"] == limits


def test_write_router_config(settings: PlatformSettings, tmp_path: Path) -> None:
    path = tmp_path / "config" / "router.yaml"
    path.parent.mkdir()
    path.write_text("previous: true\n")
    config = RouterConfig.from_settings(settings)

    write_router_config(config, path)

    assert yaml.safe_load(path.read_text()) == config.to_dict()
    assert path.read_text().startswith("# Apollo Router configuration generated")
    assert sorted(p.name for p in path.parent.iterdir()) == ["router.yaml"]


def built_router() -> Path:
    # The real binary is looked up with the default cache directory, not the test's temporary one.
    binary = router_binary_path(PlatformSettings())
    if not binary.is_file():
        pytest.skip(f"router binary {binary} not built yet; run `labs64 router build` (takes long on few cores)")
    return binary


@pytest.mark.parametrize("dev", [True, False], ids=["dev", "production"])
def test_router_validates_default_config(settings: PlatformSettings, tmp_path: Path, dev: bool) -> None:
    binary = built_router()
    config = RouterConfig.from_settings(settings.model_copy(update={"router_dev": dev}))
    path = write_router_config(config, tmp_path / "router.yaml")

    validate_config(binary, path)


def test_router_rejects_unknown_key(tmp_path: Path) -> None:
    binary = built_router()
    path = tmp_path / "router.yaml"
    path.write_text("supergraph:\n  listen_address: 127.0.0.1:4000\n")

    with pytest.raises(RouterConfigInvalid) as raised:
        validate_config(binary, path)

    assert "listen_address" in raised.value.output
