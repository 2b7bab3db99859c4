"""Seed loading of the billing module, against a fake engine that records each INSERT.

PostgreSQL behaviour, such as constraint checks, needs a real database and is not tested here.
These tests pin what the loader sends: row counts, chunk sizes, insert order, one transaction
and full column sets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from labs64.dataset import Dataset, build_dataset
from subgraphs.billing.models import BillingModel
from subgraphs.billing.seed import CHUNK_SIZE, load_seed


@dataclass
class _Insert:
    table: str
    rows: list[dict[str, Any]]


@dataclass
class _RecordingConnection:
    inserts: list[_Insert] = field(default_factory=list)

    async def execute(self, statement: Any, parameters: Sequence[dict[str, Any]]) -> None:
        self.inserts.append(_Insert(statement.table.name, list(parameters)))


@dataclass
class _RecordingEngine:
    connection: _RecordingConnection = field(default_factory=_RecordingConnection)
    transactions: int = 0

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[_RecordingConnection]:
        self.transactions += 1
        yield self.connection


@dataclass
class _RecordingDatabase:
    engine: _RecordingEngine = field(default_factory=_RecordingEngine)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    # 300 users give 6,000 invoices, which is more than one chunk, and build in well under a second.
    return build_dataset(users=300, organisations=5, experiments=600)


async def _load(dataset: Dataset) -> tuple[dict[str, int], _RecordingDatabase]:
    database = _RecordingDatabase()
    counts = await load_seed(database, dataset)  # type: ignore[arg-type]
    return counts, database


async def test_seed_counts_rows(dataset: Dataset) -> None:
    counts, _ = await _load(dataset)

    assert counts == {
        "plan": len(dataset.plans),
        "subscription": len(dataset.subscriptions),
        "invoice": len(dataset.invoices),
        "invoice_line": sum(len(invoice.lines) for invoice in dataset.invoices),
    }


async def test_seed_uses_one_transaction(dataset: Dataset) -> None:
    _, database = await _load(dataset)

    assert database.engine.transactions == 1


async def test_seed_inserts_parents_first(dataset: Dataset) -> None:
    _, database = await _load(dataset)

    order = [insert.table for insert in database.engine.connection.inserts]
    first_seen = list(dict.fromkeys(order))
    assert first_seen == ["plan", "subscription", "invoice", "invoice_line"]


async def test_seed_chunks_large_tables(dataset: Dataset) -> None:
    _, database = await _load(dataset)

    invoice_chunks = [len(insert.rows) for insert in database.engine.connection.inserts if insert.table == "invoice"]
    assert invoice_chunks == [CHUNK_SIZE, len(dataset.invoices) - CHUNK_SIZE]
    assert all(len(insert.rows) <= CHUNK_SIZE for insert in database.engine.connection.inserts)


async def test_seed_rows_fill_every_column(dataset: Dataset) -> None:
    _, database = await _load(dataset)

    for insert in database.engine.connection.inserts:
        columns = set(BillingModel.metadata.tables[insert.table].columns.keys())
        for row in insert.rows:
            assert set(row) == columns, f"row of {insert.table} has columns {sorted(row)}"


async def test_seed_keeps_experiment_links(dataset: Dataset) -> None:
    _, database = await _load(dataset)

    lines = [row for insert in database.engine.connection.inserts if insert.table == "invoice_line" for row in insert.rows]
    linked = {row["experiment_id"] for row in lines if row["experiment_id"] is not None}
    finished = {experiment.id for experiment in dataset.experiments if experiment.finished_at is not None}
    assert linked
    assert linked <= finished
