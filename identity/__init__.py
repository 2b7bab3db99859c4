"""Identity: the Fief server the platform runs, its bootstrap, and token verification for every module."""

from identity.config import IdentityConfig
from identity.errors import FiefAdminError, IdentityError, IdentityNotConfigured, TokenInvalid, TokenMissing

__all__ = [
    "FiefAdminError",
    "IdentityConfig",
    "IdentityError",
    "IdentityNotConfigured",
    "TokenInvalid",
    "TokenMissing",
]
