"""The schema registry: published supergraph versions in PostgreSQL, and their rollout to routers."""

from schema.registry.store import (
    REGISTRY_NAME,
    PublishedSubgraph,
    RegistryError,
    RegistryUnavailable,
    SchemaVersion,
    VersionNotFound,
    fetch_history,
    fetch_latest,
    fetch_version,
    migrate_registry,
    publish_version,
    registry_url,
)

__all__ = [
    "REGISTRY_NAME",
    "PublishedSubgraph",
    "RegistryError",
    "RegistryUnavailable",
    "SchemaVersion",
    "VersionNotFound",
    "fetch_history",
    "fetch_latest",
    "fetch_version",
    "migrate_registry",
    "publish_version",
    "registry_url",
]
