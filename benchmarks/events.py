"""Benchmark the event pipeline: outbox, relay, Kafka, consumer, effect.

Each event is an ``ExperimentCompletedV1`` written to the labs outbox in a transaction, as the
``transitionExperiment`` mutation does. The relay publishes it, and billing's consumer charges it
to the owner's open invoice. The benchmark reports events per second from the first commit to the
last effect of a burst, and then, for events paced at a steady rate, the latency of each event
from its commit to its inbox row in billing (written in the transaction that applies the effect).

Usage:
    python benchmarks/events.py [--events N] [--per-transaction K] [--latency-events N] [--latency-rate R] [--start]

Without --start it uses the running platform that the LABS64_* settings point at (`labs64 up`
and `labs64 seed`). With --start it starts PostgreSQL, Kafka, the subgraphs, the relay and the
consumers in a temporary data directory, seeds them, and stops them at the end.
Results are printed and written to benchmarks/results/events.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host_platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from events.catalog import ExperimentCompletedV1  # noqa: E402
from events.outbox import record_event  # noqa: E402
from labs64.health import checks_for  # noqa: E402
from labs64.platform import Platform  # noqa: E402
from labs64.settings import PlatformSettings  # noqa: E402
from subgraphs.kit import Database  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "events.json"
MAX_EVENTS = 100_000
BILLING_GROUP = "labs64.billing"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _check_running(settings: PlatformSettings) -> None:
    checks = checks_for(settings)
    needed = ("postgres", "kafka", "events-relay", "billing-consumer")
    results = await asyncio.gather(*(checks[name].healthy() for name in needed))
    down = [f"{name} ({detail})" for name, (ok, detail) in zip(needed, results, strict=True) if not ok]
    if down:
        raise SystemExit(f"error: platform not running: {', '.join(down)}. Start it with `labs64 up`, or pass --start.")


async def _owners(billing: Database, count: int) -> list[uuid.UUID]:
    async with billing.session() as session:
        rows = await session.execute(
            text(
                "SELECT s.user_id FROM subscription s JOIN plan p ON p.id = s.plan_id "
                "WHERE s.status = 'active' AND p.compute_hour_price_cents > 0 ORDER BY s.user_id LIMIT :count"
            ),
            {"count": count},
        )
        owners = [row[0] for row in rows.all()]
    if not owners:
        raise SystemExit("error: no user with a priced subscription to charge; load the seed data with `labs64 seed`.")
    return owners


async def _emit(labs: Database, owners: list[uuid.UUID], events: int, per_transaction: int) -> dict[uuid.UUID, float]:
    """Commit the events; return each event id with the wall-clock time its transaction committed."""
    committed: dict[uuid.UUID, float] = {}
    finished = datetime.now(UTC)
    for start in range(0, events, per_transaction):
        async with labs.session() as session:
            ids = []
            for index in range(start, min(start + per_transaction, events)):
                payload = ExperimentCompletedV1(
                    experiment_id=uuid.uuid4(),
                    owner_id=owners[index % len(owners)],
                    title=f"benchmark run {index}",
                    started_at=finished - timedelta(minutes=30),
                    finished_at=finished,
                )
                ids.append((await record_event(session, payload)).id)
            await session.commit()
        now = time.time()
        committed.update(dict.fromkeys(ids, now))
        if events > 1 and (start // per_transaction) % 50 == 0:
            print(f"  committed {min(start + per_transaction, events)}/{events} events", file=sys.stderr, flush=True)
    return committed


async def _effects(billing: Database, event_ids: list[uuid.UUID], timeout_s: float) -> dict[uuid.UUID, float]:
    """Poll billing's inbox until every event is applied; return each one's apply time."""
    deadline = time.monotonic() + timeout_s
    applied: dict[uuid.UUID, float] = {}
    while True:
        async with billing.session() as session:
            rows = await session.execute(
                text("SELECT event_id, extract(epoch FROM processed_at) FROM event_inbox WHERE consumer_group = :group AND event_id = ANY(:ids)"),
                {"group": BILLING_GROUP, "ids": event_ids},
            )
            applied = {event_id: float(at) for event_id, at in rows.all()}
        if len(applied) == len(event_ids):
            return applied
        if time.monotonic() > deadline:
            raise SystemExit(f"error: only {len(applied)}/{len(event_ids)} events applied within {timeout_s:.0f} s; see `labs64 logs billing-consumer`.")
        if len(event_ids) > 1:
            print(f"  applied {len(applied)}/{len(event_ids)} events", file=sys.stderr, flush=True)
        await asyncio.sleep(0.5)


async def _measure(settings: PlatformSettings, events: int, per_transaction: int, latency_events: int, latency_rate: float, timeout_s: float) -> dict:
    labs = Database(settings.database_url("labs"), pool_size=2)
    billing = Database(settings.database_url("billing"), pool_size=2)
    try:
        owners = await _owners(billing, 50)
        print(f"throughput: {events} events, {per_transaction} per transaction, for {len(owners)} owners", file=sys.stderr, flush=True)
        started = time.time()
        committed = await _emit(labs, owners, events, per_transaction)
        emitted = time.time()
        applied = await _effects(billing, list(committed), timeout_s)
        elapsed = max(applied.values()) - started
        burst_ms = [(applied[event_id] - committed[event_id]) * 1000 for event_id in committed]

        # A burst queues events behind each other, so latency is measured separately at a
        # steady rate below the throughput, one event per transaction.
        print(f"latency: {latency_events} events at {latency_rate:g}/s", file=sys.stderr, flush=True)
        paced: dict[uuid.UUID, float] = {}
        for _ in range(latency_events):
            paced |= await _emit(labs, owners, 1, 1)
            await asyncio.sleep(1 / latency_rate)
        paced_applied = await _effects(billing, list(paced), timeout_s)
        paced_ms = [(paced_applied[event_id] - paced[event_id]) * 1000 for event_id in paced]
    finally:
        await labs.dispose()
        await billing.dispose()

    return {
        "throughput": {
            "events": events,
            "events_per_transaction": per_transaction,
            "commit_phase_s": round(emitted - started, 3),
            "first_commit_to_last_effect_s": round(elapsed, 3),
            "events_per_s": round(events / elapsed, 1),
            "latency_ms_under_burst": _summary(burst_ms),
        },
        "latency": {"events": latency_events, "rate_per_s": latency_rate, "commit_to_effect_ms": _summary(paced_ms)},
    }


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(_percentile(latencies_ms, 0.50), 1),
        "p99": round(_percentile(latencies_ms, 0.99), 1),
        "mean": round(statistics.fmean(latencies_ms), 1),
        "max": round(max(latencies_ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help=f"Events to send (1 to {MAX_EVENTS}; default 2000).")
    parser.add_argument("--per-transaction", type=int, default=10, help="Events committed per outbox transaction (default 10).")
    parser.add_argument("--latency-events", type=int, default=200, help="Events of the paced latency run (1 to 10000; default 200).")
    parser.add_argument("--latency-rate", type=float, default=20.0, help="Events per second of the latency run (default 20).")
    parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait for every effect (default 300).")
    parser.add_argument("--start", action="store_true", help="Start a platform in a temporary directory and stop it afterwards.")
    arguments = parser.parse_args()
    if not 1 <= arguments.events <= MAX_EVENTS:
        parser.error(f"invalid --events {arguments.events}: choose 1 to {MAX_EVENTS}")
    if not 1 <= arguments.latency_events <= 10_000:
        parser.error(f"invalid --latency-events {arguments.latency_events}: choose 1 to 10000")
    if not 0 < arguments.latency_rate <= 1000:
        parser.error(f"invalid --latency-rate {arguments.latency_rate}: choose more than 0 and at most 1000")
    if arguments.per_transaction < 1:
        parser.error(f"invalid --per-transaction {arguments.per_transaction}: at least 1")

    os.environ.setdefault("APOLLO_TELEMETRY_DISABLED", "true")
    temporary = None
    settings = PlatformSettings()
    instance = None
    if arguments.start:
        temporary = Path(tempfile.mkdtemp(prefix="labs64-bench-"))
        temporary.chmod(0o755)
        settings = PlatformSettings(data_dir=temporary, supergraph_path=temporary / "supergraph.graphql")
        instance = Platform(settings)
    try:
        if instance is not None:
            from labs64.seed import seed_platform

            instance.start_backends()
            seed_platform(settings)
        else:
            asyncio.run(_check_running(settings))
        result = asyncio.run(_measure(
                settings, arguments.events, arguments.per_transaction, arguments.latency_events, arguments.latency_rate, arguments.timeout
            ))
    finally:
        if instance is not None:
            instance.down()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    result |= {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": host_platform.python_version(), "kafka": settings.kafka_version},
        "path": "labs outbox -> relay -> Kafka (acks=all, idempotent) -> billing consumer -> invoice line + inbox row",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
