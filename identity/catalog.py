"""What the platform declares in Fief: its tenant, clients, permissions, roles and who holds them.

The bootstrap makes Fief match this catalog, and the subgraphs' permission classes name the same
permission codenames, so this module is the one place that lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADMIN",
    "BILLING_READ",
    "CLI_CLIENT",
    "EXPERIMENTS_READ",
    "EXPERIMENTS_WRITE",
    "PERMISSIONS",
    "ROLES",
    "Role",
    "SEED_PASSWORD",
    "TENANT_NAME",
    "TENANT_SLUG",
    "WEB_CLIENT",
    "WEB_REDIRECT_URIS",
    "roles_of_seeded_user",
]

TENANT_NAME = "Labs64"
#: Fief derives the slug from the name; the issuer is ``https://<domain>/<slug>``.
TENANT_SLUG = "labs64"

WEB_CLIENT = "Labs64 web"
CLI_CLIENT = "Labs64 CLI"
#: Browser apps in development redirect back to these after sign-in.
WEB_REDIRECT_URIS = ("http://localhost:3000/callback", "http://127.0.0.1:3000/callback")

EXPERIMENTS_READ = "experiments:read"
EXPERIMENTS_WRITE = "experiments:write"
BILLING_READ = "billing:read"
ADMIN = "admin"

#: Codename -> display name.
PERMISSIONS: dict[str, str] = {
    EXPERIMENTS_READ: "Read experiments",
    EXPERIMENTS_WRITE: "Create and change experiments",
    BILLING_READ: "Read every user's plans and invoices",
    ADMIN: "Administer the platform",
}


@dataclass(frozen=True)
class Role:
    name: str
    permissions: tuple[str, ...]
    #: Fief grants default roles to new sign-ups (through its worker).
    granted_by_default: bool = False


ROLES: tuple[Role, ...] = (
    Role("viewer", (EXPERIMENTS_READ,)),
    Role("researcher", (EXPERIMENTS_READ, EXPERIMENTS_WRITE), granted_by_default=True),
    Role("finance", (BILLING_READ,)),
    Role("admin", (ADMIN, EXPERIMENTS_READ, EXPERIMENTS_WRITE, BILLING_READ)),
)

#: Password of every seeded user; development and tests only.
SEED_PASSWORD = "labs64-dev-password"


def roles_of_seeded_user(ordinal: int) -> tuple[str, ...]:
    """Roles of the ``ordinal``-th seeded user: 0 is the admin, 1 reads billing, 2 only reads."""
    if ordinal == 0:
        return ("admin",)
    if ordinal == 1:
        return ("researcher", "finance")
    if ordinal == 2:
        return ("viewer",)
    return ("researcher",)
