"""What token verification costs each request, measured against the running platform's Fief.

Run `labs64 up` first (same LABS64_* settings), then:

    .venv/bin/python benchmarks/token_verification.py [--iterations 2000]

It prints a table and writes benchmarks/results/token_verification.json. Three cases:

- verify: signature and claims with the JWKS already cached; what every request pays.
- authenticate: verify plus the cached result of the user check. This is the steady state.
- jwks_fetch: a fresh verifier per call checking signature and claims only, so one JWKS fetch
  and verify; what the first request of a process pays before the user check.
- cold: a fresh verifier per call, so JWKS fetch, verify and one userinfo call; what the first
  request of a process pays. A user-check cache expiry alone costs cold minus jwks_fetch.
- users_me_request: for scale, one whole `{ me { id } }` request to the users subgraph over HTTP,
  which verifies the token once and reads one row.
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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from identity.admin import FiefAdmin
from identity.config import IdentityConfig
from identity.server import FiefSecrets
from identity.verifier import FiefUserCheck, JwksCache, TokenVerifier
from labs64.dataset import seed_id
from labs64.settings import get_settings

RESULTS = Path(__file__).resolve().parent / "results" / "token_verification.json"


async def _measure(name: str, iterations: int, call: Callable[[], Awaitable[object]], deadline_s: float) -> dict[str, float | int | str]:
    samples: list[float] = []
    stop_at = time.monotonic() + deadline_s
    for _ in range(iterations):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1e6)
        if time.monotonic() > stop_at:
            break
    samples.sort()
    return {
        "case": name,
        "calls": len(samples),
        "mean_us": round(statistics.fmean(samples), 1),
        "p50_us": round(samples[len(samples) // 2], 1),
        "p95_us": round(samples[int(len(samples) * 0.95) - 1], 1),
        "p99_us": round(samples[max(int(len(samples) * 0.99) - 1, 0)], 1),
        "calls_per_s_one_core": round(1e6 / statistics.fmean(samples)),
    }


async def _run(iterations: int, cold_iterations: int) -> list[dict[str, float | int | str]]:
    settings = get_settings()
    config = IdentityConfig.from_settings(settings)
    with FiefAdmin(settings.fief_url, FiefSecrets.load_or_create(settings).admin_api_key) as admin:
        token = admin.user_access_token(str(seed_id("user", 3)), config.cli_client_uuid)
    header = f"Bearer {token}"

    verifier = TokenVerifier.for_fief(config)
    await verifier.authenticate(header)  # warm the JWKS and the user-check caches
    results = [
        await _measure("verify", iterations, lambda: verifier.verify(token), 60),
        await _measure("authenticate", iterations, lambda: verifier.authenticate(header), 60),
    ]
    await verifier.aclose()

    # Fresh caches on one shared HTTP client, so the cases time the fetches, not client set-up.
    http = httpx.AsyncClient(timeout=5, trust_env=False)

    async def jwks_fetch() -> None:
        await TokenVerifier(config, JwksCache(config.jwks_url, http)).verify(token)

    async def cold() -> None:
        await TokenVerifier(config, JwksCache(config.jwks_url, http), FiefUserCheck(config.userinfo_url, http)).authenticate(header)

    results.append(await _measure("jwks_fetch", cold_iterations, jwks_fetch, 60))
    results.append(await _measure("cold", cold_iterations, cold, 60))

    async def users_me_request() -> None:
        response = await http.post(settings.subgraph_url("users"), json={"query": "{ me { id } }"}, headers={"Authorization": header})
        if response.json().get("errors"):
            raise RuntimeError(f"the users subgraph rejected the benchmark token, so nothing was measured: {response.text[:300]}")

    results.append(await _measure("users_me_request", cold_iterations * 10, users_me_request, 60))
    await http.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="Calls per warm case (each case stops after 60 s).")
    parser.add_argument("--cold-iterations", type=int, default=50, help="Calls of each cold case; the HTTP request case makes ten times as many.")
    arguments = parser.parse_args()

    print(f"measuring token verification against {get_settings().fief_url} ...", file=sys.stderr)
    results = asyncio.run(_run(arguments.iterations, arguments.cold_iterations))

    print(f"{'case':<18}{'calls':>7}{'mean µs':>10}{'p50 µs':>10}{'p95 µs':>10}{'p99 µs':>10}{'calls/s':>10}")
    for row in results:
        print(f"{row['case']:<18}{row['calls']:>7}{row['mean_us']:>10}{row['p50_us']:>10}{row['p95_us']:>10}{row['p99_us']:>10}{row['calls_per_s_one_core']:>10}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "processor": platform.machine()},
                "algorithm": "RS256, 2048-bit key",
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
