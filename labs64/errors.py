"""Errors the platform tooling reports to its user."""

from __future__ import annotations

__all__ = ["PlatformError", "ComponentUnhealthy"]


class PlatformError(Exception):
    """A platform operation failed; the message says what and how to fix it."""


class ComponentUnhealthy(PlatformError):
    """A component did not pass its health check in time."""
