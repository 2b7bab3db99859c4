"""Supergraph composition: collect each subgraph's SDL from code and compose it with Apollo's library.

Composition runs ``composition/compose.mjs`` under Node.js, because ``@apollo/composition`` (the
library rover uses) exists only for JavaScript. The Node process reads the subgraphs as JSON on
stdin and writes the supergraph or the composition errors as JSON on stdout.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labs64.settings import SUBGRAPH_NAMES, PlatformSettings, get_settings

__all__ = [
    "COMPOSITION_DIR",
    "CompositionError",
    "CompositionFailed",
    "CompositionHint",
    "CompositionResult",
    "CompositionToolError",
    "SubgraphSource",
    "collect_subgraphs",
    "compose",
    "ensure_composition_packages",
    "load_subgraph_sdl",
    "write_supergraph",
    "write_text_atomic",
]

#: Folder of the Node.js composition tool (package.json, package-lock.json, compose.mjs).
COMPOSITION_DIR = Path(__file__).resolve().parent / "composition"

_COMPOSE_SCRIPT = COMPOSITION_DIR / "compose.mjs"

# The tool is installed once these packages exist. Checking them instead of the node_modules folder
# alone also catches an `npm ci` that was interrupted halfway.
_REQUIRED_PACKAGES = ("@apollo/composition", "graphql")

# Composing a few small subgraphs takes about a second in a fresh Node process. The limits leave
# room for large schemas and a slow first start, and still end a hung process.
_COMPOSE_TIMEOUT_S = 120.0
_NPM_CI_TIMEOUT_S = 600.0

Progress = Callable[[str], None]


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SubgraphSource:
    """One subgraph as input to composition: its name, routing URL and SDL."""

    name: str
    url: str
    sdl: str


@dataclass(frozen=True)
class CompositionError:
    """A composition error, located at the first AST node it names (when it names one)."""

    code: str | None
    message: str
    subgraph: str | None = None
    line: int | None = None
    column: int | None = None
    #: Every (subgraph, line, column) the error points at; the fields above repeat the first one.
    locations: tuple[tuple[str, int, int], ...] = ()

    def __str__(self) -> str:
        parts = [self.code or "UNKNOWN"]
        parts.extend(f"[{subgraph}:{line}:{column}]" for subgraph, line, column in self.locations)
        parts.append(self.message)
        return " ".join(parts)


@dataclass(frozen=True)
class CompositionHint:
    """A composition hint: the supergraph was built, but something in it may not be intended."""

    code: str
    message: str


@dataclass(frozen=True)
class CompositionResult:
    """The outcome of one composition: a supergraph SDL, or the errors that prevented it."""

    supergraph_sdl: str | None
    errors: tuple[CompositionError, ...] = ()
    hints: tuple[CompositionHint, ...] = ()

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None and not self.errors

    def require_supergraph_sdl(self) -> str:
        """Return the supergraph SDL, or raise CompositionFailed with the errors."""
        if not self.ok:
            raise CompositionFailed(self.errors)
        assert self.supergraph_sdl is not None
        return self.supergraph_sdl


class CompositionFailed(Exception):
    """The subgraphs do not compose; ``errors`` lists why."""

    def __init__(self, errors: Sequence[CompositionError]) -> None:
        self.errors = tuple(errors)
        lines = [f"composition failed with {len(self.errors)} error(s):"]
        lines.extend(f"  {error}" for error in self.errors)
        super().__init__("\n".join(lines))


class CompositionToolError(RuntimeError):
    """The composition tool itself failed: Node.js or npm is missing, or compose.mjs crashed."""


def load_subgraph_sdl(name: str) -> str:
    """Import ``subgraphs.<name>.schema`` and return the SDL of its module-level ``schema``.

    Only the module is imported, so no server, database connection or event loop is started as
    long as the module itself does not start one at import time.
    """
    if not name.isidentifier():
        raise ValueError(f"invalid subgraph name {name!r}: expected a Python identifier such as 'users'")

    # Imported here so that importing this module stays cheap for commands that never compose.
    from strawberry.federation import Schema as FederationSchema

    module_name = f"subgraphs.{name}.schema"
    module = importlib.import_module(module_name)
    schema = getattr(module, "schema", None)
    if schema is None:
        raise AttributeError(f"{module_name} has no module-level 'schema' object to compose")
    if not isinstance(schema, FederationSchema):
        raise TypeError(
            f"{module_name}.schema is a {type(schema).__module__}.{type(schema).__qualname__}, "
            "expected a strawberry.federation.Schema"
        )
    return schema.as_str()


def collect_subgraphs(settings: PlatformSettings | None = None) -> list[SubgraphSource]:
    """Load the SDL of every platform subgraph, in composition order, with its routing URL."""
    settings = settings or get_settings()
    return [
        SubgraphSource(name=name, url=settings.subgraph_url(name), sdl=load_subgraph_sdl(name))
        for name in SUBGRAPH_NAMES
    ]


def _composition_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Apollo tools send anonymous usage data unless APOLLO_TELEMETRY_DISABLED is set, and the
    # platform must stay offline.
    env["APOLLO_TELEMETRY_DISABLED"] = "true"
    for name in ("APOLLO_KEY", "APOLLO_GRAPH_REF"):
        env.pop(name, None)
    return env


def _composition_packages_installed(directory: Path) -> bool:
    return all((directory / "node_modules" / package / "package.json").is_file() for package in _REQUIRED_PACKAGES)


def ensure_composition_packages(progress: Progress = _print_progress) -> None:
    """Run ``npm ci`` in the composition folder unless its packages are already installed."""
    if _composition_packages_installed(COMPOSITION_DIR):
        return

    npm = shutil.which("npm")
    if npm is None:
        raise CompositionToolError(
            "npm not found on PATH: composition needs Node.js 20 with npm to install @apollo/composition"
        )

    # Two processes (for example parallel test workers) could otherwise run `npm ci` into the same
    # folder at once. The lock lives in the temporary directory so the repository gets no stray file.
    digest = hashlib.sha256(str(COMPOSITION_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"labs64-npm-ci-{digest}.lock"
    with open(lock_path, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if _composition_packages_installed(COMPOSITION_DIR):
            return
        progress(f"schema: installing the composition packages (npm ci in {COMPOSITION_DIR}) ...")
        try:
            completed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=COMPOSITION_DIR,
                env=_composition_environment(),
                capture_output=True,
                text=True,
                timeout=_NPM_CI_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise CompositionToolError(
                f"npm ci in {COMPOSITION_DIR} timed out after {_NPM_CI_TIMEOUT_S:.0f} s"
            ) from error
        if completed.returncode != 0:
            raise CompositionToolError(
                f"npm ci in {COMPOSITION_DIR} failed with exit status {completed.returncode}:\n"
                f"{completed.stdout}{completed.stderr}"
            )


def _parse_error(raw: dict) -> CompositionError:
    locations = tuple(
        (str(location["subgraph"]), int(location["line"]), int(location["column"]))
        for location in raw.get("locations") or ()
    )
    first = locations[0] if locations else (None, None, None)
    return CompositionError(
        code=raw.get("code"),
        message=str(raw.get("message", "")),
        subgraph=first[0],
        line=first[1],
        column=first[2],
        locations=locations,
    )


def compose(sources: Iterable[SubgraphSource], progress: Progress = _print_progress) -> CompositionResult:
    """Compose the subgraphs with ``@apollo/composition`` in a Node.js process.

    Composition errors come back in the result; call ``require_supergraph_sdl()`` to turn them into
    CompositionFailed. CompositionToolError means the tool itself could not run.
    """
    sources = list(sources)
    if not sources:
        raise ValueError("compose() needs at least one subgraph")
    names = [source.name for source in sources]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate subgraph names: {', '.join(duplicates)}")

    node = shutil.which("node")
    if node is None:
        raise CompositionToolError("node not found on PATH: composition needs Node.js 20")
    ensure_composition_packages(progress)

    request = {"subgraphs": [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in sources]}
    try:
        completed = subprocess.run(
            [node, str(_COMPOSE_SCRIPT)],
            cwd=COMPOSITION_DIR,
            env=_composition_environment(),
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=_COMPOSE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise CompositionToolError(f"{_COMPOSE_SCRIPT} timed out after {_COMPOSE_TIMEOUT_S:.0f} s") from error
    if completed.returncode != 0:
        raise CompositionToolError(
            f"{_COMPOSE_SCRIPT} failed with exit status {completed.returncode}:\n{completed.stderr.strip()}"
        )

    try:
        output = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise CompositionToolError(f"{_COMPOSE_SCRIPT} wrote invalid JSON: {completed.stdout[:500]!r}") from error

    if output.get("errors"):
        return CompositionResult(supergraph_sdl=None, errors=tuple(_parse_error(raw) for raw in output["errors"]))
    if not isinstance(output.get("supergraphSdl"), str):
        raise CompositionToolError(
            f"{_COMPOSE_SCRIPT} returned neither a supergraph nor errors: {completed.stdout[:500]!r}"
        )
    hints = tuple(
        CompositionHint(code=str(hint.get("code")), message=str(hint.get("message")))
        for hint in output.get("hints", ())
    )
    return CompositionResult(supergraph_sdl=output["supergraphSdl"], hints=hints)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see either the old or the new file, never a part.

    The text goes to a temporary file in the same directory (``os.replace`` is atomic only within one
    file system), is flushed to disk, and then renamed over ``path``. On any error the temporary file
    is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    file_descriptor, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(file_descriptor, "w", encoding="utf-8") as temporary_file:
            temporary_file.write(text)
            temporary_file.flush()
            os.fsync(temporary_file.fileno())
        # mkstemp creates the file readable by its owner only; a generated file should read like
        # any other file in the repository.
        os.chmod(temporary_name, 0o644)
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise


def write_supergraph(sdl: str, path: Path | None = None) -> Path:
    """Write the supergraph SDL atomically (default: ``settings.supergraph_path``) and return the path.

    A router started with ``--hot-reload`` watches this file, so it must only ever see whole files.
    """
    if not sdl.strip():
        raise ValueError("the supergraph SDL is empty, so there is nothing to write")
    path = Path(path) if path is not None else get_settings().supergraph_path
    text = sdl if sdl.endswith("\n") else sdl + "\n"
    write_text_atomic(path, text)
    return path
