"""Bounded polling for effects that arrive asynchronously through Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout_s: float = 60.0, what: str = "condition") -> T:
    """Call ``probe`` until ``accept`` holds for its result; fail with the last result after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s:.0f} s; last value: {result!r}")
        await asyncio.sleep(0.2)
