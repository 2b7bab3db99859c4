"""Load the users part of the seed data set."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert

from labs64.dataset import Dataset
from subgraphs.kit import Database
from subgraphs.users.models import OrganisationRecord, UserRecord

__all__ = ["load_seed"]


async def load_seed(database: Database, dataset: Dataset) -> dict[str, int]:
    """Insert organisations and users in one transaction; the tables must be empty."""
    async with database.session() as session:
        await session.execute(insert(OrganisationRecord), [asdict(org) for org in dataset.organisations])
        await session.execute(insert(UserRecord), [asdict(user) for user in dataset.users])
        await session.commit()
    return {"organisation": len(dataset.organisations), "user_profile": len(dataset.users)}
