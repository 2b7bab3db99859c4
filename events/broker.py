"""The platform's Apache Kafka broker: jars from Maven Central, KRaft storage and the command line.

One process is both broker and KRaft controller, on loopback ports of its own, with its log
directory under the platform's data directory. The jars are fetched once with Maven into the
build cache (outside the repository) and reused by every platform and test run.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from labs64.errors import PlatformError
from labs64.settings import PlatformSettings

__all__ = ["jars_dir", "fetch_jars", "write_broker_config", "format_storage", "broker_command", "java_binary"]

POM_PATH = Path(__file__).resolve().parent / "pom.xml"
_COMPLETE_MARKER = ".complete"

# The broker logs warnings and its own start and stop lines. Everything else stays quiet, because
# supervisord keeps the log and a development broker rarely needs more.
_LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
"""


def jars_dir(settings: PlatformSettings) -> Path:
    return settings.cache_dir / "kafka" / settings.kafka_version / "libs"


def java_binary() -> str:
    """Find ``java``: ``$JAVA_HOME/bin/java`` when set, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise PlatformError("Java not found: Kafka needs Java 17 or newer. Install it with `apt-get install openjdk-17-jre-headless`.")
    return found


def fetch_jars(settings: PlatformSettings, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Copy Kafka and its runtime dependencies from Maven Central into the cache, once per version."""
    target = jars_dir(settings)
    if (target / _COMPLETE_MARKER).exists():
        return target

    maven = shutil.which("mvn")
    if maven is None:
        raise PlatformError(f"Maven not found: it fetches the Kafka {settings.kafka_version} jars. Install it with `apt-get install maven`.")
    progress(f"fetching Apache Kafka {settings.kafka_version} jars from Maven Central into {target}")

    # Download into a sibling folder and rename at the end, so an interrupted fetch never leaves a
    # class path that looks complete.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=target.parent))
    command = [
        maven, "-q", "-B", "-f", str(POM_PATH), "dependency:copy-dependencies",
        f"-Dkafka.version={settings.kafka_version}", "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise PlatformError(
            f"fetching Kafka {settings.kafka_version} jars failed (mvn exit {result.returncode}); "
            f"check that Maven Central is reachable and LABS64_KAFKA_VERSION names a release:\n{output}"
        )
    (staging / _COMPLETE_MARKER).write_text(settings.kafka_version)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _config_dir(settings: PlatformSettings) -> Path:
    return settings.run_dir / "kafka"


def server_properties_path(settings: PlatformSettings) -> Path:
    return _config_dir(settings) / "server.properties"


def write_broker_config(settings: PlatformSettings) -> Path:
    """Write ``server.properties`` and the log4j2 configuration for a one-node KRaft cluster."""
    host = settings.host
    properties = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{settings.kafka_controller_port}",
        "listeners": f"PLAINTEXT://{host}:{settings.kafka_port},CONTROLLER://{host}:{settings.kafka_controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{settings.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(settings.kafka_data_dir),
        # One node cannot replicate, so every internal topic gets one replica.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Our tooling creates every topic with explicit partitions and retention.
        "auto.create.topics.enable": "false",
        # Consumers join a fresh group immediately instead of waiting 3 s for more members.
        "group.initial.rebalance.delay.ms": "0",
    }
    directory = _config_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    server_properties_path(settings).write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
    (directory / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)
    return server_properties_path(settings)


def _cluster_id() -> str:
    # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def format_storage(settings: PlatformSettings) -> bool:
    """Format the KRaft log directory on first use; return whether it was formatted now."""
    if (settings.kafka_data_dir / "meta.properties").exists():
        return False
    settings.kafka_data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        java_binary(), "-cp", f"{jars_dir(settings)}/*",
        f"-Dlog4j2.configurationFile={_config_dir(settings) / 'log4j2.properties'}",
        "kafka.tools.StorageTool", "format",
        # A URL-safe base64 id may start with "-", which the tool's argument parser would read as an
        # option, so the id is attached with "=".
        f"--cluster-id={_cluster_id()}", "--config", str(server_properties_path(settings)),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PlatformError(
            f"formatting the Kafka log directory {settings.kafka_data_dir} failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    return True


def broker_command(settings: PlatformSettings) -> list[str]:
    return [
        java_binary(),
        f"-Xmx{settings.kafka_heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={_config_dir(settings) / 'log4j2.properties'}",
        "-cp", f"{jars_dir(settings)}/*",
        "kafka.Kafka",
        str(server_properties_path(settings)),
    ]


def main() -> None:
    """Fetch the jars for the configured version; `scripts/setup` runs this so a clean clone is ready."""
    from labs64.settings import get_settings

    path = fetch_jars(get_settings(), lambda message: print(f"[setup] {message}", flush=True))
    print(f"[setup] Kafka jars ready in {path}", flush=True)


if __name__ == "__main__":
    main()
