"""Create experiments.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False),
        sa.Column("result_summary", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'running', 'completed', 'failed')", name="ck_experiment_status"),
    )
    op.create_index("ix_experiment_owner_id", "experiment", ["owner_id", "created_at", "id"])
    op.create_index("ix_experiment_created_at", "experiment", ["created_at", "id"])
    # Membership lookups ("experiments this user is a member of") use array containment.
    op.create_index("ix_experiment_member_ids", "experiment", ["member_ids"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("experiment")
