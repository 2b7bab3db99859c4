"""Alembic environment of the billing module."""

from alembic import context

from subgraphs.billing.models import BillingModel
from subgraphs.kit.migrations import run_env

run_env(context, BillingModel.metadata)
