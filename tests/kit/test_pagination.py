"""Cursor encoding and page-size checks of the shared pagination helper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from graphql import GraphQLError

from subgraphs.kit.pagination import MAX_PAGE_SIZE, _check_page_size, decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    created_at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    row_id = uuid.uuid4()

    assert decode_cursor(encode_cursor(created_at, row_id)) == (created_at, row_id)


@pytest.mark.parametrize("cursor", ["not-a-cursor", "", "!!!", "bm8tc2VwYXJhdG9y"])
def test_invalid_cursor_names_value(cursor: str) -> None:
    with pytest.raises(GraphQLError) as raised:
        decode_cursor(cursor)

    assert raised.value.extensions["code"] == "BAD_USER_INPUT"
    assert repr(cursor) in raised.value.message


def test_page_size_defaults_and_bounds() -> None:
    assert _check_page_size(None) == 20
    assert _check_page_size(0) == 0
    assert _check_page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE


@pytest.mark.parametrize("first", [-1, MAX_PAGE_SIZE + 1])
def test_page_size_out_of_range_rejected(first: int) -> None:
    with pytest.raises(GraphQLError) as raised:
        _check_page_size(first)

    assert raised.value.extensions["argument"] == "first"
    assert str(first) in raised.value.message
