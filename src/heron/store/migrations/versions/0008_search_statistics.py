"""search statistics: PostgreSQL learns that a key/value pair's value depends on its key

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:20:00.000000

PostgreSQL estimates ``key = 'model' AND value = 'a'`` on params as the product of the
two selectivities, though 'a' only ever occurs under 'model': over 10,000 runs it
expected 241 matching runs where there were 2,532, and chose a plan that joins every
candidate run (26 ms). Multivariate statistics (the most common pairs, and the
functional dependency) on each key/value table correct the estimate; with them the
search of benchmarks (d) walks the ordering metric's index and stops after the page
(5 ms). SQLite has no such statistics, and its planner does not need them here.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (statistics name, table): the tables that search filters as key/value pairs.
_KEY_VALUE_TABLES = (
    ("st_params_key_value", "params"),
    ("st_run_tags_key_value", "run_tags"),
    ("st_latest_metrics_key_value", "latest_metrics"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in _KEY_VALUE_TABLES:
        op.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} (mcv, dependencies) ON key, value FROM {table}"
        )
        # Fill them now for an existing database; autovacuum's ANALYZE keeps them fresh.
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table in _KEY_VALUE_TABLES:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
