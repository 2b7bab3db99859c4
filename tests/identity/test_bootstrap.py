"""The Fief bootstrap against the test platform's real Fief: idempotent, with the users module's ids."""

from __future__ import annotations

import jwt

from identity.admin import FiefAdmin
from identity.bootstrap import bootstrap_fief
from identity.config import IdentityConfig
from labs64.dataset import build_dataset
from labs64.platform import Platform


def test_second_run_changes_nothing(backends: Platform, identity: IdentityConfig) -> None:
    messages: list[str] = []

    again = bootstrap_fief(backends.settings, messages.append)

    assert again == identity
    assert messages == ["Fief tenant labs64: 4 permissions, 4 roles, 0 seeded users added"]


def test_seeded_users_keep_module_ids(fief_admin: FiefAdmin) -> None:
    users = build_dataset().users

    for user in (users[0], users[500], users[-1]):
        assert fief_admin.get_user(str(user.id))["email"] == user.email


def test_clients_are_public_and_share_the_tenant(fief_admin: FiefAdmin, identity: IdentityConfig) -> None:
    clients = {client["client_id"]: client for client in fief_admin.list("clients")}

    for client_id in identity.audiences:
        assert clients[client_id]["client_type"] == "public"
        assert clients[client_id]["tenant_id"] == identity.tenant_id


def test_roles_become_token_permissions(seeded_token) -> None:  # type: ignore[no-untyped-def]
    def permissions(ordinal: int) -> set[str]:
        return set(jwt.decode(seeded_token(ordinal), options={"verify_signature": False})["permissions"])

    assert permissions(0) == {"admin", "experiments:read", "experiments:write", "billing:read"}
    assert permissions(1) == {"experiments:read", "experiments:write", "billing:read"}
    assert permissions(2) == {"experiments:read"}
    assert permissions(3) == {"experiments:read", "experiments:write"}
