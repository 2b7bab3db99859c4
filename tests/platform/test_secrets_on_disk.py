"""Files that hold the platform's secrets are readable by their owner only."""

from __future__ import annotations

import stat

import pytest

from labs64.platform import Platform

pytestmark = pytest.mark.platform


def test_supervisord_config_is_private(backends: Platform) -> None:
    assert stat.S_IMODE(backends.supervisor.config_path.stat().st_mode) == 0o600


def test_fief_secrets_are_private(backends: Platform) -> None:
    assert stat.S_IMODE((backends.settings.fief_data_dir / "secrets.json").stat().st_mode) == 0o600
