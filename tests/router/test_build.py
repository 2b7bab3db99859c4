"""Router build from the crate registry, exercised with a stand-in for cargo."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from labs64.settings import PlatformSettings
from router import build
from router.build import RouterBuildError, build_router, estimate_crate_count, router_binary_path

# Prints `Compiling` lines like cargo, then installs an executable under --root.
FAKE_CARGO = """#!/bin/sh
echo "$@" > "$FAKE_CARGO_ARGUMENTS"
root=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--root" ]; then root="$2"; fi
  shift
done
for crate in alpha beta gamma; do
  echo "   Compiling $crate v1.0.0"
  sleep 0.8
done
if [ -n "$FAKE_CARGO_FAIL" ]; then echo "error: linking failed"; exit 101; fi
mkdir -p "$root/bin"
printf '#!/bin/sh\\n' > "$root/bin/router"
chmod 755 "$root/bin/router"
"""


@pytest.fixture
def fake_toolchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    cargo = bin_dir / "cargo"
    cargo.write_text(FAKE_CARGO)
    cargo.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CARGO_ARGUMENTS", str(tmp_path / "cargo-arguments.txt"))
    # An empty cargo home: the crate count then comes from the built-in estimate.
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))
    monkeypatch.setattr(build.shutil, "which", _which_with_protoc(build.shutil.which))
    return tmp_path


def _which_with_protoc(real_which):
    def which(name: str, *args, **kwargs):
        if name == "protoc":
            return "/usr/bin/protoc"
        return real_which(name, *args, **kwargs)

    return which


def make_settings(tmp_path: Path) -> PlatformSettings:
    return PlatformSettings(cache_dir=tmp_path / "cache", router_version="9.9.9", router_binary=None)


def test_binary_path_default(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)

    assert router_binary_path(settings) == tmp_path / "cache" / "router" / "9.9.9" / "bin" / "router"


def test_binary_path_override(tmp_path: Path) -> None:
    settings = PlatformSettings(cache_dir=tmp_path, router_binary=tmp_path / "custom-router")

    assert router_binary_path(settings) == tmp_path / "custom-router"


def test_crate_count_from_cargo_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crate_dir = tmp_path / "registry" / "src" / "index.crates.io-0000" / "apollo-router-9.9.9"
    crate_dir.mkdir(parents=True)
    (crate_dir / "Cargo.lock").write_text('[[package]]\nname = "a"\n\n[[package]]\nname = "b"\n')
    monkeypatch.setenv("CARGO_HOME", str(tmp_path))

    assert estimate_crate_count("9.9.9") == (2, True)
    assert estimate_crate_count("9.9.8") == (690, False)


def test_build_runs_cargo_install(fake_toolchain: Path) -> None:
    settings = make_settings(fake_toolchain)
    messages: list[str] = []

    binary = build_router(settings, messages.append, progress_interval_s=1.0)

    cache = fake_toolchain / "cache" / "router"
    assert binary == cache / "9.9.9" / "bin" / "router"
    assert os.access(binary, os.X_OK)
    arguments = (fake_toolchain / "cargo-arguments.txt").read_text().split()
    assert arguments == [
        "install", "--locked", "apollo-router", "--version", "9.9.9",
        "--root", str(cache / "9.9.9"), "--target-dir", str(cache / "target"),
    ]  # fmt: skip
    progress_lines = [message for message in messages if "crates (" in message]
    assert progress_lines, messages
    assert progress_lines[-1].startswith("router build: ")
    assert "/~690 crates (" in progress_lines[-1]
    assert "Compiling gamma v1.0.0" in (cache / "build-9.9.9.log").read_text()
    assert messages[-1] == f"router build: done: {binary}"


def test_build_is_noop_when_built(fake_toolchain: Path) -> None:
    settings = make_settings(fake_toolchain)
    build_router(settings, lambda message: None, progress_interval_s=1.0)
    (fake_toolchain / "cargo-arguments.txt").unlink()
    messages: list[str] = []

    binary = build_router(settings, messages.append)

    assert messages == [f"router 9.9.9 is already built: {binary}"]
    assert not (fake_toolchain / "cargo-arguments.txt").exists()


def test_build_failure_shows_log(fake_toolchain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_CARGO_FAIL", "1")

    with pytest.raises(RouterBuildError) as raised:
        build_router(make_settings(fake_toolchain), lambda message: None, progress_interval_s=60.0)

    assert "exit status 101" in str(raised.value)
    assert "error: linking failed" in str(raised.value)


def test_build_requires_protoc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = build.shutil.which
    monkeypatch.setattr(
        build.shutil, "which", lambda name, *a, **k: None if name == "protoc" else real_which(name, *a, **k)
    )

    with pytest.raises(RouterBuildError, match="protobuf-compiler libprotobuf-dev"):
        build_router(make_settings(tmp_path), lambda message: None)


def test_build_rejects_missing_override(tmp_path: Path) -> None:
    settings = PlatformSettings(cache_dir=tmp_path, router_binary=tmp_path / "missing-router")

    with pytest.raises(RouterBuildError, match="LABS64_ROUTER_BINARY"):
        build_router(settings, lambda message: None)


def test_build_waits_for_lock_holder(fake_toolchain: Path) -> None:
    settings = make_settings(fake_toolchain)
    lock_path = fake_toolchain / "cache" / "router" / "build.lock"
    lock_path.parent.mkdir(parents=True)
    messages: list[str] = []
    results: list[Path] = []

    with open(lock_path, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: results.append(build_router(settings, messages.append)))
        worker.start()
        deadline = time.monotonic() + 10
        while not messages and time.monotonic() < deadline:
            time.sleep(0.05)
        # While the lock is held, the other "build" finishes and installs the binary.
        binary = router_binary_path(settings)
        binary.parent.mkdir(parents=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
        fcntl.flock(lock_file, fcntl.LOCK_UN)
    worker.join(timeout=10)

    assert "another build holds" in messages[0]
    assert messages[-1] == f"router 9.9.9 is already built: {binary}"
    assert results == [binary]
    assert not (fake_toolchain / "cargo-arguments.txt").exists()
