"""Errors the platform tooling reports to its user."""

from __future__ import annotations

__all__ = ["PlatformError", "ComponentUnhealthy"]


class PlatformError(Exception):
    """A platform operation failed, and the message names the failure and its fix."""


class ComponentUnhealthy(PlatformError):
    """A component did not pass its health check in time."""
