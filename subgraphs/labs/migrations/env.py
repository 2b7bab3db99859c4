"""Alembic environment of the labs module."""

from alembic import context

from subgraphs.kit.migrations import run_env
from subgraphs.labs.models import LabsModel

run_env(context, LabsModel.metadata)
