"""Fixtures of the event tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from labs64.platform import Platform
from tests.events.graphql import Caller


@pytest.fixture
def caller(backends: Platform, seeded_token: Callable[[int], str]) -> Caller:
    """Calls to the subgraphs as the seeded admin, who may create and delete any user's data."""
    return Caller(backends.settings, seeded_token(0))
