"""Allow the ARCHIVED status and keep each user's experiment quota.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_experiment_status", "experiment", type_="check")
    op.create_check_constraint(
        "ck_experiment_status", "experiment", "status IN ('draft', 'running', 'completed', 'failed', 'archived')"
    )
    # Filled from billing's plan-changed events; a user without a row has no quota yet.
    op.create_table(
        "experiment_quota",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("plan_code", sa.String(50), nullable=False),
        sa.Column("max_experiments", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("experiment_quota")
    # The older schema has no status for archived experiments, so they become completed; the
    # status they had before archiving is not stored anywhere.
    op.execute("UPDATE experiment SET status = 'completed' WHERE status = 'archived'")
    op.drop_constraint("ck_experiment_status", "experiment", type_="check")
    op.create_check_constraint("ck_experiment_status", "experiment", "status IN ('draft', 'running', 'completed', 'failed')")
