"""JSON logging of a module process, uvicorn's own lines included."""

from __future__ import annotations

import json
import logging

import pytest

from subgraphs.kit.logging import configure_logging, request_id_var


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], level = saved
    root.setLevel(level)


def test_uvicorn_lines_become_json(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    # uvicorn installs a plain-text handler and turns propagation off before the app is built.
    server_logger = logging.getLogger("uvicorn.error")
    server_logger.addHandler(logging.StreamHandler())
    server_logger.propagate = False

    configure_logging("users")
    token = request_id_var.set("req-42")
    try:
        server_logger.info("Started server process [%d]", 1234)
    finally:
        request_id_var.reset(token)

    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "Started server process [1234]"
    assert record["service"] == "users"
    assert record["request_id"] == "req-42"
    assert record["name"] == "uvicorn.error"
