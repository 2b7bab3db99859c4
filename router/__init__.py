"""Apollo Router tooling: configuration, build from the crate registry, and process command line."""

from router.build import RouterBuildError, build_router, router_binary_path
from router.config import LICENSED_FEATURES, RouterConfig, write_router_config
from router.process import RouterConfigInvalid, router_command, router_environment, validate_config

__all__ = [
    "LICENSED_FEATURES",
    "RouterBuildError",
    "RouterConfig",
    "RouterConfigInvalid",
    "build_router",
    "router_binary_path",
    "router_command",
    "router_environment",
    "validate_config",
    "write_router_config",
]
