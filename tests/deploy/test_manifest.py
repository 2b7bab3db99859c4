"""The persisted operation manifest built from deploy/edge/operations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from deploy.edge.manifest import MANIFEST_PATH, ManifestError, build_manifest, load_operations, write_manifest


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text)


def test_committed_manifest_is_current(tmp_path: Path) -> None:
    fresh = write_manifest(path=tmp_path / "manifest.json")

    assert json.loads(MANIFEST_PATH.read_text()) == fresh


def test_id_is_sha256_of_document(tmp_path: Path) -> None:
    _write(tmp_path, "plans.graphql", "# cache: 60\nquery Plans { plans { code } }\n")

    [operation] = load_operations(tmp_path)
    entry = build_manifest([operation])["operations"][operation.id]  # type: ignore[index]

    assert operation.id == hashlib.sha256(b"query Plans { plans { code } }\n").hexdigest()
    assert entry == {"name": "Plans", "type": "query", "document": "query Plans { plans { code } }\n", "cacheSeconds": 60}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("query Plans { plans { code } }\n", "first line must be `# cache: SECONDS`"),
        ("# cache: soon\nquery Plans { plans { code } }\n", "invalid cache lifetime 'soon'"),
        ("# cache: 60\n{ plans { code } }\n", "exactly one named operation"),
        ("# cache: 60\nquery A { plans { code } } query B { plans { code } }\n", "exactly one named operation"),
        ("# cache: 60\nmutation M { changePlan }\n", "only queries may be cached"),
        ("# cache: 60\nquery Plans { plans { code }\n", "Expected Name"),
    ],
)
def test_invalid_operation_rejected(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "bad.graphql", text)

    with pytest.raises(ManifestError, match="bad.graphql") as error:
        load_operations(tmp_path)

    assert message in str(error.value)


def test_duplicate_name_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "a.graphql", "# cache: 0\nquery Plans { plans { code } }\n")
    _write(tmp_path, "b.graphql", "# cache: 0\nquery Plans { plans { name } }\n")

    with pytest.raises(ManifestError, match="defined twice"):
        load_operations(tmp_path)
