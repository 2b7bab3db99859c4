"""Bring the local platform up and down: the steps behind `labs64 up`, `down` and `status`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from events import broker
from labs64 import postgres
from labs64.errors import PlatformError
from labs64.health import checks_for, wait_healthy
from labs64.settings import CONSUMER_MODULES, REPOSITORY_ROOT, SUBGRAPH_NAMES, PlatformSettings
from labs64.supervisor import Program, Supervisor

__all__ = ["Platform", "ComponentStatus"]

Progress = Callable[[str], None]

INFRASTRUCTURE = ("postgres", "redis", "kafka")

#: Fief and its own Redis; its worker has no health check and is started after them.
IDENTITY = ("fief-redis", "fief")

#: Event programs: the outbox relay of every module's database and one consumer per reacting module.
EVENT_PROGRAMS = ("events-relay", *(f"{module}-consumer" for module in CONSUMER_MODULES))

#: Steps that `up` reports as "[n/TOTAL]".
TOTAL_STEPS = 14

HAPROXY_BINARY = "/usr/sbin/haproxy"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: str
    pid: int | None
    url: str
    healthy: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "pid": self.pid,
            "url": self.url,
            "healthy": self.healthy,
            "detail": self.detail,
        }


def _process_only_status(info: dict[str, Any]) -> ComponentStatus:
    """Describe a program without a health endpoint, such as Fief's worker, by its process state alone."""
    running = info["statename"] == "RUNNING"
    return ComponentStatus(
        info["name"],
        info["statename"],
        info["pid"] or None,
        "",
        running,
        "running (no health endpoint; process state only)" if running else f"not running: {info['description']}",
    )


