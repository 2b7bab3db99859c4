"""Formatting the Kafka log directory with the real storage tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from events import broker
from labs64.settings import PlatformSettings


def test_format_accepts_dash_cluster_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = PlatformSettings(data_dir=tmp_path)
    broker.fetch_jars(settings)
    broker.write_broker_config(settings)
    # One id in 64 starts with "-"; the tool must not take it for an option.
    monkeypatch.setattr(broker, "_cluster_id", lambda: "-Zx3vBq9TgWl1Ml0T3a7Rw")

    assert broker.format_storage(settings) is True
    assert "cluster.id=-Zx3vBq9TgWl1Ml0T3a7Rw" in (settings.kafka_data_dir / "meta.properties").read_text()
    assert broker.format_storage(settings) is False
