"""Create the schema registry: published supergraph versions and each subgraph's SDL in them.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), sa.Identity(always=True), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("supergraph_sdl", sa.Text(), nullable=False),
        sa.Column("supergraph_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "subgraph_schema",
        sa.Column("version", sa.Integer(), sa.ForeignKey("schema_version.version", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("routing_url", sa.Text(), nullable=False),
        sa.Column("sdl", sa.Text(), nullable=False),
        sa.Column("sdl_sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subgraph_schema")
    op.drop_table("schema_version")
