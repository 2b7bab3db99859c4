"""Alembic environment of the users module."""

from alembic import context

from subgraphs.kit.migrations import run_env
from subgraphs.users.models import UsersModel

run_env(context, UsersModel.metadata)