def _position_after_relative(statuses: list[ComponentStatus], name: str) -> int:
    """Return where ``name`` goes: after the component its name extends (fief-worker after fief), else last."""
    for index in range(len(statuses) - 1, -1, -1):
        if name.startswith(f"{statuses[index].name}-"):
            return index + 1
    return len(statuses)


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Platform:
    """The local platform of one data directory: its processes, databases and schema."""

    def __init__(self, settings: PlatformSettings, progress: Progress = _print_progress) -> None:
        self.settings = settings
        self.supervisor = Supervisor(settings)
        self.progress = progress

    # -- programs -----------------------------------------------------------------------------

    def programs(self) -> list[Program]:
        settings = self.settings
        environment = settings.to_environment()
        programs = [
            Program(
                "postgres",
                postgres.postgres_command(settings),
                user=postgres.postgres_os_user(),
                priority=10,
                # SIGINT is PostgreSQL's fast shutdown: it rolls back open transactions and exits cleanly.
                stop_signal="INT",
                stop_wait_s=30,
            ),
            Program(
                "redis",
                [
                    "redis-server", "--bind", settings.host, "--port", str(settings.redis_port),
                    "--dir", str(settings.redis_data_dir), "--appendonly", "yes", "--save", "",
                    "--protected-mode", "yes",
                ],
                priority=10,
            ),
            Program(
                "kafka",
                broker.broker_command(settings),
                priority=10,
                # A broker shutting down cleanly flushes its logs and skips recovery on the next start.
                stop_wait_s=60,
            ),
        ]
        programs.extend(self._identity_programs())
        programs.extend(self._subgraph_programs(environment))
        programs.extend(self._event_programs(environment))
        programs.extend(self._router_programs())
        programs.append(self._haproxy_program())
        programs.append(self._edge_program())
        return programs

    def _subgraph_programs(self, environment: dict[str, str]) -> list[Program]:
        settings = self.settings
        programs = []
        for name in SUBGRAPH_NAMES:
            command = [
                sys.executable, "-m", "uvicorn", f"subgraphs.{name}.app:create_app", "--factory",
                "--host", settings.host, "--port", str(settings.subgraph_port(name)),
                "--no-access-log", "--timeout-graceful-shutdown", "10",
            ]
            programs.append(Program(name, command, environment=environment, directory=REPOSITORY_ROOT, priority=50))
        return programs

    def _event_programs(self, environment: dict[str, str]) -> list[Program]:
        # Event programs stop before the subgraphs and the broker (supervisord stops in reverse
        # priority), so a consumer can commit its offsets while Kafka still runs.
        events_command = [sys.executable, "-m", "events"]
        commands = {"events-relay": [*events_command, "relay"]}
        for module in CONSUMER_MODULES:
            commands[f"{module}-consumer"] = [*events_command, "consume", module]
        return [
            Program(name, command, environment=environment, directory=REPOSITORY_ROOT, priority=60)
            for name, command in commands.items()
        ]

    def _identity_programs(self) -> list[Program]:
        from identity.server import fief_programs

        return fief_programs(self.settings)

    def _router_programs(self) -> list[Program]:
        from router.build import router_binary_path
        from router.process import router_command, router_environment
        from router.replicas import router_replicas

        environment = {
            key: value
            for key, value in router_environment(dict(os.environ)).items()
            if key.startswith("APOLLO_") or key in ("RUST_LOG",)
        }
        programs = []
        for replica in router_replicas(self.settings):
            command = router_command(self.settings, replica.config_path)
            command[0] = str(router_binary_path(self.settings))
            programs.append(Program(replica.name, command, environment=environment, priority=90))
        return programs

    def _haproxy_program(self) -> Program:
        # -db keeps HAProxy in the foreground, as supervisord needs. SIGUSR1 is its soft stop:
        # it stops accepting connections and exits once the open ones have finished.
        command = [HAPROXY_BINARY, "-db", "-f", str(self.settings.run_dir / "haproxy.cfg")]
        return Program("haproxy", command, priority=95, stop_signal="USR1", stop_wait_s=15)

    def _edge_program(self) -> Program:
        from deploy.edge import EDGE_DIR, EDGE_ENVIRONMENT, EdgeConfig, edge_command

        config = EdgeConfig.from_settings(self.settings)
        command = edge_command(config, self.settings.run_dir / "edge-bindings.json")
        return Program("edge", command, environment=EDGE_ENVIRONMENT, directory=EDGE_DIR, priority=97)

    def router_names(self) -> tuple[str, ...]:
        from router.replicas import router_replicas

        return tuple(replica.name for replica in router_replicas(self.settings))

    # -- up -----------------------------------------------------------------------------------

    def up(self, *, build_router: bool = True) -> float:
        """Start every component in dependency order and wait for its health; return seconds taken."""
        started = time.monotonic()
        self._step(1, "router binary", lambda: self._ensure_router(build_router))
        self.start_backends()
        self.start_router()
        self.start_front_door()
        return time.monotonic() - started

    def start_backends(self) -> None:
        """Start everything behind the router: PostgreSQL, Redis, migrations, supergraph, subgraphs."""
        settings = self.settings
        for directory in (settings.data_dir, settings.run_dir, settings.log_dir, settings.redis_data_dir, settings.fief_data_dir):
            directory.mkdir(parents=True, exist_ok=True)

        self._step(2, "PostgreSQL cluster", self._init_postgres)
        self._step(3, "Kafka jars and storage", self._init_kafka)
        self._step(4, "supervisord", self._start_supervisor)
        self._step(5, "PostgreSQL, Redis and Kafka", lambda: self._start_and_wait(INFRASTRUCTURE))
        self._step(6, "databases and migrations", self._migrate)
        self._step(7, "Kafka topics", self._create_topics)
        self._step(8, "supergraph composition", self.compose)
        # The modules read Fief's issuer and JWKS address at start, so identity comes first.
        self._step(9, "identity (Fief)", self._start_identity)
        self._step(10, "subgraphs", lambda: self._start_and_wait(SUBGRAPH_NAMES))
        self._step(11, "event relay and consumers", lambda: self._start_and_wait(EVENT_PROGRAMS))

    def start_router(self) -> None:
        """Write and validate each replica's router.yaml, then start the replicas on the supergraph."""
        self._step(12, "Apollo Router replicas", self._start_router)

    def start_front_door(self) -> None:
        """Start HAProxy in front of the router replicas, then the edge Worker in front of HAProxy."""
        self._step(13, "HAProxy", self._start_haproxy)
        self._step(14, "edge Worker", self._start_edge)

    def _step(self, number: int, title: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        self.progress(f"[{number}/{TOTAL_STEPS}] {title} ...")
        result = action()
        note = f" ({result})" if isinstance(result, str) and result else ""
        self.progress(f"[{number}/{TOTAL_STEPS}] {title}: ok in {time.monotonic() - started:.1f} s{note}")

    def _ensure_router(self, build: bool) -> str:
        from router.build import build_router, router_binary_path

        binary = router_binary_path(self.settings)
        if binary.exists():
            return str(binary)
        if not build:
            raise PlatformError(f"Apollo Router binary not found at {binary}; build it with `labs64 router build`.")
        build_router(self.settings, self.progress)
        return str(binary)

    def _init_postgres(self) -> str:
        created = postgres.init_cluster(self.settings)
        return "created" if created else "exists"

    def _init_kafka(self) -> str:
        broker.fetch_jars(self.settings, self.progress)
        broker.write_broker_config(self.settings)
        return "formatted" if broker.format_storage(self.settings) else "exists"

    def _create_topics(self) -> str:
        from events.topics import ensure_topics

        created = asyncio.run(ensure_topics(self.settings))
        return f"{len(created)} created" if created else "all exist"

    def _start_supervisor(self) -> str:
        self.supervisor.write_config(self.programs())
        self.supervisor.start()
        return f"pid {self.supervisor.pid()}"

    def _start_and_wait(self, names: tuple[str, ...]) -> str:
        for name in names:
            self.supervisor.start_program(name)
        asyncio.run(self._wait_all(names))
        return ", ".join(names)

    async def _wait_all(self, names: tuple[str, ...]) -> None:
        checks = checks_for(self.settings)
        await asyncio.gather(
            *(wait_healthy(checks[name], self.settings.startup_timeout_s, lambda n=name: self._is_alive(n)) for name in names)
        )

    def _is_alive(self, name: str) -> bool:
        try:
            info = self.supervisor.rpc().getProcessInfo(name)
        except Exception:  # noqa: BLE001 - when supervisord cannot answer, keep waiting for the timeout
            return True
        return info["statename"] in ("STARTING", "RUNNING", "BACKOFF")

    def _start_identity(self) -> str:
        """Install Fief when missing, start it with its Redis, and converge its tenant, clients and users."""
        from identity.bootstrap import bootstrap_fief
        from identity.server import ensure_fief_environment

        ensure_fief_environment(self.settings, self.progress)
        self._start_and_wait(IDENTITY)
        # The worker serves no requests, so there is nothing to probe; supervisord checks that it stays up.
        self.supervisor.start_program("fief-worker")
        config = bootstrap_fief(self.settings, self.progress)
        return config.issuer

    def _migrate(self) -> str:
        from schema.registry import migrate_registry
        from subgraphs.kit.migrations import upgrade

        asyncio.run(postgres.ensure_databases(self.settings))
        for name in SUBGRAPH_NAMES:
            package_dir = Path(import_module(f"subgraphs.{name}").__file__).resolve().parent  # type: ignore[arg-type]
            upgrade(package_dir, self.settings.database_url(name))
        migrate_registry(self.settings)
        return f"{len(SUBGRAPH_NAMES)} databases and the schema registry at head"

    def compose(self) -> str:
        """Compose the subgraphs' SDL into the supergraph file; the router hot-reloads it."""
        from schema.composition import collect_subgraphs, compose, write_supergraph

        sources = collect_subgraphs(self.settings)
        result = compose(sources)
        write_supergraph(result.require_supergraph_sdl(), self.settings.supergraph_path)
        return str(self.settings.supergraph_path)

    def _start_router(self) -> str:
        from router.build import router_binary_path
        from router.config import RouterConfig, write_router_config
        from router.process import validate_config

        from router.replicas import router_replicas

        replicas = router_replicas(self.settings)
        for replica in replicas:
            config = RouterConfig.from_settings(
                self.settings,
                listen=f"{replica.host}:{replica.port}",
                health_check_listen=f"{replica.host}:{replica.health_port}",
            )
            write_router_config(config, replica.config_path)
        # The replicas' files differ only in their ports, so validating one of them is enough.
        validate_config(router_binary_path(self.settings), replicas[0].config_path)
        self._start_and_wait(tuple(replica.name for replica in replicas))
        return ", ".join(replica.url for replica in replicas)

    def _start_haproxy(self) -> str:
        from deploy.haproxy import HAProxyConfig, write_haproxy_config

        path = write_haproxy_config(HAProxyConfig.from_settings(self.settings), self.settings.run_dir / "haproxy.cfg")
        check = subprocess.run([HAPROXY_BINARY, "-c", "-q", "-f", str(path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise PlatformError(f"HAProxy rejected its generated configuration {path}:\n{check.stdout}{check.stderr}")
        self._start_and_wait(("haproxy",))
        return self.settings.haproxy_url

    def _start_edge(self) -> str:
        from deploy.edge import EdgeConfig, write_bindings, write_manifest

        # The Worker bundles the manifest when it starts, so it always serves the current operations.
        manifest = write_manifest()
        write_bindings(EdgeConfig.from_settings(self.settings), self.settings.run_dir / "edge-bindings.json")
        self._start_and_wait(("edge",))
        return f"{self.settings.edge_url}, {len(manifest['operations'])} persisted operations"  # type: ignore[arg-type]

    # -- down and status ----------------------------------------------------------------------

    def down(self) -> bool:
        """Stop every component and supervisord; data stays in the data directory."""
        return self.supervisor.shutdown()

    def status(self) -> list[ComponentStatus]:
        checks = checks_for(self.settings)
        infos: dict[str, dict[str, Any]] = {}
        if self.supervisor.is_running():
            infos = {info["name"]: info for info in self.supervisor.process_info()}

        async def probe_all() -> list[tuple[bool, str]]:
            return await asyncio.gather(*(check.healthy() for check in checks.values()))

        results = asyncio.run(probe_all())
        statuses = []
        for (name, check), (healthy, detail) in zip(checks.items(), results, strict=True):
            info = infos.get(name)
            state = info["statename"] if info else "STOPPED"
            pid = info["pid"] if info and info["pid"] else None
            statuses.append(ComponentStatus(name, state, pid, check.url, healthy, detail))
        for name, info in infos.items():
            if name not in checks:
                statuses.insert(_position_after_relative(statuses, name), _process_only_status(info))
        return statuses
