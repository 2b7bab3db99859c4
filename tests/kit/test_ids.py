"""Parsing of ``ID`` arguments."""

from __future__ import annotations

import uuid

import pytest
from graphql import GraphQLError

from subgraphs.kit import parse_id, try_parse_id


def test_parse_id_accepts_uuid() -> None:
    value = uuid.uuid4()

    assert parse_id(str(value)) == value


def test_parse_id_rejects_with_value_and_argument() -> None:
    with pytest.raises(GraphQLError) as raised:
        parse_id("42", argument="ownerId")

    assert "'42'" in raised.value.message
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "argument": "ownerId"}


def test_try_parse_id_returns_none() -> None:
    assert try_parse_id("nope") is None
