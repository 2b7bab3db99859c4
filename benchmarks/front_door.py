"""Benchmark the front door: latency the edge Worker and HAProxy add, and cache-hit throughput.

Run it against a running platform (`labs64 up` and `labs64 seed`), with the same LABS64_*
settings:

    .venv/bin/python benchmarks/front_door.py [--requests 300] [--hits 1000] [--concurrency 8]

Latency: one client sends the same query (POST, so the edge does not cache it) in turn to the
router directly, to HAProxy, and to the edge, so all three paths see the same machine load.
Throughput: concurrent GETs of a persisted query that the edge serves from its cache, next to
the same query sent directly to the router. Results are printed and written to
benchmarks/results/front_door.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.edge import load_operations  # noqa: E402
from labs64.settings import get_settings  # noqa: E402

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "front_door.json"
QUERY = "{ plans { code name monthlyPrice { amountCents currency } } }"

# Every request carries its own client address: the benchmark measures the edge's work, and the
# per-client rate limit (600 requests a minute by default) would otherwise return 429.
_addresses = count()


def _client_address() -> str:
    number = next(_addresses)
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


def _summary(samples_s: list[float]) -> dict[str, float]:
    milliseconds = [sample * 1000 for sample in samples_s]
    return {
        "p50_ms": round(_percentile(milliseconds, 0.50), 2),
        "p99_ms": round(_percentile(milliseconds, 0.99), 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
    }


def _check(response: httpx.Response, path: str) -> None:
    if response.status_code != 200 or "errors" in response.json():
        raise SystemExit(f"{path} failed with HTTP {response.status_code}: {response.text[:300]}")


def measure_latency(targets: dict[str, str], requests: int) -> dict[str, dict[str, float]]:
    samples: dict[str, list[float]] = {name: [] for name in targets}
    with httpx.Client(timeout=30, trust_env=False) as client:
        for number in range(requests):
            for name, url in targets.items():
                started = time.perf_counter()
                response = client.post(url, json={"query": QUERY}, headers={"cf-connecting-ip": _client_address()})
                samples[name].append(time.perf_counter() - started)
                _check(response, name)
            if (number + 1) % 100 == 0:
                print(f"latency: {number + 1}/{requests} rounds", file=sys.stderr, flush=True)
    return {name: _summary(values) for name, values in samples.items()}


async def measure_throughput(url: str, requests: int, concurrency: int, *, persisted_id: str | None) -> dict[str, float]:
    remaining = iter(range(requests))
    latencies: list[float] = []
    cache_statuses: dict[str, int] = {}

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            headers = {"cf-connecting-ip": _client_address()}
            started = time.perf_counter()
            if persisted_id is None:
                response = await client.post(url, json={"query": QUERY}, headers=headers)
            else:
                response = await client.get(url, params={"id": persisted_id}, headers=headers)
            latencies.append(time.perf_counter() - started)
            _check(response, url)
            status = response.headers.get("x-labs64-cache", "none")
            cache_statuses[status] = cache_statuses.get(status, 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": requests, "seconds": round(elapsed, 2), "requests_per_s": round(requests / elapsed, 1), **_summary(latencies), "cache": cache_statuses}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="Latency rounds; each sends one request per path.")
    parser.add_argument("--hits", type=int, default=1000, help="Requests of each throughput measurement.")
    parser.add_argument("--concurrency", type=int, default=8, help="Concurrent clients of the throughput measurements.")
    arguments = parser.parse_args()

    settings = get_settings()
    targets = {"router": settings.router_url, "haproxy": settings.haproxy_url, "edge_and_haproxy": settings.edge_url}
    plans = next(operation for operation in load_operations() if operation.name == "Plans")

    print(f"latency: {arguments.requests} rounds over {', '.join(targets)}", file=sys.stderr, flush=True)
    latency = measure_latency(targets, arguments.requests)
    added = {
        path: {
            "p50_ms": round(latency[path]["p50_ms"] - latency["router"]["p50_ms"], 2),
            "p99_ms": round(latency[path]["p99_ms"] - latency["router"]["p99_ms"], 2),
        }
        for path in ("haproxy", "edge_and_haproxy")
    }

    print(f"throughput: {arguments.hits} cache hits and {arguments.hits} direct router requests", file=sys.stderr, flush=True)
    httpx.get(settings.edge_url, params={"id": plans.id}, headers={"cf-connecting-ip": _client_address()}, trust_env=False)
    cache_hits = asyncio.run(measure_throughput(settings.edge_url, arguments.hits, arguments.concurrency, persisted_id=plans.id))
    direct = asyncio.run(measure_throughput(settings.router_url, arguments.hits, arguments.concurrency, persisted_id=None))

    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "query": QUERY,
        "latency_rounds": arguments.requests,
        "latency": latency,
        "added_latency": added,
        "concurrency": arguments.concurrency,
        "edge_cache_hit_throughput": cache_hits,
        "direct_router_throughput": direct,
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {RESULTS_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
