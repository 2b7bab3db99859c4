"""Load the labs part of the seed data set."""

from __future__ import annotations

from sqlalchemy import insert

from labs64.dataset import Dataset
from subgraphs.kit import Database
from subgraphs.labs.models import ExperimentRecord

__all__ = ["load_seed"]

CHUNK = 5_000


async def load_seed(database: Database, dataset: Dataset) -> dict[str, int]:
    """Insert experiments in one transaction; the table must be empty."""
    rows = [
        {
            "id": experiment.id,
            "owner_id": experiment.owner_id,
            "member_ids": experiment.member_ids,
            "title": experiment.title,
            "status": experiment.status,
            "parameters": experiment.parameters,
            "result_summary": experiment.result_summary,
            "created_at": experiment.created_at,
            "updated_at": experiment.finished_at or experiment.started_at or experiment.created_at,
            "started_at": experiment.started_at,
            "finished_at": experiment.finished_at,
        }
        for experiment in dataset.experiments
    ]
    async with database.session() as session:
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(ExperimentRecord), rows[start : start + CHUNK])
        await session.commit()
    return {"experiment": len(rows)}
