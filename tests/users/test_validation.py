"""Input validation of the users module's mutations, without a database."""

from __future__ import annotations

import uuid

import pytest

from subgraphs.users.schema import CreateUserInput, _validate_new_user


def _input(**changes: str) -> CreateUserInput:
    values = {"email": "ada@example.com", "display_name": "Ada", "organisation_id": str(uuid.uuid4())} | changes
    return CreateUserInput(**values)


def test_valid_user_passes() -> None:
    assert _validate_new_user(_input()) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "ada"}, "email"),
        ({"email": "ada @example.com"}, "email"),
        ({"display_name": "  "}, "displayName"),
        ({"display_name": "A" * 101}, "displayName"),
        ({"organisation_id": "acme"}, "organisationId"),
    ],
)
def test_invalid_user_rejected(changes: dict, field: str) -> None:
    error = _validate_new_user(_input(**changes))

    assert error is not None
    assert error.field == field
