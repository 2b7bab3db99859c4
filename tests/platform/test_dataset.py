"""The seed data set is deterministic and has the documented size."""

from __future__ import annotations

from labs64.dataset import build_dataset, seed_id


def test_dataset_sizes() -> None:
    dataset = build_dataset()

    assert len(dataset.organisations) == 50
    assert len(dataset.users) == 1_000
    assert len(dataset.experiments) == 10_000
    assert len(dataset.invoices) == 20_000


def test_dataset_is_deterministic() -> None:
    first, second = build_dataset(users=40, organisations=4, experiments=200), build_dataset(users=40, organisations=4, experiments=200)

    assert first == second
    assert first.users[7].id == seed_id("user", 7)


def test_experiment_references_are_consistent() -> None:
    dataset = build_dataset(users=40, organisations=4, experiments=200)
    user_ids = {user.id for user in dataset.users}
    org_of = {user.id: user.organisation_id for user in dataset.users}

    for experiment in dataset.experiments:
        assert experiment.owner_id in user_ids
        assert experiment.owner_id not in experiment.member_ids
        assert all(org_of[member] == org_of[experiment.owner_id] for member in experiment.member_ids)


def test_usage_lines_point_to_finished_experiments() -> None:
    dataset = build_dataset(users=40, organisations=4, experiments=400)
    finished = {e.id for e in dataset.experiments if e.finished_at is not None}

    lines = [line for invoice in dataset.invoices for line in invoice.lines if line.experiment_id is not None]

    assert lines
    assert all(line.experiment_id in finished for line in lines)
