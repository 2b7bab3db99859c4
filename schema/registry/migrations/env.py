"""Alembic environment of the schema registry."""

from alembic import context
from sqlalchemy import MetaData

from subgraphs.kit.migrations import run_env

# The registry's tables are created by its migrations alone; there is no ORM model to compare with.
run_env(context, MetaData())
