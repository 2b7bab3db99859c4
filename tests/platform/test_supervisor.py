"""supervisord process management, with a supervisord of the test's own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs64.errors import PlatformError
from labs64.settings import PlatformSettings
from labs64.supervisor import Program, Supervisor


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    instance = Supervisor(PlatformSettings(data_dir=tmp_path))
    # The program prints its cause and exits at once, as a server does when its port is taken.
    failing = Program("failing", [sys.executable, "-c", "print('bind failed: port 15999 in use'); raise SystemExit(3)"])
    instance.write_config([failing])
    instance.start()
    yield instance
    instance.shutdown()


def test_failed_start_shows_log_tail(supervisor: Supervisor) -> None:
    with pytest.raises(PlatformError) as raised:
        supervisor.start_program("failing")

    message = str(raised.value)
    assert "failing failed to start" in message
    assert "bind failed: port 15999 in use" in message
    assert "labs64 logs failing" in message
