"""The hand-written billing migration creates exactly the tables and indexes of the models.

The migration runs in Alembic's offline mode, which renders SQL instead of executing it, so the
check needs no database. Both sides compile with the PostgreSQL dialect, and each statement is
compared after collapsing whitespace.
"""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from subgraphs.billing.app import PACKAGE_DIR
from subgraphs.billing.models import BillingModel

MIGRATION = PACKAGE_DIR / "migrations" / "versions" / "0001_initial.py"


def _normalise(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip().rstrip(";").strip()


def _run_offline(path: Path, step: str) -> set[str]:
    spec = importlib.util.spec_from_file_location("billing_migration_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    output = io.StringIO()
    context = MigrationContext.configure(dialect_name="postgresql", opts={"as_sql": True, "output_buffer": output})
    with Operations.context(context):
        getattr(module, step)()
    return {_normalise(statement) for statement in output.getvalue().split(";") if statement.strip()}


def _model_statements() -> set[str]:
    dialect = postgresql.dialect()
    statements = set()
    for table in BillingModel.metadata.sorted_tables:
        statements.add(_normalise(str(CreateTable(table).compile(dialect=dialect))))
        for index in table.indexes:
            statements.add(_normalise(str(CreateIndex(index).compile(dialect=dialect))))
    return statements


def test_migration_creates_model_schema() -> None:
    migration = _run_offline(MIGRATION, "upgrade")
    models = _model_statements()

    assert migration - models == set(), "statements in the migration but not in the models"
    assert models - migration == set(), "statements in the models but not in the migration"


def test_migration_has_partial_unique_index() -> None:
    statements = _run_offline(MIGRATION, "upgrade")

    assert "CREATE UNIQUE INDEX uq_subscription_active_user ON subscription (user_id) WHERE status = 'active'" in statements


def test_migration_indexes_pagination_order() -> None:
    statements = _run_offline(MIGRATION, "upgrade")

    for table in ("plan", "subscription", "invoice", "invoice_line"):
        assert f"CREATE INDEX ix_{table}_created_at ON {table} (created_at, id)" in statements


def test_downgrade_drops_every_table() -> None:
    statements = _run_offline(MIGRATION, "downgrade")

    assert statements == {f"DROP TABLE {table}" for table in BillingModel.metadata.tables}
