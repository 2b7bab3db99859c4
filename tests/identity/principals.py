"""Verified callers for tests that run a module's schema in-process, where no token crosses a process boundary.

Tests through the router use real tokens from Fief instead (see tests/e2e).
"""

from __future__ import annotations

import uuid

from identity.catalog import ADMIN, BILLING_READ, EXPERIMENTS_READ, EXPERIMENTS_WRITE, ROLES, roles_of_seeded_user
from identity.verifier import Principal
from labs64.dataset import seed_id

__all__ = ["ADMIN_PRINCIPAL", "principal", "seeded_principal"]


def principal(subject: uuid.UUID, *permissions: str) -> Principal:
    return Principal(subject=subject, permissions=frozenset(permissions), client_id="tests", claims={})


def seeded_principal(ordinal: int) -> Principal:
    """The ``ordinal``-th seeded user with the permissions the bootstrap gives them."""
    roles = {role.name: role for role in ROLES}
    permissions = {p for name in roles_of_seeded_user(ordinal) for p in roles[name].permissions}
    return principal(seed_id("user", ordinal), *permissions)


#: The seeded admin: sees every row, as the in-process tests did before authorization existed.
ADMIN_PRINCIPAL = principal(seed_id("user", 0), ADMIN, EXPERIMENTS_READ, EXPERIMENTS_WRITE, BILLING_READ)
