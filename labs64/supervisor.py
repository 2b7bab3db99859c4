"""Process management through supervisord: one program per platform component.

supervisord starts, stops and restarts the processes and collects their logs; this module writes
its configuration and talks to it over XML-RPC on a Unix socket in the platform's run directory.
"""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from labs64.errors import PlatformError
from labs64.settings import PlatformSettings

__all__ = ["Program", "Supervisor"]


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    directory: Path | None = None
    priority: int = 100
    stop_signal: str = "TERM"
    stop_wait_s: int = 15


class Supervisor:
    """A supervisord instance owned by one platform data directory."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self.config_path = settings.run_dir / "supervisord.conf"
        self.socket_path = settings.run_dir / "supervisor.sock"
        self.pid_path = settings.run_dir / "supervisord.pid"

    def log_path(self, program: str) -> Path:
        return self.settings.log_dir / f"{program}.log"

    def write_config(self, programs: list[Program]) -> None:
        parser = configparser.RawConfigParser()
        parser["unix_http_server"] = {"file": str(self.socket_path), "chmod": "0700"}
        parser["supervisord"] = {
            "logfile": str(self.settings.log_dir / "supervisord.log"),
            "pidfile": str(self.pid_path),
            "childlogdir": str(self.settings.log_dir),
            "nodaemon": "false",
            "silent": "true",
        }
        parser["rpcinterface:supervisor"] = {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
        }
        parser["supervisorctl"] = {"serverurl": f"unix://{self.socket_path}"}
        for program in programs:
            section = {
                "command": shlex.join(program.command),
                # Components start in dependency order under `up`, which waits for each health
                # check; supervisord itself only keeps them running.
                "autostart": "false",
                "autorestart": "unexpected",
                "startsecs": "1",
                "priority": str(program.priority),
                "stopsignal": program.stop_signal,
                "stopwaitsecs": str(program.stop_wait_s),
                "stopasgroup": "true",
                "killasgroup": "true",
                "redirect_stderr": "true",
                "stdout_logfile": str(self.log_path(program.name)),
                "stdout_logfile_maxbytes": "20MB",
                "stdout_logfile_backups": "2",
            }
            if program.environment:
                section["environment"] = ",".join(f'{key}="{_escape(value)}"' for key, value in program.environment.items())
            if program.user:
                section["user"] = program.user
            if program.directory:
                section["directory"] = str(program.directory)
            parser[f"program:{program.name}"] = section

        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.config_path.with_suffix(".tmp")
        # Program environments carry secrets (Fief's admin API key), so only the owner may read the file.
        temporary.unlink(missing_ok=True)
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            parser.write(handle)
        temporary.replace(self.config_path)

    def rpc(self) -> Any:
        transport = SupervisorTransport(None, None, serverurl=f"unix://{self.socket_path}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self) -> int | None:
        """PID of the running supervisord, or None when it is not running."""
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def is_running(self) -> bool:
        if self.pid() is None or not self.socket_path.exists():
            return False
        try:
            return self.rpc().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    def start(self) -> None:
        """Start supervisord as a daemon, or make a running one load the current configuration."""
        if self.is_running():
            self._apply_config_changes()
            return

        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        supervisord = Path(sys.executable).parent / "supervisord"
        result = subprocess.run([str(supervisord), "-c", str(self.config_path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise PlatformError(f"supervisord failed to start (exit {result.returncode}): {result.stderr.strip()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.is_running():
                return
            time.sleep(0.1)
        raise PlatformError(f"supervisord did not come up within 15 s; see {self.settings.log_dir / 'supervisord.log'}")

    def _apply_config_changes(self) -> None:
        rpc = self.rpc()
        added, changed, removed = rpc.reloadConfig()[0]
        for name in removed + changed:
            rpc.stopProcessGroup(name)
            rpc.removeProcessGroup(name)
        for name in added + changed:
            rpc.addProcessGroup(name)

    def start_program(self, name: str) -> None:
        try:
            self.rpc().startProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" in fault.faultString:
                return
            # The log usually names the cause (a port in use, a bad setting), so its tail goes into
            # the message: a test run may delete the data directory before anyone reads the file.
            raise PlatformError(
                f"{name} failed to start ({fault.faultString}); the last lines of {self.log_path(name)}:\n"
                f"{self._log_tail(name)}\nSee the whole log with `labs64 logs {name}`."
            ) from fault

    def _log_tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self.log_path(name).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            return f"  (log not readable: {error})"
        tail = text.splitlines()[-lines:]
        return "\n".join(f"  {line}" for line in tail) if tail else "  (log is empty)"

    def stop_program(self, name: str) -> None:
        try:
            self.rpc().stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise PlatformError(f"{name} failed to stop: {fault.faultString}") from fault

    def process_info(self) -> list[dict[str, Any]]:
        return list(self.rpc().getAllProcessInfo())

    def shutdown(self, timeout_s: float = 60.0) -> bool:
        """Stop every program and supervisord itself; return False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            self.rpc().shutdown()
        except (OSError, xmlrpc.client.Fault):
            # The socket is gone but the process is alive: ask it by its own PID.
            os.kill(pid, 15)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        raise PlatformError(f"supervisord (pid {pid}) still running after {timeout_s:.0f} s; see {self.settings.log_dir / 'supervisord.log'}")


def _escape(value: str) -> str:
    return value.replace("%", "%%").replace('"', '\\"')
