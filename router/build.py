"""Build the Apollo Router from the ``apollo-router`` crate into the platform's cache directory.

No Python, npm or Debian package ships the router, so ``cargo install`` builds it from the crate
registry. The published crate carries its Cargo.lock, so ``--locked`` builds the exact dependency
versions Apollo released with.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from labs64.settings import PlatformSettings, get_settings

__all__ = [
    "RouterBuildError",
    "build_router",
    "estimate_crate_count",
    "router_binary_path",
    "router_build_log_path",
    "router_install_root",
]

Progress = Callable[[str], None]

# apollo-router 2.13.1 has 686 packages in its Cargo.lock. Until cargo has downloaded the crate of
# the requested version, progress uses this number as an estimate of the total.
_ESTIMATED_CRATE_COUNT = 690

_COMPILING_LINE = re.compile(rb"^\s*Compiling \S+ v", re.MULTILINE)


class RouterBuildError(RuntimeError):
    """The router could not be built: a tool is missing or cargo failed."""


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _router_cache_dir(settings: PlatformSettings) -> Path:
    return settings.cache_dir / "router"


def router_install_root(settings: PlatformSettings | None = None) -> Path:
    """Return the ``cargo install --root`` folder of the configured router version."""
    settings = settings or get_settings()
    return _router_cache_dir(settings) / settings.router_version


def router_binary_path(settings: PlatformSettings | None = None) -> Path:
    """Return the router binary to run: ``settings.router_binary`` if set, else the cached build."""
    settings = settings or get_settings()
    if settings.router_binary is not None:
        return settings.router_binary
    return router_install_root(settings) / "bin" / "router"


def router_build_log_path(settings: PlatformSettings | None = None) -> Path:
    settings = settings or get_settings()
    return _router_cache_dir(settings) / f"build-{settings.router_version}.log"


def _cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def estimate_crate_count(version: str) -> tuple[int, bool]:
    """Return the number of packages cargo will compile for ``version``, and whether it was counted.

    The number is counted from the crate's Cargo.lock once cargo has unpacked the crate, and is an
    estimate before that. Cargo.lock also lists packages for other platforms that never compile, so
    even a counted number is an upper bound.
    """
    for lock_file in sorted((_cargo_home() / "registry" / "src").glob(f"*/apollo-router-{version}/Cargo.lock")):
        try:
            text = lock_file.read_text(encoding="utf-8")
        except OSError:
            continue
        count = text.count("[[package]]")
        if count:
            return count, True
    return _ESTIMATED_CRATE_COUNT, False


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@contextmanager
def _exclusive_build_lock(cache_dir: Path, progress: Progress) -> Iterator[None]:
    """Hold an fcntl lock on ``cache_dir/build.lock`` so that only one router build runs at a time."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    lock_path = cache_dir / "build.lock"
    with open(lock_path, "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"router build: another build holds {lock_path}; waiting for it to finish")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _check_build_tools() -> str:
    """Return the cargo executable, or raise RouterBuildError naming what to install."""
    if shutil.which("protoc") is None:
        raise RouterBuildError(
            "protoc not found on PATH: the apollo-router crate compiles Protocol Buffers definitions. "
            "Install the Debian packages protobuf-compiler libprotobuf-dev "
            "(apt-get install protobuf-compiler libprotobuf-dev) and run the build again."
        )
    cargo = shutil.which("cargo")
    if cargo is None:
        raise RouterBuildError("cargo not found on PATH: install a Rust toolchain (rustup or the Debian cargo package)")
    return cargo


def _build_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["APOLLO_TELEMETRY_DISABLED"] = "true"
    # Plain log lines keep the `Compiling` count and the log file readable.
    env["CARGO_TERM_COLOR"] = "never"
    return env


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(log not readable)"


def build_router(
    settings: PlatformSettings | None = None,
    progress: Progress = _print_progress,
    *,
    progress_interval_s: float = 30.0,
) -> Path:
    """Build the configured router version with ``cargo install`` unless it exists; return the binary.

    Raises RouterBuildError when protoc or cargo is missing, when ``settings.router_binary`` names a
    file that does not exist, or when cargo fails (the message includes the end of the build log).
    """
    settings = settings or get_settings()
    binary = router_binary_path(settings)
    if settings.router_binary is not None and _is_executable(binary):
        progress(f"router build: skipped, LABS64_ROUTER_BINARY names an existing binary: {binary}")
        return binary
    if _is_executable(binary):
        progress(f"router {settings.router_version} is already built: {binary}")
        return binary
    if settings.router_binary is not None:
        raise RouterBuildError(
            f"router binary {binary} (LABS64_ROUTER_BINARY) not found or not executable; "
            "fix the path, or unset LABS64_ROUTER_BINARY to build the router into the cache"
        )

    cargo = _check_build_tools()
    cache_dir = _router_cache_dir(settings)
    with _exclusive_build_lock(cache_dir, progress):
        # A build that held the lock before us may have installed the binary meanwhile.
        if _is_executable(binary):
            progress(f"router {settings.router_version} is already built: {binary}")
            return binary
        _run_cargo_install(cargo, settings, progress, progress_interval_s)

    if not _is_executable(binary):
        raise RouterBuildError(
            f"cargo install finished but {binary} does not exist; see {router_build_log_path(settings)}"
        )
    progress(f"router build: done: {binary}")
    return binary


def _run_cargo_install(cargo: str, settings: PlatformSettings, progress: Progress, progress_interval_s: float) -> None:
    version = settings.router_version
    cache_dir = _router_cache_dir(settings)
    log_path = router_build_log_path(settings)
    # These exact paths let a later build reuse the compiled dependencies of an earlier one.
    command = [
        cargo,
        "install",
        "--locked",
        "apollo-router",
        "--version",
        version,
        "--root",
        str(router_install_root(settings)),
        "--target-dir",
        str(cache_dir / "target"),
    ]

    # The log is appended to, not truncated, so the output of earlier attempts stays readable.
    # Only lines written after `start_offset` count towards this build's progress.
    with open(log_path, "ab") as log_file:
        start_offset = log_file.tell()
        log_file.write(f"\n$ {' '.join(command)}\n".encode())
        log_file.flush()
        progress(
            f"router build: cargo install apollo-router {version} (log: {log_path}); a first build takes tens of minutes"
        )

        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=_build_environment())
        try:
            next_report = started + progress_interval_s
            while process.poll() is None:
                time.sleep(1.0)
                if time.monotonic() >= next_report:
                    next_report += progress_interval_s
                    progress(_progress_line(log_path, start_offset, version, started))
        except BaseException:
            # Ctrl-C or any other error must not leave a cargo build running in the background.
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise

    if process.returncode != 0:
        raise RouterBuildError(
            f"cargo install apollo-router {version} failed with exit status {process.returncode}. "
            f"End of {log_path}:\n{_tail(log_path)}"
        )


def _count_compiled(log_path: Path, start_offset: int) -> int:
    with open(log_path, "rb") as log_file:
        log_file.seek(start_offset)
        return len(_COMPILING_LINE.findall(log_file.read()))


def _progress_line(log_path: Path, start_offset: int, version: str, started: float) -> str:
    compiled = _count_compiled(log_path, start_offset)
    # Cargo unpacks the crate, with its Cargo.lock, only after the build starts, so look again each time.
    total, counted = estimate_crate_count(version)
    total = max(total, compiled)
    # Some locked packages only build on other platforms, so the count may stop short of the total.
    # Progress shows at most 99 % so that it never reports a finished build before cargo exits.
    percent = min(99, compiled * 100 // total)
    minutes = int((time.monotonic() - started) // 60)
    approximate = "" if counted else "~"
    return f"router build: {compiled}/{approximate}{total} crates ({percent}%), {minutes} min elapsed"
