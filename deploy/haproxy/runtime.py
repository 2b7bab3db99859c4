"""Client of HAProxy's runtime API on its admin stats socket."""

from __future__ import annotations

import csv
import io
import socket
from dataclasses import dataclass
from pathlib import Path

from labs64.errors import PlatformError

__all__ = ["HAProxyRuntime", "RuntimeAPIError", "ServerState"]


class RuntimeAPIError(PlatformError):
    """HAProxy's runtime API was unreachable or rejected a command."""


@dataclass(frozen=True)
class ServerState:
    """One server line of ``show stat``: its health status, admin state and open connections."""

    backend: str
    name: str
    status: str
    current_sessions: int

    @property
    def up(self) -> bool:
        return self.status == "UP"


class HAProxyRuntime:
    """Send runtime API commands (one per connection) to the socket at ``socket_path``."""

    def __init__(self, socket_path: Path, timeout_s: float = 5.0) -> None:
        self.socket_path = Path(socket_path)
        self.timeout_s = timeout_s

    def command(self, line: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(self.timeout_s)
                connection.connect(str(self.socket_path))
                connection.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
        except OSError as error:
            raise RuntimeAPIError(
                f"HAProxy runtime API at {self.socket_path} failed for {line!r}: {error}; is HAProxy running?"
            ) from error
        return b"".join(chunks).decode()

    def set_server_state(self, backend: str, server: str, state: str) -> None:
        """Set a server's admin state: ``ready``, ``drain`` (no new requests) or ``maint``."""
        reply = self.command(f"set server {backend}/{server} state {state}").strip()
        # The command prints nothing on success and a sentence on failure.
        if reply:
            raise RuntimeAPIError(f"HAProxy rejected `set server {backend}/{server} state {state}`: {reply}")

    def servers(self, backend: str) -> dict[str, ServerState]:
        """Every server of ``backend`` by name, from ``show stat``."""
        text = self.command("show stat").lstrip("# ")
        states = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") != backend or row.get("svname") in ("FRONTEND", "BACKEND"):
                continue
            states[row["svname"]] = ServerState(backend, row["svname"], row["status"], int(row["scur"] or 0))
        return states
