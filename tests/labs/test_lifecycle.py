"""Experiment lifecycle rules, checked without a database."""

from __future__ import annotations

import uuid

import pytest

from subgraphs.labs.models import ExperimentRecord
from subgraphs.labs.schema import CreateExperimentInput, ExperimentStatus, TransitionExperimentInput, _validate_new_experiment, _validate_transition


def _record(status: str) -> ExperimentRecord:
    return ExperimentRecord(owner_id=uuid.uuid4(), title="t", status=status)


@pytest.mark.parametrize(
    ("current", "target"),
    [("draft", ExperimentStatus.RUNNING), ("running", ExperimentStatus.COMPLETED), ("running", ExperimentStatus.FAILED)],
)
def test_allowed_transitions_pass(current: str, target: ExperimentStatus) -> None:
    data = TransitionExperimentInput(id="x", status=target, result_summary="done")

    assert _validate_transition(_record(current), data) is None


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", ExperimentStatus.COMPLETED),
        ("draft", ExperimentStatus.FAILED),
        ("running", ExperimentStatus.DRAFT),
        ("completed", ExperimentStatus.RUNNING),
        ("failed", ExperimentStatus.COMPLETED),
        ("draft", ExperimentStatus.ARCHIVED),
        ("completed", ExperimentStatus.ARCHIVED),
        ("archived", ExperimentStatus.RUNNING),
    ],
)
def test_forbidden_transitions_rejected(current: str, target: ExperimentStatus) -> None:
    error = _validate_transition(_record(current), TransitionExperimentInput(id="x", status=target, result_summary="s"))

    assert error is not None
    assert error.code == "INVALID_TRANSITION"
    assert target.name in error.message


def test_completion_needs_summary() -> None:
    error = _validate_transition(_record("running"), TransitionExperimentInput(id="x", status=ExperimentStatus.COMPLETED))

    assert error is not None
    assert error.field == "resultSummary"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner_id": "42"}, "ownerId"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"parameters": [1, 2]}, "parameters"),
        ({"member_ids": ["not-a-uuid"]}, "memberIds"),
    ],
)
def test_invalid_new_experiment_rejected(changes: dict, field: str) -> None:
    values = {"owner_id": str(uuid.uuid4()), "title": "Catalyst yield", "parameters": {}, "member_ids": []} | changes

    error = _validate_new_experiment(CreateExperimentInput(**values))

    assert error is not None
    assert error.field == field
