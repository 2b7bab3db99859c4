"""Start an edge Worker process (workerd through Miniflare) with a test configuration."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from deploy.edge import EDGE_DIR, EDGE_ENVIRONMENT, EdgeConfig, edge_command, write_bindings


@contextmanager
def running_edge(config: EdgeConfig, work_dir: Path, name: str) -> Iterator[Path]:
    """Run the Worker with ``config`` until the block ends; yield the path of its log file."""
    bindings = write_bindings(config, work_dir / f"{name}-bindings.json")
    log_path = work_dir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            edge_command(config, bindings),
            cwd=EDGE_DIR,
            env={"PATH": os.environ["PATH"], **EDGE_ENVIRONMENT},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(config, process, log_path)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(config: EdgeConfig, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"edge Worker exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{config.url}__edge/health", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"edge Worker not ready after 60 s:\n{log_path.read_text()}")
