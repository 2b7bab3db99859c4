"""Bounded GraphQL load for the front door tests: a fixed number of requests, a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

QUERY = "{ users(first: 2) { edges { node { email } } } }"


@dataclass
class LoadResult:
    """Outcome of a load run: how many requests succeeded, and a description of every failure."""

    succeeded: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.succeeded + len(self.failures)


async def run_load(
    url: str,
    *,
    requests: int,
    concurrency: int,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], Awaitable[None]] | None = None,
    pause_s: float = 0.0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Send up to ``requests`` POST queries to ``url``; a request fails on any non-200 or GraphQL error."""
    result = LoadResult()
    counter = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in counter:
            if should_stop():
                return
            try:
                response = await client.post(url, json={"query": QUERY})
                body = response.json() if response.status_code == 200 else None
                if response.status_code != 200 or body.get("errors") or not body.get("data"):
                    result.failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                else:
                    result.succeeded += 1
            except httpx.HTTPError as error:
                result.failures.append(f"{type(error).__name__}: {error}")
            if on_progress is not None:
                await on_progress(result.sent)
            if pause_s:
                await asyncio.sleep(pause_s)

    async with httpx.AsyncClient(timeout=30, trust_env=False, headers=headers) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return result
