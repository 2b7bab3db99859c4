"""Invalid event settings are rejected with a message that names the value and the fix."""

from __future__ import annotations

import pytest

from events.broker import broker_command, write_broker_config
from events.consumer import ConsumerSpec, EventConsumer
from events.relay import OutboxRelay
from events.runner import consumer_spec
from labs64.settings import PlatformSettings


def test_relay_rejects_unknown_fault() -> None:
    with pytest.raises(ValueError, match="invalid LABS64_EVENTS_RELAY_FAULT='crash-everything'"):
        OutboxRelay(PlatformSettings(), fault="crash-everything")


def test_consumer_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="invalid max_attempts=0"):
        EventConsumer(PlatformSettings(), ConsumerSpec(group_id="g", handlers={}), database=None, max_attempts=0)  # type: ignore[arg-type]


def test_consumer_spec_rejects_users() -> None:
    with pytest.raises(ValueError, match="invalid module 'users'"):
        consumer_spec("users")


def test_module_specs_cover_their_topics() -> None:
    assert consumer_spec("labs").topics == ["labs64.subscription", "labs64.user"]
    assert consumer_spec("billing").topics == ["labs64.experiment", "labs64.user"]


def test_broker_config_uses_settings(tmp_path) -> None:
    settings = PlatformSettings(data_dir=tmp_path, kafka_port=50001, kafka_controller_port=50002, kafka_heap="256m")

    properties = write_broker_config(settings).read_text()
    command = broker_command(settings)

    assert "listeners=PLAINTEXT://127.0.0.1:50001,CONTROLLER://127.0.0.1:50002\n" in properties
    assert f"log.dirs={tmp_path / 'kafka'}\n" in properties
    assert "auto.create.topics.enable=false\n" in properties
    assert "-Xmx256m" in command
    assert command[-2:] == ["kafka.Kafka", str(tmp_path / "run" / "kafka" / "server.properties")]
