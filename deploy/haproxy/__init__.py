"""HAProxy in front of the router replicas: its configuration and its runtime API."""

from deploy.haproxy.config import HAProxyConfig, render_haproxy_config, write_haproxy_config
from deploy.haproxy.runtime import HAProxyRuntime, RuntimeAPIError, ServerState

__all__ = [
    "HAProxyConfig",
    "HAProxyRuntime",
    "RuntimeAPIError",
    "ServerState",
    "render_haproxy_config",
    "write_haproxy_config",
]
