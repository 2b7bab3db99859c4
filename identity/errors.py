"""Errors of the identity component, one class per cause."""

from __future__ import annotations

__all__ = [
    "IdentityError",
    "FiefAdminError",
    "IdentityNotConfigured",
    "TokenInvalid",
    "TokenMissing",
]


class IdentityError(Exception):
    """Base class of every identity error."""


class FiefAdminError(IdentityError):
    """Fief's admin API failed or refused a call."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class IdentityNotConfigured(IdentityError):
    """The bootstrap has not written the issuer, JWKS and client ids yet."""


class TokenMissing(IdentityError):
    """The request carries no bearer token."""


class TokenInvalid(IdentityError):
    """The bearer token failed verification, and the message names the failed check."""
